// External authentication (the `auth` section): a system_id that is not among the configured
// clients is asked of the enabled backends (LDAP, RADIUS, HTTP) in auth.order.
//
// What comes back:
//  - the first backend that accepts decides: the client is admitted with the settings it gave
//    (client_settings.hpp), over auth.defaults;
//  - a backend that does not know the system_id, or refuses the password, passes it to the next;
//  - none accepts: refused (wrong_password when one refused it, else unknown_system_id);
//  - none accepts and one failed (down, slow, a bad answer): the bind fails
//    (auth_backend_failed), unless an accept remembered within auth.stale_ttl past its cache_ttl
//    admits it.
// Answers are cached (answer_cache.hpp); concurrent asks with the same key are merged into one.
//
// Nothing here runs on the caller's thread: lookups run on the authenticator's own threads (one
// for HTTP and RADIUS, which never block it; `connections` for LDAP, whose library blocks), and
// `done` is called there, once, by the backends' timeouts at the latest. The caller hops back to
// its own executor. Knows sockets (HTTP, UDP, libldap); nothing of sessions or messages.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/counters.hpp"

namespace smppd::extauth {

struct Request {
  std::string system_id;
  std::string password;
  boost::asio::ip::address peer;
  config::BindType bind_type = config::BindType::transmitter;
  std::string listener;  // the listener's name (for the backends; "http", "grpc" faces too)
};

struct Answer {
  enum class Outcome : uint8_t { accepted, refused, failed };
  Outcome outcome = Outcome::failed;
  std::shared_ptr<const config::ClientConfig> client;  // accepted
  // refused: auth::reason::kUnknownSystemId or kWrongPassword; failed: "auth_backend_failed".
  std::string_view reason;
  std::string backend;  // who decided ("ldap", "radius", "http"; "cache")
  bool cached = false;  // from the cache (fresh)
  bool stale = false;   // a stale accept, because the backends failed
  bool ok() const { return outcome == Outcome::accepted; }
};

inline constexpr std::string_view kBackendFailed = "auth_backend_failed";
// Longer credentials are refused without asking anyone (SMPP's are 15 and 8).
inline constexpr std::size_t kMaxSystemId = 64;
inline constexpr std::size_t kMaxPassword = 128;

// One backend's verdict.
struct Verdict {
  enum class Kind : uint8_t { accepted, unknown, refused, failed };
  Kind kind = Kind::failed;
  std::shared_ptr<const config::ClientConfig> client;  // accepted
  std::string error;  // failed: why (never a secret)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual config::Duration cache_ttl() const = 0;
  // Calls `done` once, on any of the authenticator's threads, by its timeout at the latest.
  virtual void check(const Request& r, std::function<void(Verdict)> done) = 0;
  virtual void stop() {}
};

class Authenticator {
 public:
  explicit Authenticator(Counters& counters);
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // Takes a configuration (at start and on reload): when its auth section or its upstreams
  // changed, new backends are made (asks already begun end on the old ones) and the cache is
  // forgotten. Throws std::runtime_error when a backend cannot be made (a CA file unreadable).
  void configure(const config::Config& config);
  bool enabled() const;

  using Done = std::function<void(Answer)>;
  // Thread safe. `done` is called once: inside this call when the answer is known at once (a
  // fresh cached one, credentials refused unasked, stopped), else later on the authenticator's
  // threads.
  void authenticate(Request request, Done done);
  // The fresh cached answer to `request`, without asking anyone (nullopt: none).
  std::optional<Answer> cached(const Request& request) const;
  // Later asks fail at once; those in flight end by their timeouts. Joins the threads.
  void stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace smppd::extauth
