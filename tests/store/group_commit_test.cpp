// The group commit over a real SQLite file: many writers, one committer, tickets back only
// after the transaction.
#include "store/group_commit.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <latch>
#include <set>

#include "store/sqlite_store.hpp"

namespace smppd::store {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "smppd-commit-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::unique_ptr<SqliteStore> open_store(const std::string& path) {
  auto r = SqliteStore::open({path});
  if (auto* e = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << *e;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<SqliteStore>>(r));
}

const std::vector<uint8_t> kPdu(120, 0x42);

NewMessage message(uint64_t id) {
  NewMessage m;
  m.id = id;
  m.client = "acme";
  m.command_id = 4;
  m.accepted_at = 1;
  m.route = "r";
  m.upstream = "u";
  m.source = "s";
  m.destination = "d";
  m.pdu = kPdu;
  return m;
}

// Tickets come back once their writes are readable, grouped: far fewer commits than writes.
TEST(GroupCommit, ManyWritersFewTransactionsEveryTicketAfterItsCommit) {
  TempDir dir;
  auto store = open_store(dir.path + "/m.db");
  ASSERT_TRUE(store);
  constexpr int kThreads = 4, kPerThread = 2'000;
  std::mutex m;
  std::set<uint64_t> done;
  std::atomic<int> unreadable{0};
  GroupCommit<uint64_t> commit(
      *store, {.shards = kThreads},
      [&](std::size_t, std::vector<uint64_t>& tickets, const WriteFailure* f) {
        ASSERT_EQ(f, nullptr);
        // Committed: readable through the store's other connection.
        if (!store->message(tickets.back())) unreadable.fetch_add(1);
        std::lock_guard lock(m);
        done.insert(tickets.begin(), tickets.end());
      });
  commit.start();
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const uint64_t id = static_cast<uint64_t>(t) * kPerThread + i + 1;
        commit.write(static_cast<std::size_t>(t), [&](WriteBatch& b, std::vector<uint64_t>& k) {
          b.add_message(message(id));
          k.push_back(id);
        });
      }
    });
  }
  for (auto& w : writers) w.join();
  commit.stop();
  EXPECT_EQ(done.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(unreadable.load(), 0);
  const auto commits = commit.stats().commits.load();
  EXPECT_EQ(commit.stats().messages.load(), static_cast<uint64_t>(kThreads * kPerThread));
  // With fsync on, 8,000 messages one transaction each would be 8,000 commits.
  EXPECT_LT(commits, 2'000u) << "no grouping";
  EXPECT_EQ(store->stats().messages, static_cast<uint64_t>(kThreads * kPerThread));
}

TEST(GroupCommit, StopCommitsWhatWasWritten) {
  TempDir dir;
  auto store = open_store(dir.path + "/m.db");
  ASSERT_TRUE(store);
  std::atomic<int> tickets{0};
  GroupCommit<int> commit(*store, {.shards = 1},
                          [&](std::size_t, std::vector<int>& t, const WriteFailure*) {
                            tickets.fetch_add(static_cast<int>(t.size()));
                          });
  commit.start();
  for (uint64_t id = 1; id <= 500; ++id) {
    commit.write(0, [&](WriteBatch& b, std::vector<int>& t) {
      b.add_message(message(id));
      t.push_back(1);
    });
  }
  commit.stop();
  EXPECT_EQ(tickets.load(), 500);
  EXPECT_EQ(store->stats().messages, 500u);
}

// A full disk: tickets of the failed commit come back with the failure and their new messages
// are not stored; the other writes are carried to the next commit, which succeeds once there
// is room again.
TEST(GroupCommit, AFailedCommitRefusesNewMessagesAndCarriesTheRestUntilTheDiskHasRoom) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  const std::string mnt = dir.path + "/small";
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=512k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  auto store = open_store(mnt + "/m.db");
  ASSERT_TRUE(store);
  std::mutex m;
  std::vector<std::pair<uint64_t, bool>> outcomes;  // ticket, committed
  std::atomic<int> health_changes{0};
  GroupCommit<uint64_t> commit(
      *store, {.shards = 1, .retry_delay = std::chrono::milliseconds(20)},
      [&](std::size_t, std::vector<uint64_t>& t, const WriteFailure* f) {
        std::lock_guard lock(m);
        for (uint64_t id : t) outcomes.emplace_back(id, f == nullptr);
      },
      [&](const WriteFailure*) { health_changes.fetch_add(1); });
  commit.start();
  // Message 1 is stored; then big messages until the disk is full.
  const std::vector<uint8_t> big(8'000, 0x43);
  auto write_message = [&](uint64_t id, const std::vector<uint8_t>& pdu) {
    commit.write(0, [&](WriteBatch& b, std::vector<uint64_t>& t) {
      NewMessage n = message(id);
      n.pdu = pdu;
      b.add_message(n);
      t.push_back(id);
    });
  };
  write_message(1, kPdu);
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return pred();
  };
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(m);
    return !outcomes.empty();
  }));
  uint64_t id = 2;
  while (!commit.failing() && id < 2'000) {
    write_message(id++, big);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(commit.failing()) << "512 KiB took 16 MB";
  // What room the last refused message left (less than its 8 KB, maybe a page or two) is taken
  // too: a small write must find none, or the state change below could commit at once.
  {
    std::FILE* filler = std::fopen((mnt + "/filler").c_str(), "wb");
    ASSERT_NE(filler, nullptr);
    const std::vector<char> block(512, 0);
    while (std::fwrite(block.data(), 1, block.size(), filler) == block.size() &&
           std::fflush(filler) == 0) {
    }
    std::fclose(filler);
  }
  // A state change of message 1 while the disk is full: carried, not lost.
  commit.write(0, [&](WriteBatch& b, std::vector<uint64_t>&) {
    b.set_state(1, MessageState::delivered, 99);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store->message(1)->state, MessageState::queued);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0);
  ASSERT_TRUE(wait_for([&] { return !commit.failing(); }));
  ASSERT_TRUE(wait_for([&] { return store->message(1)->state == MessageState::delivered; }));
  commit.stop();
  EXPECT_EQ(health_changes.load(), 2);  // failing, then working again
  // Every ticket came back once; the refused ones are not in the store, the others are.
  std::lock_guard lock(m);
  std::size_t refused = 0;
  std::set<uint64_t> seen;
  for (auto [ticket, ok] : outcomes) {
    EXPECT_TRUE(seen.insert(ticket).second) << "ticket " << ticket << " came back twice";
    EXPECT_EQ(store->message(ticket).has_value(), ok) << "ticket " << ticket;
    if (!ok) ++refused;
  }
  EXPECT_EQ(seen.size(), id - 1);
  EXPECT_GT(refused, 0u);
}

}  // namespace
}  // namespace smppd::store
