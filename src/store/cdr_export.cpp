#include "store/cdr_export.hpp"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <system_error>

#include "core/instant.hpp"
#include "store/cdr.hpp"
#include "store/message_state.hpp"
#include "store/schema.hpp"

namespace smppd::store {

namespace {

using namespace std::chrono;

struct CloseDatabase {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Database = std::unique_ptr<sqlite3, CloseDatabase>;
using Statement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

// The index messages_done is on done_at alone, over rowid (= id): reading it in order gives
// `ORDER BY done_at, id` with no sort, one row at a time.
constexpr const char* kSelect = R"sql(
SELECT id, client, client_version, client_ref, smsc_id, upstream, route, source, destination,
       parts, data_coding, accepted_at, done_at, state, error
FROM messages INDEXED BY messages_done
WHERE done_at IS NOT NULL AND done_at >= ?1 AND done_at < ?2 AND (?3 IS NULL OR client = ?3)
ORDER BY done_at, id
)sql";

constexpr std::size_t kOutputChunk = 64 * 1024;

void assign_text(sqlite3_stmt* row, int column, std::string& out) {
  const auto* text = sqlite3_column_text(row, column);
  if (text == nullptr) {
    out.clear();
    return;
  }
  out.assign(reinterpret_cast<const char*>(text),
             static_cast<std::size_t>(sqlite3_column_bytes(row, column)));
}

void assign_state(int64_t number, std::string& out) {
  if (auto state = state_from_number(number)) {
    out.assign(state_name(*state));
  } else {
    out.assign("invalid(" + std::to_string(number) + ")");
  }
}

CdrExportResult failure(CdrExportError error, std::string message, uint64_t records = 0) {
  return {error, std::move(message), records};
}

}  // namespace

CdrExportResult export_cdrs(const CdrExportRequest& request, const RenderMessageId& render_id,
                            std::ostream& out) {
  const std::string& path = request.database;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    return failure(CdrExportError::no_database, "no such database: " + path);
  }
  if (!std::filesystem::is_regular_file(status)) {
    return failure(CdrExportError::no_database,
                   path + " is not a database file (not a regular file)");
  }

  sqlite3* raw = nullptr;
  const int opened = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  Database db(raw);
  if (opened != SQLITE_OK) {
    return failure(CdrExportError::read_failed,
                   "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  // A running smppd in WAL mode never blocks readers; in rollback mode a write may, briefly.
  sqlite3_busy_timeout(db.get(), 10000);

  // Any SQLite error from here on: not a database at all, or not one of ours.
  const auto sql_error = [&](const char* doing) {
    const int code = sqlite3_extended_errcode(db.get());
    const std::string what = sqlite3_errmsg(db.get());
    if ((code & 0xff) == SQLITE_NOTADB) {
      return failure(CdrExportError::not_smppd_database,
                     path + " is not an smppd database: " + what);
    }
    return failure(CdrExportError::read_failed,
                   "cannot read " + path + " (" + doing + "): " + what);
  };

  sqlite3_stmt* raw_statement = nullptr;
  if (sqlite3_prepare_v2(db.get(), "PRAGMA user_version", -1, &raw_statement, nullptr) !=
      SQLITE_OK) {
    return sql_error("schema version");
  }
  Statement version(raw_statement);
  const int stepped = sqlite3_step(version.get());
  if (stepped != SQLITE_ROW) return sql_error("schema version");
  const int64_t schema_version = sqlite3_column_int64(version.get(), 0);
  version.reset();
  if (schema_version > kSchemaVersion) {
    return failure(CdrExportError::newer_schema,
                   path + " was written by a later smppd (schema version " +
                       std::to_string(schema_version) + "; this one reads up to " +
                       std::to_string(kSchemaVersion) + ")");
  }

  if (sqlite3_prepare_v2(db.get(), kSelect, -1, &raw_statement, nullptr) != SQLITE_OK) {
    const int code = sqlite3_extended_errcode(db.get());
    if ((code & 0xff) == SQLITE_NOTADB) return sql_error("messages");
    // "no such table: messages", "no such index: messages_done", "no such column: ...".
    return failure(CdrExportError::not_smppd_database,
                   path + " is not an smppd database: " + sqlite3_errmsg(db.get()));
  }
  Statement select(raw_statement);
  sqlite3_bind_int64(select.get(), 1, request.from_ms);
  sqlite3_bind_int64(select.get(), 2, request.to_ms);
  if (!request.client.empty()) {
    sqlite3_bind_text(select.get(), 3, request.client.data(),
                      static_cast<int>(request.client.size()), SQLITE_STATIC);
  }

  std::string buffer;
  buffer.reserve(kOutputChunk + 4096);
  if (request.format == config::CdrFormat::csv) buffer.append(cdr_csv_header());
  const auto write_out = [&] {
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.clear();
    return static_cast<bool>(out);
  };

  CdrRecord record;  // reused: its strings keep their capacity from row to row
  uint64_t records = 0;
  for (;;) {
    const int step = sqlite3_step(select.get());
    if (step == SQLITE_DONE) break;
    if (step != SQLITE_ROW) {
      write_out();
      auto result = sql_error("messages");
      result.records = records;
      return result;
    }
    sqlite3_stmt* row = select.get();
    const auto id = static_cast<uint64_t>(sqlite3_column_int64(row, 0));
    const auto client_version = static_cast<uint8_t>(sqlite3_column_int(row, 2));
    record.message_id = render_id(id, client_version);
    assign_text(row, 1, record.client);
    assign_text(row, 3, record.client_ref);
    assign_text(row, 4, record.smsc_id);
    assign_text(row, 5, record.upstream);
    assign_text(row, 6, record.route);
    assign_text(row, 7, record.source);
    assign_text(row, 8, record.destination);
    record.parts = static_cast<uint32_t>(sqlite3_column_int64(row, 9));
    record.data_coding = static_cast<uint8_t>(sqlite3_column_int(row, 10));
    record.submit_at_ms = sqlite3_column_int64(row, 11);
    record.done_at_ms = sqlite3_column_int64(row, 12);
    assign_state(sqlite3_column_int64(row, 13), record.state);
    record.error = static_cast<uint32_t>(sqlite3_column_int64(row, 14));  // NULL reads as 0
    record.upstream_tags.clear();
    if (request.upstream_tags) request.upstream_tags(record.upstream, record.upstream_tags);
    format_cdr(request.format, record, buffer);
    ++records;
    if (buffer.size() >= kOutputChunk && !write_out()) {
      return failure(CdrExportError::write_failed, "cannot write the CDRs", records);
    }
  }
  if (!buffer.empty() && !write_out()) {
    return failure(CdrExportError::write_failed, "cannot write the CDRs", records);
  }
  out.flush();
  if (!out) return failure(CdrExportError::write_failed, "cannot write the CDRs", records);
  return {CdrExportError::none, {}, records};
}

std::string_view cdr_export_query() {
  return kSelect;
}

std::optional<int64_t> parse_period_start(std::string_view text) {
  if (auto day = parse_date(text))
    return duration_cast<milliseconds>(day->time_since_epoch()).count();
  if (auto instant = parse_instant(text)) return instant->time_since_epoch().count();
  return std::nullopt;
}

std::optional<int64_t> parse_period_end(std::string_view text) {
  if (auto day = parse_date(text)) {
    return duration_cast<milliseconds>((*day + days(1)).time_since_epoch()).count();
  }
  if (auto instant = parse_instant(text)) return instant->time_since_epoch().count();
  return std::nullopt;
}

}  // namespace smppd::store
