// The store in one SQLite file (`storage.sqlite.path`), in WAL mode by default: one connection
// writes (the group commit's thread), another reads (behind a mutex), so reads never wait for
// a commit's fsync.
//
// One smppd per file: open() takes an exclusive lock (flock) on `PATH.lock`, which holds the
// pid of its owner; a second smppd is refused with that pid. The lock goes with the process,
// so a crash leaves nothing to clean up.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "store/store.hpp"

namespace smppd::store {

struct SqliteSettings {
  std::string path;
  std::string journal_mode = "wal";
  // synchronous=FULL: a commit is on disk when write() returns (the WAL is fsync'd). Tests of
  // logic may turn it off; nothing else should.
  bool fsync = true;
};

class SqliteStore final : public Store {
 public:
  // The store, or an error that names the file, what is wrong and what to do.
  static std::variant<std::unique_ptr<SqliteStore>, std::string> open(const SqliteSettings& s);
  ~SqliteStore() override;

  std::optional<WriteFailure> write(std::span<const WriteBatch* const> batches) override;
  using Store::write;
  Recovery recover() override;
  std::optional<StoredMessage> message(uint64_t id, bool with_history = false) override;
  std::optional<uint64_t> find_by_smsc_id(std::string_view upstream,
                                          std::string_view smsc_id) override;
  std::vector<StoredMessage> to_send(std::string_view upstream, uint64_t after,
                                     std::size_t limit) override;
  Millis next_scheduled() override;
  std::vector<StoredDelivery> deliveries(std::string_view client, uint64_t after,
                                         std::size_t limit) override;
  uint64_t last_delivery_seq() override;
  Stats stats(bool all_messages = true) override;

  const std::string& path() const { return settings_.path; }

 private:
  struct Statements;
  explicit SqliteStore(SqliteSettings s);
  std::optional<std::string> start(int lock_fd);
  std::optional<WriteFailure> apply(const WriteBatch& batch);
  WriteFailure failure(int rc, std::string_view during) const;

  SqliteSettings settings_;
  int lock_fd_ = -1;
  sqlite3* writer_ = nullptr;
  std::unique_ptr<Statements> w_;
  std::mutex read_mutex_;
  sqlite3* reader_ = nullptr;
  std::unique_ptr<Statements> r_;
  // stats() counts on its own connection: its scans (as long as the backlog) never hold up the
  // reads the message path waits for (WAL readers do not block each other).
  std::mutex stats_mutex_;
  sqlite3* stats_reader_ = nullptr;
};

}  // namespace smppd::store
