// smppd started as systemd starts a Type=notify service: NOTIFY_SOCKET names a datagram socket
// (this test's), WATCHDOG_USEC and WATCHDOG_PID ask for pings. The daemon is the real binary
// (SMPPD_BINARY), signalled as systemctl reload and stop would.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

class NotifiedDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("smppd-notify-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    socket_path_ = (dir_ / "notify").string();
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    ASSERT_LT(socket_path_.size(), sizeof a.sun_path);
    socket_path_.copy(a.sun_path, socket_path_.size());
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    // smppd's own simulator as the upstream: nothing outside the test.
    std::ofstream(dir_ / "smppd.yaml") << R"(
listeners:
  - name: smpp
    type: smpp
    address: 127.0.0.1:0
upstreams:
  - name: simulator
    type: simulator
routes:
  - name: default
    match: { destination_addr: "*" }
    upstream: simulator
clients:
  - system_id: demo
    password: demo
)";
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Starts the daemon with the service manager's variables; `watchdog_usec` 0 asks for none,
  // `watchdog_pid` 0 names the daemon itself.
  void start(long watchdog_usec, pid_t watchdog_pid = 0) {
    const std::string config = (dir_ / "smppd.yaml").string();
    const std::string log = (dir_ / "smppd.log").string();
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      setenv("NOTIFY_SOCKET", socket_path_.c_str(), 1);
      if (watchdog_usec > 0) {
        setenv("WATCHDOG_USEC", std::to_string(watchdog_usec).c_str(), 1);
        setenv("WATCHDOG_PID", std::to_string(watchdog_pid ? watchdog_pid : getpid()).c_str(), 1);
      }
      if (FILE* f = std::freopen(log.c_str(), "w", stdout)) dup2(fileno(f), 2);
      execl(SMPPD_BINARY, SMPPD_BINARY, "--config", config.c_str(), "--threads", "1",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }

  // The next message the daemon sent, or "" after `wait`.
  std::string next(milliseconds wait) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(wait.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((wait.count() % 1000) * 1000);
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

  // Reads messages until one holds `what`; those read on the way are kept in `seen`.
  bool wait_for(const std::string& what, milliseconds within, std::vector<std::string>& seen) {
    const auto deadline = steady_clock::now() + within;
    while (steady_clock::now() < deadline) {
      std::string m = next(milliseconds(200));
      if (m.empty()) continue;
      seen.push_back(m);
      if (m.find(what) != std::string::npos) return true;
    }
    return false;
  }

  int exit_status() {
    int status = 0;
    const auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return -1;
  }

  std::string log_text() const {
    std::ifstream in(dir_ / "smppd.log");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
  std::string socket_path_;
  int fd_ = -1;
  pid_t pid_ = -1;
};

TEST_F(NotifiedDaemon, ReadyOnceRunningReloadingAroundAReloadStoppingAtTheEnd) {
  start(0);
  std::vector<std::string> seen;
  ASSERT_TRUE(wait_for("READY=1", std::chrono::seconds(20), seen)) << log_text();
  // READY comes after the listeners are bound: the log says where by then.
  EXPECT_NE(log_text().find("listening"), std::string::npos) << log_text();
  EXPECT_NE(seen.back().find("STATUS=running"), std::string::npos) << seen.back();
  for (const auto& m : seen) EXPECT_EQ(m.find("WATCHDOG=1"), std::string::npos) << "not asked for";

  // systemctl reload: ExecReload sends SIGHUP.
  seen.clear();
  kill(pid_, SIGHUP);
  ASSERT_TRUE(wait_for("RELOADING=1", std::chrono::seconds(10), seen)) << log_text();
  EXPECT_NE(seen.back().find("MONOTONIC_USEC="), std::string::npos) << seen.back();
  ASSERT_TRUE(wait_for("READY=1", std::chrono::seconds(10), seen)) << log_text();
  EXPECT_NE(seen.back().find("configuration reloaded"), std::string::npos) << seen.back();

  // A reload of a file that became invalid: READY again, saying so; the daemon runs on.
  std::ofstream(dir_ / "smppd.yaml", std::ios::app) << "bogus_key: 1\n";
  seen.clear();
  kill(pid_, SIGHUP);
  ASSERT_TRUE(wait_for("READY=1", std::chrono::seconds(10), seen)) << log_text();
  EXPECT_NE(seen.back().find("last reload failed"), std::string::npos) << seen.back();

  // systemctl stop: SIGTERM.
  seen.clear();
  kill(pid_, SIGTERM);
  ASSERT_TRUE(wait_for("STOPPING=1", std::chrono::seconds(10), seen)) << log_text();
  EXPECT_EQ(exit_status(), 0) << log_text();
}

TEST_F(NotifiedDaemon, PingsTheWatchdogAtHalfItsPeriod) {
  start(400000);  // WatchdogSec=0.4s: a ping every 200 ms
  std::vector<std::string> seen;
  ASSERT_TRUE(wait_for("READY=1", std::chrono::seconds(20), seen)) << log_text();
  const auto from = steady_clock::now();
  int pings = 0;
  while (steady_clock::now() - from < std::chrono::milliseconds(1500)) {
    if (next(milliseconds(300)).find("WATCHDOG=1") != std::string::npos) ++pings;
  }
  // About seven in 1.5 s; at least four even on a loaded machine.
  EXPECT_GE(pings, 4);
  EXPECT_NE(log_text().find("systemd watchdog: a ping every 200 ms"), std::string::npos) << log_text();
  kill(pid_, SIGTERM);
  EXPECT_EQ(exit_status(), 0) << log_text();
}

TEST_F(NotifiedDaemon, AWatchdogMeantForAnotherProcessIsNotPinged) {
  // WATCHDOG_PID names the process systemd started; a child that inherited it must not ping.
  start(200000, 1);
  std::vector<std::string> seen;
  ASSERT_TRUE(wait_for("READY=1", std::chrono::seconds(20), seen)) << log_text();
  seen.clear();
  wait_for("WATCHDOG=1", std::chrono::milliseconds(600), seen);
  for (const auto& m : seen) EXPECT_EQ(m.find("WATCHDOG=1"), std::string::npos) << m;
  kill(pid_, SIGTERM);
  EXPECT_EQ(exit_status(), 0) << log_text();
}

}  // namespace
