#include "cli/cdr_command.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/config_load.hpp"
#include "config/config.hpp"
#include "core/instant.hpp"
#include "gateway/message_ids.hpp"
#include "store/cdr_export.hpp"

namespace smppd::cli {

namespace {

struct CdrArgs {
  CLI::App* cdr = nullptr;
  CLI::App* export_ = nullptr;
  std::string* config_path = nullptr;
  std::string from;
  std::string to;
  std::string format;
  std::string client;
  std::string output;
};

CdrArgs& args() {
  static CdrArgs a;
  return a;
}

std::string iso(int64_t ms) {
  return format_instant(UtcMillis(std::chrono::milliseconds(ms)), true);
}

int usage(const std::string& message) {
  std::fprintf(stderr, "smppd cdr export: %s\n", message.c_str());
  return 2;
}

int run_export() {
  const CdrArgs& a = args();
  if (a.from.empty()) return usage("--from is required (e.g. --from 2025-12-01)");
  if (a.to.empty()) return usage("--to is required (e.g. --to 2025-12-27)");
  const auto from = store::parse_period_start(a.from);
  if (!from) {
    return usage("--from: invalid date '" + a.from +
                 "' (expected 2025-12-01 or 2025-12-01T10:00:00Z)");
  }
  const auto to = store::parse_period_end(a.to);
  if (!to) {
    return usage("--to: invalid date '" + a.to + "' (expected 2025-12-27 or 2025-12-27T18:00:00Z)");
  }
  if (*to <= *from) {
    return usage("the period is empty: --to (" + iso(*to) + ") is not after --from (" + iso(*from) +
                 ")");
  }
  if (!a.format.empty() && a.format != "json" && a.format != "csv") {
    return usage("--format: '" + a.format + "' is neither json nor csv");
  }

  // The storage section, and the upstreams' tags written into each CDR.
  const auto loaded = load_config_for_command(*a.config_path);
  if (!loaded) return 2;
  const config::StorageConfig& storage = loaded->storage;
  if (storage.backend != config::StorageBackend::sqlite) {
    std::fprintf(stderr, "smppd cdr export: %s: storage.backend is not sqlite\n",
                 a.config_path->c_str());
    return 1;
  }

  store::CdrExportRequest request;
  request.database = storage.sqlite_path;
  request.from_ms = *from;
  request.to_ms = *to;
  request.client = a.client;
  request.format = a.format.empty()    ? storage.cdr_format
                   : a.format == "csv" ? config::CdrFormat::csv
                                       : config::CdrFormat::json;
  request.upstream_tags = [&config = *loaded](std::string_view upstream, store::UpstreamTags& out) {
    if (const config::UpstreamConfig* u = config.find_upstream(upstream)) {
      out.assign(u->tags.begin(), u->tags.end());
    }
  };
  const store::RenderMessageId render = [](uint64_t id, uint8_t client_version) {
    return gateway::render_message_id(id, smpp::version_from_interface(client_version));
  };

  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::fprintf(stderr, "smppd cdr export: cannot write %s: %s\n", a.output.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  std::ostream& out = a.output.empty() ? std::cout : file;
  const store::CdrExportResult result = store::export_cdrs(request, render, out);
  if (!result.ok()) {
    std::string message = result.message;
    if (result.error == store::CdrExportError::write_failed) {
      message += ": " + (a.output.empty() ? std::string("standard output") : a.output) + ": " +
                 std::strerror(errno);
    } else if (result.error == store::CdrExportError::no_database) {
      message += " (storage.sqlite.path in " + *a.config_path + ")";
    }
    std::fprintf(stderr, "smppd cdr export: %s\n", message.c_str());
    if (!a.output.empty()) {
      file.close();
      std::error_code ec;
      std::filesystem::remove(a.output, ec);
      std::fprintf(stderr, "smppd cdr export: %s removed (incomplete)\n", a.output.c_str());
    }
    return 1;
  }
  std::fprintf(stderr, "smppd cdr export: %llu CDR(s) done from %s to %s (excluded)%s%s from %s\n",
               static_cast<unsigned long long>(result.records), iso(*from).c_str(),
               iso(*to).c_str(), a.client.empty() ? "" : " of client ", a.client.c_str(),
               request.database.c_str());
  return 0;
}

}  // namespace

void add_cdr_command(CLI::App& app, std::string& config_path) {
  CdrArgs& a = args();
  a.config_path = &config_path;
  a.cdr = app.add_subcommand("cdr", "Call detail records");
  a.cdr->require_subcommand(1);
  a.export_ = a.cdr->add_subcommand(
      "export",
      "Write the CDRs of the messages whose outcome became final in a period, from the database "
      "of storage.sqlite.path (read-only; a running smppd may be using it)");
  a.export_->add_option("-c,--config", config_path, "Configuration file (YAML)");
  a.export_->add_option("--from", a.from,
                        "Start (required): a date, 2025-12-01 (its UTC midnight), or an instant, "
                        "2025-12-01T10:00:00Z");
  a.export_->add_option("--to", a.to,
                        "End (required): a date, 2025-12-27, includes that whole day (UTC); an "
                        "instant, 2025-12-27T18:00:00Z, is excluded");
  a.export_->add_option("--format", a.format,
                        "json (one object a line) or csv (default: storage.cdr.format)");
  a.export_->add_option("--client", a.client, "Only this client's (system_id) messages");
  a.export_->add_option("-o,--output", a.output, "Write to this file (default: standard output)");
}

std::optional<int> run_cdr_command(const CLI::App&) {
  const CdrArgs& a = args();
  if (a.cdr == nullptr || !a.cdr->parsed()) return std::nullopt;
  return run_export();
}

}  // namespace smppd::cli
