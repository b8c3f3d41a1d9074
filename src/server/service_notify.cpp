#include "server/service_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/log.hpp"

namespace smppd::server {

namespace {

// "MONOTONIC_USEC=": systemd 253 and later ask for it with RELOADING=1 (Type=notify-reload);
// earlier ones ignore it.
uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// One line of a status text: a newline would start another assignment.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

ServiceNotify::ServiceNotify() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  // Checks WATCHDOG_PID against this process: a child that inherited the variables does not ping.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

ServiceNotify::~ServiceNotify() = default;

void ServiceNotify::ready(std::string_view status) const {
  if (!enabled_ || stopping_.load()) return;
  sd_notifyf(0, "READY=1\nSTATUS=%s", one_line(status).c_str());
}

void ServiceNotify::reloading(std::string_view why) const {
  if (!enabled_ || stopping_.load()) return;
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading (%s)",
             static_cast<unsigned long long>(monotonic_usec()), one_line(why).c_str());
}

void ServiceNotify::stopping() {
  stopping_.store(true);
  if (!enabled_) return;
  sd_notify(0, "STOPPING=1\nSTATUS=shutting down: unbinding sessions");
}

void ServiceNotify::status(std::string_view text) const {
  if (!enabled_) return;
  sd_notifyf(0, "STATUS=%s", one_line(text).c_str());
}

void ServiceNotify::start_watchdog(const boost::asio::any_io_executor& executor) {
  if (watchdog_.count() <= 0) return;
  log::info("systemd watchdog: a ping every {} ms", watchdog_.count() / 2000);
  timer_ = std::make_unique<boost::asio::steady_timer>(executor);
  ping();
}

void ServiceNotify::stop_watchdog() {
  if (timer_) timer_->cancel();
}

void ServiceNotify::ping() {
  sd_notify(0, "WATCHDOG=1");
  timer_->expires_after(watchdog_ / 2);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ping();
  });
}

}  // namespace smppd::server
