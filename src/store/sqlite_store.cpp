#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

#include "smpp/receipt.hpp"
#include "store/schema.hpp"

namespace smppd::store {

Millis now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- WriteBatch ----

WriteBatch::Slice WriteBatch::put(std::string_view v) {
  Slice s{static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(v.size())};
  bytes_.append(v);
  return s;
}

WriteBatch::Slice WriteBatch::put(std::span<const uint8_t> v) {
  return put(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
}

void WriteBatch::add_message(const NewMessage& m) {
  Entry& e = ops_.emplace_back();
  e.op = Op::add_message;
  e.state = m.state;
  e.u8a = m.client_version;
  e.u8b = m.registered_delivery;
  e.u32 = m.command_id;
  e.id = m.id;
  e.at = m.accepted_at;
  e.t1 = m.not_before;
  e.t2 = m.expires_at;
  e.s[0] = put(m.client);
  e.s[1] = put(m.client_ref);
  e.s[2] = put(m.route);
  e.s[3] = put(m.upstream);
  e.s[4] = put(m.source);
  e.s[5] = put(m.destination);
  e.s[6] = put(m.pdu);
  // data_coding and parts share the last slice's neighbour: kept in s[7] as numbers.
  e.s[7] = Slice{m.data_coding, m.parts};
  e.s[8] = put(m.callback);
  ++new_messages_;
}

void WriteBatch::dispatched(uint64_t id, std::string_view upstream, Millis at) {
  Entry& e = ops_.emplace_back();
  e.op = Op::dispatched;
  e.id = id;
  e.at = at;
  e.s[0] = put(upstream);
}

void WriteBatch::submitted(uint64_t id, std::string_view upstream, std::string_view smsc_id,
                           Millis at, bool done) {
  Entry& e = ops_.emplace_back();
  e.op = Op::submitted;
  e.id = id;
  e.at = at;
  e.u8a = done ? 1 : 0;
  e.s[0] = put(upstream);
  e.s[1] = put(smsc_id);
}

void WriteBatch::add_smsc_id(uint64_t id, std::string_view upstream, std::string_view smsc_id,
                             Millis at) {
  Entry& e = ops_.emplace_back();
  e.op = Op::add_smsc_id;
  e.id = id;
  e.at = at;
  e.s[0] = put(upstream);
  e.s[1] = put(smsc_id);
}

void WriteBatch::set_state(uint64_t id, MessageState state, Millis at, uint32_t error,
                           std::string_view upstream, std::string_view detail) {
  Entry& e = ops_.emplace_back();
  e.op = Op::set_state;
  e.id = id;
  e.state = state;
  e.at = at;
  e.u32 = error;
  e.s[0] = put(upstream);
  e.s[1] = put(detail);
}

void WriteBatch::receipt_sent(uint64_t id, Millis at) {
  Entry& e = ops_.emplace_back();
  e.op = Op::receipt_sent;
  e.id = id;
  e.at = at;
}

void WriteBatch::release_scheduled(Millis now) {
  Entry& e = ops_.emplace_back();
  e.op = Op::release_scheduled;
  e.at = now;
}

void WriteBatch::add_delivery(uint64_t seq, std::string_view client, Millis at,
                              uint64_t message_id, std::span<const uint8_t> pdu) {
  Entry& e = ops_.emplace_back();
  e.op = Op::add_delivery;
  e.id = seq;
  e.t1 = static_cast<Millis>(message_id);
  e.at = at;
  e.s[0] = put(client);
  e.s[1] = put(pdu);
}

void WriteBatch::remove_delivery(uint64_t seq, Millis at) {
  Entry& e = ops_.emplace_back();
  e.op = Op::remove_delivery;
  e.id = seq;
  e.at = at;
}

void WriteBatch::purge(Millis messages_before, Millis deliveries_before, uint32_t limit,
                       uint64_t below_id) {
  Entry& e = ops_.emplace_back();
  e.op = Op::purge;
  e.at = messages_before;
  e.t1 = deliveries_before;
  e.u32 = limit;
  e.id = below_id;
}

void WriteBatch::done_ids(std::vector<uint64_t>& out) const {
  for (const Entry& e : ops_) {
    if ((e.op == Op::set_state && is_final(e.state)) || (e.op == Op::submitted && e.u8a != 0)) {
      out.push_back(e.id);
    }
  }
}

void WriteBatch::clear() {
  ops_.clear();
  bytes_.clear();
  new_messages_ = 0;
}

void WriteBatch::drop_new_messages() {
  if (new_messages_ == 0) return;
  WriteBatch rest;
  for (const Entry& e : ops_) {
    if (e.op != Op::add_message) rest.copy_entry(*this, e);
  }
  ops_.swap(rest.ops_);
  bytes_.swap(rest.bytes_);
  new_messages_ = 0;
}

void WriteBatch::append(const WriteBatch& other) {
  for (const Entry& e : other.ops_) copy_entry(other, e);
  new_messages_ += other.new_messages_;
}

void WriteBatch::copy_entry(const WriteBatch& from, const Entry& e) {
  Entry& c = ops_.emplace_back(e);
  for (std::size_t i = 0; i < c.s.size(); ++i) {
    if (e.op == Op::add_message && i == 7) continue;  // numbers, not a string
    c.s[i] = put(from.text(e.s[i]));
  }
}

// ---- SQLite helpers ----

namespace {

// A prepared statement, reset after each use.
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  int prepare(sqlite3* db, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_blob(int i, std::span<const uint8_t> v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error.
  int step() { return sqlite3_step(s_); }
  // Runs it to the end; the first error, else SQLITE_DONE.
  int run() {
    int rc = sqlite3_step(s_);
    while (rc == SQLITE_ROW) rc = sqlite3_step(s_);
    reset();
    return rc;
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  std::vector<uint8_t> blob(int col) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s_, col));
    return p ? std::vector<uint8_t>(p, p + sqlite3_column_bytes(s_, col)) : std::vector<uint8_t>();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Resets on scope exit (a read that stops early).
struct ResetOnExit {
  Stmt& s;
  ~ResetOnExit() { s.reset(); }
};

constexpr const char* kMessageColumns =
    "id, client, client_version, client_ref, command_id, accepted_at, not_before, expires_at, "
    "registered_delivery, route, upstream, source, destination, data_coding, parts, pdu, state, "
    "attempts, submitted_at, smsc_id, done_at, error, receipt_at";

StoredMessage read_message(const Stmt& s) {
  StoredMessage m;
  m.id = static_cast<uint64_t>(s.i64(0));
  m.client = s.text(1);
  m.client_version = static_cast<uint8_t>(s.i64(2));
  m.client_ref = s.text(3);
  m.command_id = static_cast<uint32_t>(s.i64(4));
  m.accepted_at = s.i64(5);
  m.not_before = s.i64(6);
  m.expires_at = s.i64(7);
  m.registered_delivery = static_cast<uint8_t>(s.i64(8));
  m.route = s.text(9);
  m.upstream = s.text(10);
  m.source = s.text(11);
  m.destination = s.text(12);
  m.data_coding = static_cast<uint8_t>(s.i64(13));
  m.parts = static_cast<uint16_t>(s.i64(14));
  m.pdu = s.blob(15);
  m.state = state_from_number(s.i64(16)).value_or(MessageState::failed);
  m.attempts = static_cast<uint32_t>(s.i64(17));
  m.submitted_at = s.i64(18);
  m.smsc_id = s.text(19);
  m.done_at = s.i64(20);
  m.error = static_cast<uint32_t>(s.i64(21));
  m.receipt_at = s.i64(22);
  return m;
}

std::string select_messages(std::string_view where) {
  return fmt::format("SELECT {} FROM messages {}", kMessageColumns, where);
}

}  // namespace

struct SqliteStore::Statements {
  // writes
  Stmt insert_message, dispatched, submitted, add_smsc_id, set_state, add_event, receipt_sent,
      release_scheduled, add_delivery, delivery_receipt_at, remove_delivery, purge_select, purge_message, purge_events,
      purge_smsc_ids, purge_deliveries, begin, commit, rollback;
  // reads
  Stmt message, events, by_smsc_id, to_send, next_scheduled, deliveries, last_delivery;

  int prepare_writes(sqlite3* db) {
    int rc = SQLITE_OK;
    auto p = [&](Stmt& s, const char* sql) {
      if (rc == SQLITE_OK) rc = s.prepare(db, sql);
    };
    p(insert_message,
      "INSERT INTO messages (id, client, client_version, client_ref, command_id, accepted_at, "
      "not_before, expires_at, registered_delivery, route, upstream, source, destination, "
      "data_coding, parts, pdu, state, attempts, callback) VALUES "
      "(?1, ?2, ?3, NULLIF(?4, ''), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
      "?18, NULLIF(?19, ''))");
    p(dispatched,
      "UPDATE messages SET state = 3, upstream = ?2, attempts = attempts + 1 WHERE id = ?1 AND "
      "state < 10");
    p(submitted,
      "UPDATE messages SET state = CASE WHEN state >= 10 THEN state ELSE 4 END, upstream = ?2, "
      "smsc_id = ?3, submitted_at = ?4, done_at = CASE WHEN ?5 THEN ?4 ELSE done_at END WHERE id "
      "= ?1");
    p(add_smsc_id, "INSERT OR REPLACE INTO smsc_ids (upstream, smsc_id, id, at) VALUES (?1, ?2, ?3, ?4)");
    p(set_state,
      "UPDATE messages SET state = ?2, error = NULLIF(?3, 0), done_at = CASE WHEN ?2 >= 10 THEN "
      "COALESCE(done_at, ?4) ELSE done_at END WHERE id = ?1");
    p(add_event,
      "INSERT INTO events (id, at, state, upstream, smsc_id, error, detail) VALUES "
      "(?1, ?2, ?3, NULLIF(?4, ''), NULL, NULLIF(?5, 0), NULLIF(?6, ''))");
    p(receipt_sent, "UPDATE messages SET receipt_at = ?2 WHERE id = ?1");
    p(release_scheduled, "UPDATE messages SET state = 1 WHERE state = 2 AND not_before <= ?1");
    p(add_delivery,
      "INSERT OR REPLACE INTO deliveries (seq, client, at, message_id, pdu) VALUES "
      "(?1, ?2, ?3, NULLIF(?4, 0), ?5)");
    p(delivery_receipt_at,
      "UPDATE messages SET receipt_at = ?2 WHERE id = (SELECT message_id FROM deliveries WHERE "
      "seq = ?1)");
    p(remove_delivery, "DELETE FROM deliveries WHERE seq = ?1");
    p(purge_select,
      "SELECT id FROM messages WHERE id < ?3 AND accepted_at < ?1 AND state >= 4 ORDER BY id "
      "LIMIT ?2");
    p(purge_message, "DELETE FROM messages WHERE id = ?1");
    p(purge_events, "DELETE FROM events WHERE id = ?1");
    p(purge_smsc_ids,
      "DELETE FROM smsc_ids WHERE (upstream, smsc_id) IN (SELECT upstream, smsc_id FROM smsc_ids "
      "WHERE at < ?1 ORDER BY at LIMIT ?2)");
    p(purge_deliveries,
      "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE at < ?1 ORDER BY "
      "at LIMIT ?2)");
    p(begin, "BEGIN IMMEDIATE");
    p(commit, "COMMIT");
    p(rollback, "ROLLBACK");
    return rc;
  }

  int prepare_reads(sqlite3* db) {
    int rc = SQLITE_OK;
    auto p = [&](Stmt& s, const std::string& sql) {
      if (rc == SQLITE_OK) rc = s.prepare(db, sql.c_str());
    };
    p(message, select_messages("WHERE id = ?1"));
    p(events,
      "SELECT at, state, upstream, smsc_id, error, detail FROM events WHERE id = ?1 ORDER BY "
      "rowid");
    p(by_smsc_id, "SELECT id FROM smsc_ids WHERE upstream = ?1 AND smsc_id = ?2");
    p(to_send, select_messages("WHERE upstream = ?1 AND state IN (1, 3) AND state = 1 AND id > "
                               "?2 ORDER BY id LIMIT ?3"));
    p(next_scheduled, "SELECT MIN(not_before) FROM messages WHERE state = 2");
    p(deliveries,
      "SELECT seq, client, at, message_id, pdu FROM deliveries WHERE client = ?1 AND seq > ?2 "
      "ORDER BY seq LIMIT ?3");
    p(last_delivery, "SELECT MAX(seq) FROM deliveries");
    return rc;
  }
};

// ---- opening ----

namespace {

std::string errno_text(int e) { return std::strerror(e); }

int exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

// A single-value query (a PRAGMA); empty on error.
std::string query_text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    if (const auto* p = sqlite3_column_text(s, 0)) out = reinterpret_cast<const char*>(p);
  }
  sqlite3_finalize(s);
  return out;
}

constexpr const char* kRecover =
    "If the file is damaged, stop smppd, keep a copy of it, and either recover it "
    "(sqlite3 FILE .recover | sqlite3 NEW) or move it away to start with an empty store.";

}  // namespace

SqliteStore::SqliteStore(SqliteSettings s) : settings_(std::move(s)) {}

SqliteStore::~SqliteStore() {
  w_.reset();
  r_.reset();
  if (reader_ != nullptr) sqlite3_close_v2(reader_);
  if (stats_reader_ != nullptr) sqlite3_close_v2(stats_reader_);
  if (writer_ != nullptr) sqlite3_close_v2(writer_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::variant<std::unique_ptr<SqliteStore>, std::string> SqliteStore::open(
    const SqliteSettings& settings) {
  namespace fs = std::filesystem;
  const std::string& path = settings.path;
  const fs::path folder = fs::path(path).parent_path().empty() ? fs::path(".")
                                                               : fs::path(path).parent_path();
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    return fmt::format("storage.sqlite.path {}: the folder {} does not exist (create it, owned "
                       "by the user smppd runs as)",
                       path, folder.string());
  }
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    return fmt::format("storage.sqlite.path {}: the folder {} is not writable by this user: {}",
                       path, folder.string(), errno_text(errno));
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return fmt::format("storage.sqlite.path {}: not a regular file", path);
    if (::access(path.c_str(), R_OK | W_OK) != 0) {
      return fmt::format("storage.sqlite.path {}: not readable and writable by this user: {}",
                         path, errno_text(errno));
    }
  }
  // One smppd per database.
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return fmt::format("storage.sqlite.path {}: cannot open the lock file {}: {}", path, lock_path,
                       errno_text(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd);
    return fmt::format("storage.sqlite.path {}: the database is in use by another smppd (pid {}, "
                       "lock {}); stop it, or give this one its own storage.sqlite.path",
                       path, pid, lock_path);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message above; the lock itself is what counts.
  }
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(settings));
  if (auto error = store->start(fd)) return *error;
  return store;
}

std::optional<std::string> SqliteStore::start(int lock_fd) {
  lock_fd_ = lock_fd;
  const std::string& path = settings_.path;
  auto open_one = [&](sqlite3** db, int flags) -> std::optional<std::string> {
    const int rc = sqlite3_open_v2(path.c_str(), db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      return fmt::format("storage.sqlite.path {}: cannot open: {}", path,
                         *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
    }
    sqlite3_extended_result_codes(*db, 1);
    sqlite3_busy_timeout(*db, 5000);
    return std::nullopt;
  };
  if (auto e = open_one(&writer_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) return e;
  // The header is read here: a file that is not a database fails now, with a clear reason.
  const std::string version_text = query_text(writer_, "PRAGMA user_version");
  if (version_text.empty()) {
    const int rc = sqlite3_extended_errcode(writer_);
    if (rc == SQLITE_NOTADB) {
      return fmt::format("storage.sqlite.path {}: not an SQLite database (or encrypted, or "
                         "truncated); move it away or point storage.sqlite.path elsewhere",
                         path);
    }
    return fmt::format("storage.sqlite.path {}: cannot read: {}. {}", path,
                       sqlite3_errmsg(writer_), kRecover);
  }
  const int version = std::stoi(version_text);
  if (version > kSchemaVersion) {
    return fmt::format("storage.sqlite.path {}: written by a newer smppd (schema {}, this one "
                       "reads up to {}); upgrade smppd or use another file",
                       path, version, kSchemaVersion);
  }
  if (version == 0) {
    // Not ours yet: take it only when it has no tables (a new file).
    const std::string tables =
        query_text(writer_, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
    if (tables.empty()) {
      return fmt::format("storage.sqlite.path {}: cannot read: {}. {}", path,
                         sqlite3_errmsg(writer_), kRecover);
    }
    if (tables != "0") {
      return fmt::format("storage.sqlite.path {}: an SQLite database that smppd did not make "
                         "(it has tables of its own); point storage.sqlite.path elsewhere",
                         path);
    }
  }
  const std::string mode = query_text(writer_, "PRAGMA journal_mode = " + settings_.journal_mode);
  if (mode.empty()) {
    return fmt::format("storage.sqlite.path {}: cannot set journal_mode {}: {}. {}", path,
                       settings_.journal_mode, sqlite3_errmsg(writer_), kRecover);
  }
  exec(writer_, settings_.fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF");
  exec(writer_, "PRAGMA foreign_keys = OFF");
  exec(writer_, "PRAGMA cache_size = -4096");  // 4 MiB: the store's memory, whatever it holds
  if (version > 0 && version < kSchemaVersion) {
    // An older file: brought up to date in one transaction (an older smppd cannot read it then).
    std::string sql = "BEGIN;";
    for (int v = version; v < kSchemaVersion; ++v) sql += kMigrations[v - 1];
    sql += fmt::format("PRAGMA user_version = {};COMMIT;", kSchemaVersion);
    char* msg = nullptr;
    if (sqlite3_exec(writer_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string reason = msg ? msg : "";
      sqlite3_free(msg);
      exec(writer_, "ROLLBACK");
      return fmt::format("storage.sqlite.path {}: cannot upgrade the tables from schema {} to "
                         "{}: {}",
                         path, version, kSchemaVersion, reason);
    }
  }
  if (version == 0) {
    char* msg = nullptr;
    const std::string sql = std::string("BEGIN;") + kSchema +
                            fmt::format("PRAGMA user_version = {};COMMIT;", kSchemaVersion);
    if (sqlite3_exec(writer_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string reason = msg ? msg : "";
      sqlite3_free(msg);
      exec(writer_, "ROLLBACK");
      return fmt::format("storage.sqlite.path {}: cannot create the tables: {}", path, reason);
    }
  }
  w_ = std::make_unique<Statements>();
  if (w_->prepare_writes(writer_) != SQLITE_OK) {
    return fmt::format("storage.sqlite.path {}: {} (tables missing or damaged). {}", path,
                       sqlite3_errmsg(writer_), kRecover);
  }
  if (auto e = open_one(&reader_, SQLITE_OPEN_READONLY)) return e;
  exec(reader_, "PRAGMA cache_size = -2048");
  r_ = std::make_unique<Statements>();
  if (r_->prepare_reads(reader_) != SQLITE_OK) {
    return fmt::format("storage.sqlite.path {}: {}. {}", path, sqlite3_errmsg(reader_), kRecover);
  }
  if (auto e = open_one(&stats_reader_, SQLITE_OPEN_READONLY)) return e;
  exec(stats_reader_, "PRAGMA cache_size = -512");
  return std::nullopt;
}

// ---- writes ----

WriteFailure SqliteStore::failure(int rc, std::string_view during) const {
  WriteFailure f;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      f.kind = WriteFailure::Kind::full;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      f.kind = WriteFailure::Kind::busy;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      f.kind = WriteFailure::Kind::corrupt;
      break;
    default:
      f.kind = WriteFailure::Kind::io;
      break;
  }
  f.what = fmt::format("storage.sqlite.path {}: {} failed: {}{}", settings_.path, during,
                       sqlite3_errmsg(writer_),
                       f.kind == WriteFailure::Kind::full ? " (the disk is full)" : "");
  return f;
}

std::optional<WriteFailure> SqliteStore::write(std::span<const WriteBatch* const> batches) {
  Statements& s = *w_;
  int rc = s.begin.run();
  if (rc != SQLITE_DONE) return failure(rc, "BEGIN");
  for (const WriteBatch* batch : batches) {
    if (auto f = apply(*batch)) {
      s.rollback.run();
      return f;
    }
  }
  rc = s.commit.run();
  if (rc != SQLITE_DONE) {
    auto f = failure(rc, "COMMIT");
    if (!sqlite3_get_autocommit(writer_)) s.rollback.run();
    return f;
  }
  return std::nullopt;
}

std::optional<WriteFailure> SqliteStore::apply(const WriteBatch& batch) {
  using Op = WriteBatch::Op;
  Statements& s = *w_;
  auto check = [&](int rc, std::string_view what) -> std::optional<WriteFailure> {
    if (rc == SQLITE_DONE || rc == SQLITE_OK) return std::nullopt;
    return failure(rc, what);
  };
  for (const WriteBatch::Entry& e : batch.entries()) {
    const auto id = static_cast<int64_t>(e.id);
    std::optional<WriteFailure> f;
    switch (e.op) {
      case Op::add_message:
        f = check(s.insert_message.bind(1, id)
                      .bind(2, batch.text(e.s[0]))
                      .bind(3, e.u8a)
                      .bind(4, batch.text(e.s[1]))
                      .bind(5, e.u32)
                      .bind(6, e.at)
                      .bind(7, e.t1)
                      .bind(8, e.t2)
                      .bind(9, e.u8b)
                      .bind(10, batch.text(e.s[2]))
                      .bind(11, batch.text(e.s[3]))
                      .bind(12, batch.text(e.s[4]))
                      .bind(13, batch.text(e.s[5]))
                      .bind(14, e.s[7].offset)
                      .bind(15, e.s[7].size)
                      .bind_blob(16, batch.blob(e.s[6]))
                      .bind(17, static_cast<int64_t>(e.state))
                      .bind(18, e.state == MessageState::dispatched ? 1 : 0)
                      .bind(19, batch.text(e.s[8]))
                      .run(),
                  "storing a message");
        break;
      case Op::dispatched:
        f = check(s.dispatched.bind(1, id).bind(2, batch.text(e.s[0])).run(), "recording a send");
        break;
      case Op::submitted:
        f = check(s.submitted.bind(1, id)
                      .bind(2, batch.text(e.s[0]))
                      .bind(3, batch.text(e.s[1]))
                      .bind(4, e.at)
                      .bind(5, e.u8a)
                      .run(),
                  "recording a submit");
        if (!f && e.s[1].size > 0) {
          smpp::CanonicalIdBuffer buffer;
          f = check(s.add_smsc_id.bind(1, batch.text(e.s[0]))
                        .bind(2, smpp::canonical_message_id(batch.text(e.s[1]), buffer))
                        .bind(3, id)
                        .bind(4, e.at)
                        .run(),
                    "recording an SMSC id");
        }
        break;
      case Op::add_smsc_id: {
        smpp::CanonicalIdBuffer buffer;
        f = check(s.add_smsc_id.bind(1, batch.text(e.s[0]))
                      .bind(2, smpp::canonical_message_id(batch.text(e.s[1]), buffer))
                      .bind(3, id)
                      .bind(4, e.at)
                      .run(),
                  "recording an SMSC id");
        break;
      }
      case Op::set_state:
        f = check(s.set_state.bind(1, id)
                      .bind(2, static_cast<int64_t>(e.state))
                      .bind(3, e.u32)
                      .bind(4, e.at)
                      .run(),
                  "recording a state");
        if (!f) {
          f = check(s.add_event.bind(1, id)
                        .bind(2, e.at)
                        .bind(3, static_cast<int64_t>(e.state))
                        .bind(4, batch.text(e.s[0]))
                        .bind(5, e.u32)
                        .bind(6, batch.text(e.s[1]))
                        .run(),
                    "recording an event");
        }
        break;
      case Op::receipt_sent:
        f = check(s.receipt_sent.bind(1, id).bind(2, e.at).run(), "recording a receipt");
        break;
      case Op::release_scheduled:
        f = check(s.release_scheduled.bind(1, e.at).run(), "releasing scheduled messages");
        break;
      case Op::add_delivery:
        f = check(s.add_delivery.bind(1, id)
                      .bind(2, batch.text(e.s[0]))
                      .bind(3, e.at)
                      .bind(4, e.t1)
                      .bind_blob(5, batch.blob(e.s[1]))
                      .run(),
                  "storing a delivery");
        break;
      case Op::remove_delivery:
        f = check(s.delivery_receipt_at.bind(1, id).bind(2, e.at).run(), "recording a receipt");
        if (!f) f = check(s.remove_delivery.bind(1, id).run(), "removing a delivery");
        break;
      case Op::purge: {
        std::vector<int64_t> ids;
        s.purge_select.bind(1, e.at).bind(2, e.u32).bind(3, id);
        int rc = SQLITE_OK;
        while ((rc = s.purge_select.step()) == SQLITE_ROW) ids.push_back(s.purge_select.i64(0));
        s.purge_select.reset();
        f = check(rc, "purging messages");
        for (int64_t old : ids) {
          if (f) break;
          f = check(s.purge_message.bind(1, old).run(), "purging messages");
          if (!f) f = check(s.purge_events.bind(1, old).run(), "purging events");
        }
        if (!f) {
          f = check(s.purge_smsc_ids.bind(1, e.at).bind(2, e.u32).run(), "purging SMSC ids");
        }
        if (!f) {
          f = check(s.purge_deliveries.bind(1, e.t1).bind(2, e.u32).run(), "purging deliveries");
        }
        break;
      }
    }
    if (f) return f;
  }
  return std::nullopt;
}

Recovery SqliteStore::recover() {
  Recovery r;
  std::lock_guard lock(read_mutex_);
  auto count = [&](const char* sql) {
    const std::string v = query_text(writer_, sql);
    return v.empty() ? 0 : std::stoull(v);
  };
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(writer_, "SELECT id FROM messages WHERE state IN (1, 3) AND state = 3 "
                                    "ORDER BY id LIMIT 20",
                           -1, &s, nullptr) == SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        r.in_flight_sample.push_back(static_cast<uint64_t>(sqlite3_column_int64(s, 0)));
      }
    }
    sqlite3_finalize(s);
  }
  r.in_flight = count("SELECT count(*) FROM messages WHERE state IN (1, 3) AND state = 3");
  exec(writer_, "UPDATE messages SET state = 1 WHERE state IN (1, 3) AND state = 3");
  r.queued = count("SELECT count(*) FROM messages WHERE state IN (1, 3) AND state = 1");
  r.scheduled = count("SELECT count(*) FROM messages WHERE state = 2");
  r.deliveries = count("SELECT count(*) FROM deliveries");
  r.max_id = count("SELECT COALESCE(MAX(id), 0) FROM messages");
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(writer_, "SELECT DISTINCT client FROM deliveries", -1, &s, nullptr) ==
        SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        if (const auto* p = sqlite3_column_text(s, 0)) {
          r.delivery_clients.emplace_back(reinterpret_cast<const char*>(p));
        }
      }
    }
    sqlite3_finalize(s);
  }
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(writer_,
                           "SELECT id, callback FROM messages WHERE callback IS NOT NULL AND "
                           "(state < 10 OR id IN (SELECT message_id FROM deliveries WHERE "
                           "message_id IS NOT NULL))",
                           -1, &s, nullptr) == SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        if (const auto* p = sqlite3_column_text(s, 1)) {
          r.callbacks.emplace_back(static_cast<uint64_t>(sqlite3_column_int64(s, 0)),
                                   reinterpret_cast<const char*>(p));
        }
      }
    }
    sqlite3_finalize(s);
  }
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(writer_,
                         "SELECT DISTINCT upstream FROM messages WHERE state IN (1, 3) AND "
                         "state = 1",
                         -1, &s, nullptr) == SQLITE_OK) {
    while (sqlite3_step(s) == SQLITE_ROW) {
      if (const auto* p = sqlite3_column_text(s, 0)) {
        r.upstreams.emplace_back(reinterpret_cast<const char*>(p));
      }
    }
  }
  sqlite3_finalize(s);
  return r;
}

// ---- reads ----

std::optional<StoredMessage> SqliteStore::message(uint64_t id, bool with_history) {
  std::lock_guard lock(read_mutex_);
  Statements& s = *r_;
  std::optional<StoredMessage> m;
  {
    ResetOnExit reset{s.message};
    s.message.bind(1, static_cast<int64_t>(id));
    if (s.message.step() != SQLITE_ROW) return std::nullopt;
    m = read_message(s.message);
  }
  if (!with_history) return m;
  m->history.push_back(Event{m->accepted_at, MessageState::queued, m->upstream, "", 0,
                             "accepted"});
  {
    ResetOnExit reset{s.events};
    s.events.bind(1, static_cast<int64_t>(id));
    while (s.events.step() == SQLITE_ROW) {
      Event e;
      e.at = s.events.i64(0);
      e.state = state_from_number(s.events.i64(1)).value_or(MessageState::failed);
      e.upstream = s.events.text(2);
      e.smsc_id = s.events.text(3);
      e.error = static_cast<uint32_t>(s.events.i64(4));
      e.detail = s.events.text(5);
      m->history.push_back(std::move(e));
    }
  }
  if (m->submitted_at != 0) {
    m->history.push_back(
        Event{m->submitted_at, MessageState::submitted, m->upstream, m->smsc_id, 0, ""});
  }
  if (m->done_at != 0 && is_final(m->state)) {
    m->history.push_back(Event{m->done_at, m->state, m->upstream, m->smsc_id, m->error, ""});
  }
  if (m->receipt_at != 0) {
    m->history.push_back(
        Event{m->receipt_at, m->state, "", "", 0, "receipt handed to the client"});
  }
  std::stable_sort(m->history.begin(), m->history.end(),
                   [](const Event& a, const Event& b) { return a.at < b.at; });
  return m;
}

std::optional<uint64_t> SqliteStore::find_by_smsc_id(std::string_view upstream,
                                                     std::string_view smsc_id) {
  std::lock_guard lock(read_mutex_);
  Statements& s = *r_;
  auto look = [&](std::string_view key) -> std::optional<uint64_t> {
    ResetOnExit reset{s.by_smsc_id};
    s.by_smsc_id.bind(1, upstream).bind(2, key);
    if (s.by_smsc_id.step() == SQLITE_ROW) return static_cast<uint64_t>(s.by_smsc_id.i64(0));
    return std::nullopt;
  };
  // Stored in canonical form; looked up in each form the id may stand for (hex for decimal,
  // case, leading zeros), the id as written first.
  for (std::string_view key : smpp::message_id_keys(smsc_id)) {
    if (auto id = look(key)) return id;
  }
  return std::nullopt;
}

std::vector<StoredMessage> SqliteStore::to_send(std::string_view upstream, uint64_t after,
                                                std::size_t limit) {
  std::lock_guard lock(read_mutex_);
  Statements& s = *r_;
  std::vector<StoredMessage> out;
  ResetOnExit reset{s.to_send};
  s.to_send.bind(1, upstream)
      .bind(2, static_cast<int64_t>(after))
      .bind(3, static_cast<int64_t>(limit));
  while (s.to_send.step() == SQLITE_ROW) out.push_back(read_message(s.to_send));
  return out;
}

Millis SqliteStore::next_scheduled() {
  std::lock_guard lock(read_mutex_);
  Statements& s = *r_;
  ResetOnExit reset{s.next_scheduled};
  return s.next_scheduled.step() == SQLITE_ROW ? s.next_scheduled.i64(0) : 0;
}

std::vector<StoredDelivery> SqliteStore::deliveries(std::string_view client, uint64_t after,
                                                    std::size_t limit) {
  std::lock_guard lock(read_mutex_);
  Statements& s = *r_;
  std::vector<StoredDelivery> out;
  ResetOnExit reset{s.deliveries};
  s.deliveries.bind(1, client)
      .bind(2, static_cast<int64_t>(after))
      .bind(3, static_cast<int64_t>(limit));
  while (s.deliveries.step() == SQLITE_ROW) {
    StoredDelivery d;
    d.seq = static_cast<uint64_t>(s.deliveries.i64(0));
    d.client = s.deliveries.text(1);
    d.at = s.deliveries.i64(2);
    d.message_id = static_cast<uint64_t>(s.deliveries.i64(3));
    d.pdu = s.deliveries.blob(4);
    out.push_back(std::move(d));
  }
  return out;
}

uint64_t SqliteStore::last_delivery_seq() {
  std::lock_guard lock(read_mutex_);
  Statements& s = *r_;
  ResetOnExit reset{s.last_delivery};
  return s.last_delivery.step() == SQLITE_ROW ? static_cast<uint64_t>(s.last_delivery.i64(0)) : 0;
}

SqliteStore::Stats SqliteStore::stats(bool all_messages) {
  std::lock_guard lock(stats_mutex_);
  Stats st;
  auto count = [&](const char* sql) {
    const std::string v = query_text(stats_reader_, sql);
    return v.empty() ? 0 : std::stoull(v);
  };
  if (all_messages) st.messages = count("SELECT count(*) FROM messages");
  st.to_send = count("SELECT count(*) FROM messages WHERE state IN (1, 3) AND state = 1");
  st.deliveries = count("SELECT count(*) FROM deliveries");
  std::error_code ec;
  st.file_bytes = std::filesystem::file_size(settings_.path, ec);
  if (ec) st.file_bytes = 0;
  const auto wal = std::filesystem::file_size(settings_.path + "-wal", ec);
  if (!ec) st.file_bytes += wal;
  return st;
}

}  // namespace smppd::store
