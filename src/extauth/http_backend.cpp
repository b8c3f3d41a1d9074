// The HTTP backend: a JSON POST of the credentials to auth.http.url. 200 with a JSON object
// accepts (its fields are the client's settings, http_answer.hpp); 401 and 403 refuse; 404
// says the system_id is unknown (the next backend is asked); anything else, or no answer within
// the timeout, is a failure.
#include <boost/asio/ip/address.hpp>

#include "api/http/async_client.hpp"
#include "extauth/backends.hpp"
#include "extauth/client_settings.hpp"
#include "extauth/http_answer.hpp"

namespace smppd::extauth {

namespace {

namespace asio = boost::asio;

class HttpBackend final : public Backend {
 public:
  HttpBackend(asio::any_io_executor ex, const config::HttpAuth& c,
              const config::ExternalDefaults& defaults, Upstreams upstreams)
      : c_(c), defaults_(defaults), upstreams_(std::move(upstreams)),
        client_(std::move(ex), settings(c)) {}
  ~HttpBackend() override { client_.stop(); }

  std::string_view name() const override { return "http"; }
  config::Duration cache_ttl() const override { return c_.cache_ttl; }

  void check(const Request& r, std::function<void(Verdict)> done) override {
    http::AsyncClient::Request request;
    request.method = "POST";
    request.url = c_.url;
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("Accept", "application/json");
    for (const auto& [name, value] : c_.headers) request.headers.emplace_back(name, value);
    const std::string ip = r.peer.is_v6() && r.peer.to_v6().is_v4_mapped()
                               ? r.peer.to_v6().to_v4().to_string()
                               : r.peer.to_string();
    request.body = http_request_body(r.system_id, r.password, ip, bind_type_name(r.bind_type),
                                     r.listener);
    client_.request(std::move(request), [this, system_id = r.system_id,
                                         done = std::move(done)](http::AsyncClient::Result res) {
      done(verdict(system_id, res));
    });
  }

  void stop() override { client_.stop(); }

 private:
  static http::AsyncClient::Settings settings(const config::HttpAuth& c) {
    http::AsyncClient::Settings s;
    s.request_timeout = c.timeout;
    s.connect_timeout = c.timeout;
    s.tls_ca_file = c.ca_file;
    s.max_concurrent_per_origin = 32;
    s.max_queued_per_origin = 1000;
    s.max_idle_per_origin = 32;
    return s;
  }

  Verdict verdict(const std::string& system_id, const http::AsyncClient::Result& res) const {
    Verdict v;
    if (res.status == 0) {
      v.error = res.error;
      return v;
    }
    if (res.status == 401 || res.status == 403) {
      v.kind = Verdict::Kind::refused;
      return v;
    }
    if (res.status == 404) {
      v.kind = Verdict::Kind::unknown;
      return v;
    }
    if (res.status != 200) {
      v.error = "answered HTTP " + std::to_string(res.status);
      return v;
    }
    SettingsBuilder builder(system_id, defaults_, upstreams_.get());
    std::string error;
    if (!read_http_answer(res.body, builder, error)) {
      v.error = "its answer for '" + system_id + "': " + error;
      return v;
    }
    v.kind = Verdict::Kind::accepted;
    v.client = builder.build();
    return v;
  }

  const config::HttpAuth c_;
  const config::ExternalDefaults defaults_;
  Upstreams upstreams_;
  http::AsyncClient client_;
};

}  // namespace

std::string_view bind_type_name(config::BindType t) {
  switch (t) {
    case config::BindType::transmitter:
      return "transmitter";
    case config::BindType::receiver:
      return "receiver";
    case config::BindType::transceiver:
      return "transceiver";
  }
  return "transceiver";
}

std::shared_ptr<Backend> make_http_backend(asio::any_io_executor executor,
                                           const config::HttpAuth& c,
                                           const config::ExternalDefaults& defaults,
                                           Upstreams upstreams) {
  return std::make_shared<HttpBackend>(std::move(executor), c, defaults, std::move(upstreams));
}

}  // namespace smppd::extauth
