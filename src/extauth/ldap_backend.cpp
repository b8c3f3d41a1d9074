// The LDAP backend: search the client's entry as bind_dn, then bind as the entry with the
// password. libldap's synchronous calls run on threads of the backend's own (never a worker's),
// one connection per thread at most, kept between asks. A connection that failed (the server
// restarted, a timeout) is dropped and one new connection is tried within the same ask.
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <ldap.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include "extauth/backends.hpp"
#include "extauth/client_settings.hpp"

namespace smppd::extauth {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxWaiting = 1000;

struct Connection {
  LDAP* ld = nullptr;
  bool service_bound = false;  // bound as bind_dn (or anonymous) for searches
  ~Connection() {
    if (ld != nullptr) ldap_unbind_ext_s(ld, nullptr, nullptr);
  }
};

timeval timeval_of(std::chrono::milliseconds ms) {
  if (ms.count() < 1) ms = std::chrono::milliseconds(1);
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// Errors after which the connection is no good: the next try takes a new one.
bool connection_lost(int rc) {
  return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT ||
         rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_LOCAL_ERROR ||
         rc == LDAP_OPERATIONS_ERROR;
}

class LdapBackend final : public Backend, public std::enable_shared_from_this<LdapBackend> {
 public:
  LdapBackend(const config::LdapAuth& c, const config::ExternalDefaults& defaults,
              Upstreams upstreams)
      : c_(c), defaults_(defaults), upstreams_(std::move(upstreams)), pool_(c.connections) {
    auto add = [&](const std::string& name, Field f) {
      if (name.empty()) return;
      attributes_.emplace_back(name, f);
    };
    const auto& a = c_.attributes;
    add(a.allowed_ips, Field::allowed_ips);
    add(a.bind_types, Field::bind_types);
    add(a.rate_limit, Field::rate_limit);
    add(a.window_size, Field::window_size);
    add(a.max_connections, Field::max_connections);
    add(a.upstream, Field::upstream);
    add(a.tier, Field::tier);
    add(a.tags, Field::tags);
    for (auto& [name, field] : attributes_) attribute_names_.push_back(name.data());
    if (attribute_names_.empty()) attribute_names_.push_back(no_attributes_);
    attribute_names_.push_back(nullptr);
  }
  ~LdapBackend() override { stop(); }

  std::string_view name() const override { return "ldap"; }
  config::Duration cache_ttl() const override { return c_.cache_ttl; }

  void check(const Request& r, std::function<void(Verdict)> done) override {
    if (waiting_.fetch_add(1) >= kMaxWaiting) {
      waiting_.fetch_sub(1);
      Verdict v;
      v.error = "too many LDAP lookups waiting (" + std::to_string(kMaxWaiting) + ")";
      asio::post(pool_, [done = std::move(done), v = std::move(v)]() mutable { done(std::move(v)); });
      return;
    }
    const auto deadline = Clock::now() + c_.timeout;
    asio::post(pool_, [self = shared_from_this(), r, deadline, done = std::move(done)]() mutable {
      self->waiting_.fetch_sub(1);
      done(self->run(r, deadline));
    });
  }

  // Lets the asks queued and running end (each by its deadline; those past it at once), so that
  // every `done` is called, then closes the connections. Idempotent.
  void stop() override {
    pool_.join();
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

 private:
  // On a pool thread.
  Verdict run(const Request& r, Clock::time_point deadline) {
    Verdict v;
    if (r.password.empty()) {
      // An LDAP bind with a DN and no password is an anonymous bind that succeeds (RFC 4513
      // 5.1.2): never a way in.
      v.kind = Verdict::Kind::refused;
      return v;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        if (v.error.empty()) v.error = "no answer within " + std::to_string(c_.timeout.count()) + " ms";
        return v;
      }
      std::unique_ptr<Connection> conn = take();
      const bool reused = conn != nullptr;
      std::string error;
      if (!conn) conn = open(deadline, error);
      if (!conn) {
        v.error = error;
        return v;  // a new connection failed: the server is down
      }
      bool lost = false;
      v = ask(*conn, r, deadline, lost);
      if (!lost) {
        give_back(std::move(conn));
        return v;
      }
      // The connection is gone (or in doubt): a reused one may have died with a restart of the
      // server, so one new connection is tried.
      if (!reused) return v;
    }
    return v;
  }

  std::unique_ptr<Connection> take() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  void give_back(std::unique_ptr<Connection> c) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(c));
  }

  static std::string why(LDAP* ld, int rc) {
    std::string text = ldap_err2string(rc);
    char* diagnostic = nullptr;
    if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS &&
        diagnostic != nullptr) {
      if (*diagnostic != '\0') text += std::string(" (") + diagnostic + ")";
      ldap_memfree(diagnostic);
    }
    return text;
  }

  void set_timeout(LDAP* ld, std::chrono::milliseconds left) {
    const timeval tv = timeval_of(left);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
  }

  // A new connection (StartTLS, the search identity's bind), each step within `deadline`.
  std::unique_ptr<Connection> open(Clock::time_point deadline, std::string& error) {
    const std::string timed_out = "no answer within " + std::to_string(c_.timeout.count()) + " ms";
    auto left = time_left(deadline);
    if (!left) {
      error = timed_out;
      return nullptr;
    }
    auto conn = std::make_unique<Connection>();
    int rc = ldap_initialize(&conn->ld, c_.url.c_str());
    if (rc != LDAP_SUCCESS) {
      error = "cannot use url: " + why(nullptr, rc);
      return nullptr;
    }
    LDAP* ld = conn->ld;
    const int version = LDAP_VERSION3;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    set_timeout(ld, *left);
    if (!c_.ca_file.empty()) {
      ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c_.ca_file.c_str());
    }
    const int demand = LDAP_OPT_X_TLS_DEMAND;
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    const int client = 0;
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &client);
    if (c_.start_tls) {
      rc = ldap_start_tls_s(ld, nullptr, nullptr);  // connects, within the time left
      if (rc != LDAP_SUCCESS) {
        error = "StartTLS failed: " + why(ld, rc);
        return nullptr;
      }
    }
    left = time_left(deadline);
    if (!left) {
      error = timed_out;
      return nullptr;
    }
    set_timeout(ld, *left);
    if (!service_bind(*conn, error)) return nullptr;
    return conn;
  }

  bool service_bind(Connection& conn, std::string& error) {
    berval cred{static_cast<ber_len_t>(c_.bind_password.size()),
                const_cast<char*>(c_.bind_password.data())};
    const int rc = ldap_sasl_bind_s(conn.ld, c_.bind_dn.empty() ? nullptr : c_.bind_dn.c_str(),
                                    LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
      // The search identity itself (never its password) is named.
      error = "bind as '" + c_.bind_dn + "' failed: " + why(conn.ld, rc);
      return false;
    }
    conn.service_bound = true;
    return true;
  }

  std::string filter_for(std::string_view system_id) {
    berval in{static_cast<ber_len_t>(system_id.size()), const_cast<char*>(system_id.data())};
    berval out{0, nullptr};
    std::string escaped;
    if (ldap_bv2escaped_filter_value(&in, &out) == 0 && out.bv_val != nullptr) {
      escaped.assign(out.bv_val, out.bv_len);
      ber_memfree(out.bv_val);
    }
    std::string f = c_.filter;
    for (std::size_t at = f.find("{system_id}"); at != std::string::npos;
         at = f.find("{system_id}", at + escaped.size())) {
      f.replace(at, 11, escaped);
    }
    return f;
  }

  // The time left before `deadline` (each operation gets only that), or nothing when none is.
  std::optional<std::chrono::milliseconds> time_left(Clock::time_point deadline) const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    return left;
  }

  Verdict ask(Connection& conn, const Request& r, Clock::time_point deadline, bool& lost) {
    Verdict v;
    LDAP* ld = conn.ld;
    const std::string timed_out = "no answer within " + std::to_string(c_.timeout.count()) + " ms";
    auto left = time_left(deadline);
    if (!left) {
      v.error = timed_out;
      return v;
    }
    set_timeout(ld, *left);
    if (!conn.service_bound && !service_bind(conn, v.error)) {
      lost = true;
      return v;
    }
    const std::string filter = filter_for(r.system_id);
    left = time_left(deadline);
    if (!left) {
      v.error = timed_out;
      return v;
    }
    set_timeout(ld, *left);
    timeval tv = timeval_of(*left);
    LDAPMessage* result = nullptr;
    int rc = ldap_search_ext_s(ld, c_.base_dn.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(),
                               attribute_names_.data(), 0, nullptr, nullptr, &tv, 2, &result);
    struct Free {
      LDAPMessage* m;
      ~Free() {
        if (m != nullptr) ldap_msgfree(m);
      }
    } free_result{result};
    const int entries = result != nullptr ? ldap_count_entries(ld, result) : 0;
    if (rc == LDAP_SIZELIMIT_EXCEEDED || entries > 1) {
      v.error = "more than one entry matches " + filter;
      return v;
    }
    if (rc == LDAP_NO_SUCH_OBJECT) {
      v.error = "base_dn '" + c_.base_dn + "' does not exist";
      return v;
    }
    if (rc != LDAP_SUCCESS) {
      v.error = "search failed: " + why(ld, rc);
      lost = connection_lost(rc);
      return v;
    }
    if (entries == 0) {
      v.kind = Verdict::Kind::unknown;
      return v;
    }
    LDAPMessage* entry = ldap_first_entry(ld, result);
    char* dn_text = ldap_get_dn(ld, entry);
    const std::string dn = dn_text != nullptr ? dn_text : "";
    if (dn_text != nullptr) ldap_memfree(dn_text);
    SettingsBuilder builder(r.system_id, defaults_, upstreams_.get());
    for (const auto& [attribute, field] : attributes_) {
      berval** values = ldap_get_values_len(ld, entry, attribute.c_str());
      if (values == nullptr) continue;
      builder.source_name(attribute);
      for (berval** value = values; *value != nullptr; ++value) {
        builder.add(field, std::string_view((*value)->bv_val, (*value)->bv_len));
      }
      ldap_value_free_len(values);
    }
    // The password is checked by a bind as the entry; the connection is then bound as the client
    // and binds as bind_dn again before its next search.
    conn.service_bound = false;
    left = time_left(deadline);
    if (!left) {
      v.error = timed_out;
      return v;
    }
    set_timeout(ld, *left);
    berval cred{static_cast<ber_len_t>(r.password.size()), const_cast<char*>(r.password.data())};
    rc = ldap_sasl_bind_s(ld, dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
        rc == LDAP_UNWILLING_TO_PERFORM) {
      v.kind = Verdict::Kind::refused;
      return v;
    }
    if (rc != LDAP_SUCCESS) {
      v.error = "bind as the client's entry failed: " + why(ld, rc);
      lost = connection_lost(rc);
      return v;
    }
    if (builder.failed()) {
      v.error = "the entry of '" + r.system_id + "': " + builder.error();
      return v;
    }
    v.kind = Verdict::Kind::accepted;
    v.client = builder.build();
    return v;
  }

  const config::LdapAuth c_;
  const config::ExternalDefaults defaults_;
  Upstreams upstreams_;
  std::vector<std::pair<std::string, Field>> attributes_;
  char no_attributes_[4] = "1.1";  // RFC 4511: no attributes
  std::vector<char*> attribute_names_;
  std::atomic<std::size_t> waiting_{0};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
  asio::thread_pool pool_;  // last: its threads stop before what they use goes
};

}  // namespace

std::shared_ptr<Backend> make_ldap_backend(const config::LdapAuth& c,
                                           const config::ExternalDefaults& defaults,
                                           Upstreams upstreams) {
  return std::make_shared<LdapBackend>(c, defaults, std::move(upstreams));
}

}  // namespace smppd::extauth
