#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <string_view>

// Tells the service manager what the daemon is doing, through libsystemd's sd_notify: READY
// once the listeners are up, RELOADING and READY around a reload, STOPPING at shutdown, and
// WATCHDOG pings while the first worker's event loop runs (when the unit sets WatchdogSec).
// Without NOTIFY_SOCKET (not started by systemd with Type=notify) every call does nothing.
namespace smppd::server {

class ServiceNotify {
 public:
  ServiceNotify();
  ~ServiceNotify();
  ServiceNotify(const ServiceNotify&) = delete;
  ServiceNotify& operator=(const ServiceNotify&) = delete;

  // True when a service manager listens (NOTIFY_SOCKET is set).
  bool enabled() const { return enabled_; }
  // The period systemd asked for (WATCHDOG_USEC for this process), zero when none.
  std::chrono::microseconds watchdog_period() const { return watchdog_; }

  // After stopping(), ready() and reloading() say nothing: a reload or a start that finishes
  // while smppd stops must not tell systemd it is running again.
  void ready(std::string_view status) const;
  void reloading(std::string_view why) const;
  void stopping();
  void status(std::string_view text) const;

  // Pings every half period on `executor` (an event loop that stops pinging when it hangs)
  // until stop_watchdog(). Nothing when no watchdog was asked for.
  void start_watchdog(const boost::asio::any_io_executor& executor);
  // On the watchdog's executor, or once it has stopped running.
  void stop_watchdog();

 private:
  void ping();

  bool enabled_ = false;
  std::atomic<bool> stopping_{false};
  std::chrono::microseconds watchdog_{0};
  std::unique_ptr<boost::asio::steady_timer> timer_;
};

}  // namespace smppd::server
