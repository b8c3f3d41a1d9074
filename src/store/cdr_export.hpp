// `smppd cdr export`: the CDRs of a period, read from the store's SQLite file. Read-only, and
// safe beside a running smppd (WAL: the export reads one consistent snapshot and never blocks
// the daemon's writes). Rows are streamed in done_at order through the messages_done index, so
// memory stays flat however long the period.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "store/cdr.hpp"

namespace smppd::store {

// smppd's id as its client was given it (gateway::render_message_id; the store does not depend
// on the gateway). client_version is the client's interface version as stored (0x33, 0x34, 0x50).
using RenderMessageId = std::function<std::string(uint64_t id, uint8_t client_version)>;

struct CdrExportRequest {
  std::string database;  // the SQLite file (storage.sqlite.path)
  int64_t from_ms = 0;   // messages with done_at in [from_ms, to_ms), ms since the epoch, UTC
  int64_t to_ms = 0;
  std::string client;  // only this client's messages; empty: every client's
  config::CdrFormat format = config::CdrFormat::json;
  // The upstreams' tags to write into each CDR (the configuration's, as it is now); empty: none.
  UpstreamTagsLookup upstream_tags;
};

enum class CdrExportError {
  none,
  no_database,         // no such file, or not a regular file
  not_smppd_database,  // not SQLite, or no messages table of smppd's
  newer_schema,        // written by a later smppd
  read_failed,         // SQLite could not open or read it
  write_failed,        // the output refused the CDRs
};

struct CdrExportResult {
  CdrExportError error = CdrExportError::none;
  std::string message;   // what went wrong, naming the file
  uint64_t records = 0;  // CDRs written (also when a later error stopped the export)
  bool ok() const { return error == CdrExportError::none; }
};

// Writes the CDR of every message whose outcome became final in the period (and of the one
// client when asked), oldest first, in the format asked (CSV: the header line first). Errors
// are values, never exceptions.
CdrExportResult export_cdrs(const CdrExportRequest& request, const RenderMessageId& render_id,
                            std::ostream& out);

// The query export_cdrs runs: ?1 from, ?2 to, ?3 the client or NULL (tests EXPLAIN it: the
// messages_done index in order, no sort).
std::string_view cdr_export_query();

// The bounds of `--from` and `--to`: an ISO 8601 instant ("2025-12-27T10:00:00Z", with an
// offset or milliseconds too: core/instant.hpp) is taken as it is; a date ("2025-12-27") is that
// day's UTC midnight for the start, and the next day's for the end, so that
// `--from 2025-12-01 --to 2025-12-27` covers both days whole. In ms since the epoch; nothing when
// the text is neither.
std::optional<int64_t> parse_period_start(std::string_view text);
std::optional<int64_t> parse_period_end(std::string_view text);

}  // namespace smppd::store
