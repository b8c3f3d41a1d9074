// The SQLite store on real files in a temporary folder.
#include "store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <cstring>
#include <fstream>

namespace smppd::store {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "smppd-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(std::string_view name) const { return (fs::path(path_) / name).string(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<SqliteStore> open_ok(const std::string& path) {
  auto r = SqliteStore::open({path});
  if (auto* e = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << *e;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<SqliteStore>>(r));
}

std::string open_error(const std::string& path) {
  auto r = SqliteStore::open({path});
  if (auto* e = std::get_if<std::string>(&r)) return *e;
  return "";
}

const std::vector<uint8_t> kPdu = {0, 0, 0, 16, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1};

NewMessage message(uint64_t id, std::string_view upstream = "carrier",
                   MessageState state = MessageState::queued) {
  NewMessage m;
  m.id = id;
  m.client = "acme";
  m.client_version = 0x34;
  m.command_id = 4;
  m.accepted_at = 1'000'000 + static_cast<Millis>(id);
  m.registered_delivery = 1;
  m.route = "default";
  m.upstream = upstream;
  m.source = "ACME";
  // NewMessage holds views: the text lives as long as the test program.
  static std::deque<std::string> destinations;
  m.destination = destinations.emplace_back("25884" + std::to_string(id));
  m.data_coding = 8;
  m.parts = 1;
  m.pdu = kPdu;
  m.state = state;
  return m;
}

TEST(SqliteStore, StoresAMessageAndReadsItBack) {
  TempDir dir;
  auto store = open_ok(dir.file("messages.db"));
  ASSERT_TRUE(store);
  WriteBatch b;
  NewMessage m = message(42);
  m.client_ref = "ref-1";
  m.not_before = 5;
  m.expires_at = 6;
  b.add_message(m);
  ASSERT_FALSE(store->write(b));
  auto got = store->message(42);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->client, "acme");
  EXPECT_EQ(got->client_ref, "ref-1");
  EXPECT_EQ(got->client_version, 0x34);
  EXPECT_EQ(got->destination, "2588442");
  EXPECT_EQ(got->data_coding, 8);
  EXPECT_EQ(got->parts, 1);
  EXPECT_EQ(got->not_before, 5);
  EXPECT_EQ(got->expires_at, 6);
  EXPECT_EQ(got->pdu, kPdu);
  EXPECT_EQ(got->state, MessageState::queued);
  EXPECT_FALSE(store->message(43));
}

TEST(SqliteStore, KeepsTheHistoryOfAMessage) {
  TempDir dir;
  auto store = open_ok(dir.file("messages.db"));
  ASSERT_TRUE(store);
  WriteBatch b;
  b.add_message(message(7));
  b.dispatched(7, "carrier", 1'000'010);
  b.set_state(7, MessageState::queued, 1'000'020, 0x58, "carrier", "throttled: requeued");
  b.dispatched(7, "backup", 1'000'030);
  b.submitted(7, "backup", "AB12", 1'000'040, false);
  b.set_state(7, MessageState::delivered, 1'000'050);
  b.receipt_sent(7, 1'000'060);
  ASSERT_FALSE(store->write(b));
  auto got = store->message(7, true);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, MessageState::delivered);
  EXPECT_EQ(got->attempts, 2u);
  EXPECT_EQ(got->upstream, "backup");
  EXPECT_EQ(got->smsc_id, "AB12");
  EXPECT_EQ(got->done_at, 1'000'050);
  EXPECT_EQ(got->receipt_at, 1'000'060);
  std::vector<std::string> story;
  for (const Event& e : got->history) story.push_back(std::string(state_name(e.state)));
  EXPECT_EQ(story, (std::vector<std::string>{"queued", "queued", "submitted", "delivered",
                                             "delivered", "delivered"}));
  EXPECT_EQ(got->history[1].detail, "throttled: requeued");
  EXPECT_EQ(got->history[1].error, 0x58u);
}

TEST(SqliteStore, FindsAMessageByItsSmscIdInAnyForm) {
  TempDir dir;
  auto store = open_ok(dir.file("messages.db"));
  ASSERT_TRUE(store);
  WriteBatch b;
  b.add_message(message(1));
  b.add_message(message(2, "other"));
  b.submitted(1, "carrier", "0A1B2C3D", 10, false);
  b.submitted(2, "other", "0A1B2C3D", 10, false);
  ASSERT_FALSE(store->write(b));
  EXPECT_EQ(store->find_by_smsc_id("carrier", "0A1B2C3D"), 1u);
  EXPECT_EQ(store->find_by_smsc_id("carrier", "a1b2c3d"), 1u);
  EXPECT_EQ(store->find_by_smsc_id("carrier", "169552957"), 1u);  // the same number in decimal
  EXPECT_EQ(store->find_by_smsc_id("other", "0a1b2c3d"), 2u);
  EXPECT_FALSE(store->find_by_smsc_id("carrier", "0A1B2C3E"));
  EXPECT_FALSE(store->find_by_smsc_id("nobody", "0A1B2C3D"));
}

TEST(SqliteStore, ARestartSendsAgainWhatWasInFlightAndCountsIt) {
  TempDir dir;
  const std::string path = dir.file("messages.db");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    WriteBatch b;
    b.add_message(message(1, "a", MessageState::dispatched));  // in flight at the "crash"
    b.add_message(message(2, "a"));                            // queued
    b.add_message(message(3, "b", MessageState::dispatched));
    b.submitted(3, "b", "X", 5, false);                         // answered: not resent
    b.add_message(message(4, "b", MessageState::scheduled));
    b.add_message(message(5, "c", MessageState::dispatched));
    b.set_state(5, MessageState::rejected, 9, 0x0B);            // final
    ASSERT_FALSE(store->write(b));
  }
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  const Recovery r = store->recover();
  EXPECT_EQ(r.in_flight, 1u);
  EXPECT_EQ(r.in_flight_sample, std::vector<uint64_t>{1});
  EXPECT_EQ(r.queued, 2u);
  EXPECT_EQ(r.scheduled, 1u);
  EXPECT_EQ(r.upstreams, std::vector<std::string>{"a"});
  auto a = store->to_send("a", 0, 10);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].id, 1u);  // in the order accepted
  EXPECT_EQ(a[1].id, 2u);
  EXPECT_EQ(store->to_send("a", 1, 10).size(), 1u);
  EXPECT_TRUE(store->to_send("b", 0, 10).empty());
  EXPECT_EQ(store->next_scheduled(), 0);  // message(4) has not_before 0
}

TEST(SqliteStore, ReleasesScheduledMessagesAtTheirTime) {
  TempDir dir;
  auto store = open_ok(dir.file("messages.db"));
  ASSERT_TRUE(store);
  WriteBatch b;
  NewMessage later = message(1, "a", MessageState::scheduled);
  later.not_before = 2'000;
  b.add_message(later);
  NewMessage sooner = message(2, "a", MessageState::scheduled);
  sooner.not_before = 1'000;
  b.add_message(sooner);
  ASSERT_FALSE(store->write(b));
  EXPECT_EQ(store->next_scheduled(), 1'000);
  b.clear();
  b.release_scheduled(1'500);
  ASSERT_FALSE(store->write(b));
  auto due = store->to_send("a", 0, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, 2u);
  EXPECT_EQ(store->next_scheduled(), 2'000);
}

TEST(SqliteStore, KeepsDeliveriesInOrderUntilRemoved) {
  TempDir dir;
  auto store = open_ok(dir.file("messages.db"));
  ASSERT_TRUE(store);
  WriteBatch b;
  for (uint64_t seq = 1; seq <= 5; ++seq) b.add_delivery(seq, seq % 2 ? "acme" : "beta", 100, seq, kPdu);
  b.remove_delivery(3, 200);
  ASSERT_FALSE(store->write(b));
  auto acme = store->deliveries("acme", 0, 10);
  ASSERT_EQ(acme.size(), 2u);
  EXPECT_EQ(acme[0].seq, 1u);
  EXPECT_EQ(acme[1].seq, 5u);
  EXPECT_EQ(acme[1].pdu, kPdu);
  EXPECT_EQ(store->deliveries("acme", 1, 10).size(), 1u);
  EXPECT_EQ(store->last_delivery_seq(), 5u);
}

TEST(SqliteStore, PurgesOldRecordsInSteps) {
  TempDir dir;
  auto store = open_ok(dir.file("messages.db"));
  ASSERT_TRUE(store);
  WriteBatch b;
  for (uint64_t id = 1; id <= 10; ++id) {
    NewMessage m = message(id);
    m.accepted_at = static_cast<Millis>(id * 100);
    b.add_message(m);
    if (id != 2) b.submitted(id, "carrier", "S" + std::to_string(id), m.accepted_at, true);
  }
  b.add_delivery(1, "acme", 50, 1, kPdu);
  b.add_delivery(2, "acme", 5'000, 2, kPdu);
  ASSERT_FALSE(store->write(b));
  b.clear();
  b.purge(550, 100, 3, 100);  // messages accepted before 550 (1-5), 3 at a time
  ASSERT_FALSE(store->write(b));
  EXPECT_FALSE(store->message(1));
  EXPECT_TRUE(store->message(2));  // still to send: kept
  EXPECT_FALSE(store->message(4));
  EXPECT_TRUE(store->message(5));  // beyond this step's 3
  EXPECT_FALSE(store->find_by_smsc_id("carrier", "S1"));
  EXPECT_EQ(store->deliveries("acme", 0, 10).size(), 1u);
  ASSERT_FALSE(store->write(b));
  EXPECT_FALSE(store->message(5));
  EXPECT_TRUE(store->message(6));
  EXPECT_TRUE(store->message(2));
  // Only ids below the bound are looked at: 6-10 are old enough but at or above it.
  b.clear();
  b.purge(100'000, 100, 100, 6);
  ASSERT_FALSE(store->write(b));
  EXPECT_TRUE(store->message(6));
  EXPECT_TRUE(store->message(10));
  EXPECT_TRUE(store->message(2));  // still to send
}

TEST(SqliteStore, ASecondSmppdOnTheSameFileIsRefusedWithThePidOfTheFirst) {
  TempDir dir;
  const std::string path = dir.file("messages.db");
  auto first = open_ok(path);
  ASSERT_TRUE(first);
  const std::string error = open_error(path);
  EXPECT_NE(error.find("in use by another smppd (pid " + std::to_string(::getpid()) + ","),
            std::string::npos)
      << error;
  first.reset();
  EXPECT_TRUE(open_ok(path));  // the lock went with the first
}

TEST(SqliteStore, RefusesWhatIsNotItsDatabase) {
  TempDir dir;
  {
    std::ofstream(dir.file("text.db")) << "this is not a database, just some text that is long "
                                          "enough to have a header of a hundred bytes or so......"
                                          "..............................................";
  }
  EXPECT_NE(open_error(dir.file("text.db")).find("not an SQLite database"), std::string::npos);
  EXPECT_NE(open_error(dir.file("missing/messages.db")).find("does not exist"), std::string::npos);
  fs::create_directory(dir.file("folder.db"));
  EXPECT_NE(open_error(dir.file("folder.db")).find("not a regular file"), std::string::npos);
  {
    sqlite3* db = nullptr;
    sqlite3_open(dir.file("foreign.db").c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE accounts (x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_NE(open_error(dir.file("foreign.db")).find("did not make"), std::string::npos);
  {
    sqlite3* db = nullptr;
    sqlite3_open(dir.file("newer.db").c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_NE(open_error(dir.file("newer.db")).find("newer smppd"), std::string::npos);
}

TEST(SqliteStore, ATruncatedFileIsReportedWithHowToRecover) {
  TempDir dir;
  const std::string path = dir.file("messages.db");
  {
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    WriteBatch b;
    for (uint64_t id = 1; id <= 2'000; ++id) b.add_message(message(id));
    ASSERT_FALSE(store->write(b));
  }
  // Checkpointed into the main file (the store closed cleanly), then cut in half.
  ASSERT_FALSE(fs::exists(path + "-wal") && fs::file_size(path + "-wal") > 0);
  fs::resize_file(path, fs::file_size(path) / 2);
  auto r = SqliteStore::open({path});
  std::string error;
  if (auto* e = std::get_if<std::string>(&r)) {
    error = *e;
  } else {
    // Opened: the damage shows when the cut pages are read.
    auto& store = std::get<std::unique_ptr<SqliteStore>>(r);
    store->recover();
    WriteBatch b;
    for (uint64_t id = 3'000; id <= 3'100; ++id) b.add_message(message(id));
    auto f = store->write(b);
    ASSERT_TRUE(f) << "a truncated database took writes";
    error = f->what;
  }
  EXPECT_NE(error.find(path), std::string::npos) << error;
}

// A real full disk: a 1 MiB tmpfs (needs root to mount; CI runs as root).
TEST(SqliteStore, AFullDiskRefusesTheWriteAndKeepsWhatIsStored) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  const std::string mnt = dir.file("small");
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const std::string path = mnt + "/messages.db";
  auto store = open_ok(path);
  ASSERT_TRUE(store);
  WriteBatch b;
  b.add_message(message(1));
  ASSERT_FALSE(store->write(b));
  std::optional<WriteFailure> failure;
  const std::vector<uint8_t> big(4'000, 0x41);
  uint64_t id = 2;
  for (int i = 0; i < 1'000 && !failure; ++i) {
    b.clear();
    for (int j = 0; j < 20; ++j) {
      NewMessage m = message(id++);
      m.pdu = big;
      b.add_message(m);
    }
    failure = store->write(b);
  }
  ASSERT_TRUE(failure) << "1 MiB took 80 MB of messages";
  EXPECT_EQ(failure->kind, WriteFailure::Kind::full) << failure->what;
  EXPECT_NE(failure->what.find("disk is full"), std::string::npos) << failure->what;
  EXPECT_TRUE(store->message(1));  // what was stored stays
  // Room again (the disk grown, or files deleted elsewhere on it): writing resumes.
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0);
  b.clear();
  b.add_message(message(id + 1));
  EXPECT_FALSE(store->write(b));
  EXPECT_TRUE(store->message(id + 1));
}

}  // namespace
}  // namespace smppd::store
