#include "api/http/async_client.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <deque>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "api/http/url.hpp"
#include "config/config.hpp"
#include "net/tls.hpp"

namespace smppd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using Result = AsyncClient::Result;
using OutgoingRequest = bhttp::request<bhttp::string_body>;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

Result failure(std::string error, bool retryable) {
  Result r;
  r.error = std::move(error);
  r.retryable = retryable;
  return r;
}

Result stopping() {
  // Not the remote's doing: the request may be sent again by whoever takes over.
  return failure("client stopping", true);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// RFC 9110 tokens (methods, header names) and field values: what the caller gives goes on the
// wire as is, so nothing in it may end a line.
bool is_token(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

bool is_field_value(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// The server closed or reset the connection. On a kept-alive connection, before any byte of
// the answer, that is a server that closed it while idle (the request never reached a handler).
bool closed_by_peer(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

std::string describe(const error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return "connection reset by the server";
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == ssl::error::stream_truncated)
    return "connection closed by the server before an answer";
  if (ec == bhttp::error::partial_message)
    return "connection closed by the server in the middle of the answer";
  return ec.message();
}

std::string after(std::chrono::milliseconds d) {
  return "after " + std::to_string(d.count()) + " ms";
}

}  // namespace

std::string_view Result::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

namespace {

// One connection to an origin: busy with a request, or idle in its origin's pool.
struct Connection {
  explicit Connection(const asio::any_io_executor& ex) : tcp(ex), idle_timer(ex) {}
  // Its expiry bounds every step: Beast closes the socket at the deadline and the step fails
  // with beast::error::timeout, TLS steps included (they read and write through it).
  beast::tcp_stream tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream&>> tls;  // https only
  asio::steady_timer idle_timer;
  // Changes whenever the connection enters or leaves the pool: the pool's watchers (a wait for
  // the socket to become readable, the idle timer) act only on the stay they were set for.
  uint64_t stay = 0;
  bool idle = false;

  void close() {
    idle = false;
    ++stay;
    idle_timer.cancel();
    tcp.close();  // a pending step completes with operation_aborted
  }
};

// A name being resolved. Asio resolves on a thread of its own and cannot interrupt
// getaddrinfo, so the request does not wait for it past its deadline: it waits on `timer`,
// which the answer cancels. A late answer lands here and goes nowhere.
struct Lookup {
  explicit Lookup(const asio::any_io_executor& ex) : resolver(ex), timer(ex) {}
  tcp::resolver resolver;
  asio::steady_timer timer;
  bool answered = false;
  error_code error;
  tcp::resolver::results_type results;
};

// What a request in flight is waiting on, for stop() to cut.
struct Flight {
  std::shared_ptr<Connection> connection;
  std::shared_ptr<Lookup> lookup;
};

struct Pending {
  Url url;
  AsyncClient::Request request;
  AsyncClient::Callback done;
  Clock::time_point deadline;
};

struct Origin {
  std::string key;                                // Url::origin()
  std::vector<std::shared_ptr<Connection>> idle;  // the most recently used last
  std::deque<Pending> waiting;                    // for a slot, oldest first
  std::size_t active = 0;                         // requests holding a slot
};

// One exchange on one connection.
struct Outcome {
  Result result;
  bool closed_before_answer = false;  // EOF or reset before any byte of the answer
  bool reusable = false;              // a complete answer, keep-alive, nothing after it
};

}  // namespace

// Everything below runs on `strand`; only the constructor's fields are read elsewhere.
struct AsyncClient::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, Settings s, std::shared_ptr<ssl::context> context)
      : strand(asio::make_strand(std::move(ex))),
        settings(std::move(s)),
        tls(std::move(context)),
        check_names(SSL_CTX_get_verify_mode(tls->native_handle()) != SSL_VERIFY_NONE) {}

  const asio::any_io_executor strand;
  const Settings settings;
  const std::shared_ptr<ssl::context> tls;
  const bool check_names;
  std::atomic<bool> stop_requested{false};

  bool stopped = false;
  std::unordered_map<std::string, std::unique_ptr<Origin>> origins;
  std::set<Flight*> flights;

  void submit(Request request, Callback done, Clock::time_point deadline);
  void start(Origin& origin, Pending pending);
  void pump(Origin& origin);
  void forget_if_unused(Origin& origin);
  void deliver(Callback done, Result result);
  void shut_down();

  asio::awaitable<void> run(Origin& origin, Pending pending);
  asio::awaitable<Result> attempt(Origin& origin, Pending& pending, Flight& flight);
  asio::awaitable<std::optional<Result>> open(Connection& c, const Url& url,
                                              Clock::time_point deadline, Flight& flight);
  asio::awaitable<Outcome> exchange(Connection& c, const OutgoingRequest& request,
                                    Clock::time_point deadline);
  template <class Stream>
  asio::awaitable<Outcome> exchange_on(Stream& stream, Connection& c,
                                       const OutgoingRequest& request, Clock::time_point deadline);
  Result read_failure(Connection& c, const error_code& ec) const;

  std::shared_ptr<Connection> take_idle(Origin& origin);
  // Back to the pool when the answer allows and there is room; closed otherwise.
  void settle(Origin& origin, std::shared_ptr<Connection> c, bool reusable);
  void retire_idle(const std::string& key, const std::shared_ptr<Connection>& c, uint64_t stay);

  std::string timed_out() const { return "timed out " + after(settings.request_timeout); }
};

void AsyncClient::State::submit(Request request, Callback done, Clock::time_point deadline) {
  if (stopped) return deliver(std::move(done), stopping());
  std::string error;
  auto url = parse_url(request.url, error);
  if (!url) return deliver(std::move(done), failure(std::move(error), false));
  if (!is_token(request.method))
    return deliver(std::move(done), failure("invalid method \"" + request.method + "\"", false));
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name) || !is_field_value(value))
      return deliver(std::move(done), failure("invalid header \"" + name + "\"", false));
  }
  auto& slot = origins[url->origin()];
  if (!slot) {
    slot = std::make_unique<Origin>();
    slot->key = url->origin();
  }
  Origin& origin = *slot;
  Pending pending{std::move(*url), std::move(request), std::move(done), deadline};
  // While a slot is free the queue is empty (pump fills free slots first): FIFO holds.
  if (origin.active < settings.max_concurrent_per_origin) {
    start(origin, std::move(pending));
  } else if (origin.waiting.size() < settings.max_queued_per_origin) {
    origin.waiting.push_back(std::move(pending));
  } else {
    deliver(std::move(pending.done), failure("queue full", true));
  }
}

void AsyncClient::State::start(Origin& origin, Pending pending) {
  ++origin.active;
  // `origin` outlives the coroutine: an origin with active requests is never forgotten.
  asio::co_spawn(
      strand,
      [self = shared_from_this(), &origin, p = std::move(pending)]() mutable {
        return self->run(origin, std::move(p));
      },
      asio::detached);
}

void AsyncClient::State::pump(Origin& origin) {
  while (!origin.waiting.empty() && origin.active < settings.max_concurrent_per_origin) {
    Pending next = std::move(origin.waiting.front());
    origin.waiting.pop_front();
    // The queue is in deadline order and the requests ahead of it had earlier deadlines, so a
    // request that waited past its own is answered when the slot frees, soon after it.
    if (Clock::now() >= next.deadline) {
      deliver(std::move(next.done), failure(timed_out(), true));
      continue;
    }
    start(origin, std::move(next));
  }
  forget_if_unused(origin);
}

void AsyncClient::State::forget_if_unused(Origin& origin) {
  // Webhook URLs come and go with customers: an origin with nothing left is not kept.
  if (origin.active != 0 || !origin.waiting.empty() || !origin.idle.empty()) return;
  const std::string key = origin.key;
  origins.erase(key);
}

void AsyncClient::State::deliver(Callback done, Result result) {
  // A handler of its own: the callback never runs inside the client's bookkeeping, and what it
  // throws goes to the executor's run(), not through the client.
  asio::post(strand, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void AsyncClient::State::shut_down() {
  if (stopped) return;
  stopped = true;
  for (auto& [key, origin] : origins) {
    for (Pending& p : origin->waiting) deliver(std::move(p.done), stopping());
    origin->waiting.clear();
    for (const auto& c : origin->idle) c->close();
    origin->idle.clear();
  }
  // Each request in flight wakes with an error, sees `stopped`, and ends ("client stopping").
  for (Flight* f : flights) {
    if (f->connection) f->connection->close();
    if (f->lookup) f->lookup->timer.cancel();
  }
  std::erase_if(origins, [](const auto& entry) { return entry.second->active == 0; });
}

asio::awaitable<void> AsyncClient::State::run(Origin& origin, Pending pending) {
  auto self = shared_from_this();
  Flight flight;
  flights.insert(&flight);
  Result result = stopping();
  try {
    if (!stopped) result = co_await attempt(origin, pending, flight);  // stop() came first
  } catch (const std::exception& e) {  // out of memory, OpenSSL unable to make an SSL
    result = failure(e.what(), true);
  }
  flights.erase(&flight);
  if (stopped && result.status == 0) result = stopping();
  deliver(std::move(pending.done), std::move(result));
  --origin.active;
  pump(origin);
}

asio::awaitable<Result> AsyncClient::State::attempt(Origin& origin, Pending& pending,
                                                    Flight& flight) {
  OutgoingRequest request;
  if (const auto verb = bhttp::string_to_verb(pending.request.method);
      verb != bhttp::verb::unknown) {
    request.method(verb);
  } else {
    request.method_string(pending.request.method);
  }
  request.target(pending.url.target);
  request.version(11);
  for (const auto& [name, value] : pending.request.headers) request.insert(name, value);
  if (request.find(bhttp::field::host) == request.end())
    request.set(bhttp::field::host, pending.url.host_header());
  if (request.find(bhttp::field::user_agent) == request.end())
    request.set(bhttp::field::user_agent, "smppd");
  request.body() = std::move(pending.request.body);
  request.prepare_payload();

  if (auto reused = take_idle(origin)) {
    flight.connection = reused;
    Outcome outcome = co_await exchange(*reused, request, pending.deadline);
    flight.connection.reset();
    if (!outcome.closed_before_answer || stopped) {
      settle(origin, std::move(reused), outcome.reusable);
      co_return std::move(outcome.result);
    }
    // The server closed it while it was idle (the close crossed our request): the request is
    // sent once more, on a fresh connection. Only then: a request that may have reached a
    // handler (a POST) is never sent twice.
    reused->close();
  }

  auto fresh = std::make_shared<Connection>(strand);
  flight.connection = fresh;
  if (auto failed = co_await open(*fresh, pending.url, pending.deadline, flight)) {
    flight.connection.reset();
    fresh->close();
    co_return std::move(*failed);
  }
  Outcome outcome = co_await exchange(*fresh, request, pending.deadline);
  flight.connection.reset();
  settle(origin, std::move(fresh), outcome.reusable);
  co_return std::move(outcome.result);
}

asio::awaitable<std::optional<Result>> AsyncClient::State::open(Connection& c, const Url& url,
                                                                Clock::time_point deadline,
                                                                Flight& flight) {
  // Resolve, connect and the TLS handshake share the connect timeout, within the request's.
  const Clock::time_point connect_deadline =
      std::min(deadline, Clock::now() + settings.connect_timeout);
  const std::string too_slow = connect_deadline < deadline
                                   ? "connect timed out " + after(settings.connect_timeout)
                                   : timed_out();

  std::vector<tcp::endpoint> endpoints;
  error_code not_an_address;
  const auto address = asio::ip::make_address(url.host, not_an_address);
  if (!not_an_address) {
    endpoints.emplace_back(address, url.port);
  } else {
    auto lookup = std::make_shared<Lookup>(strand);
    flight.lookup = lookup;
    lookup->resolver.async_resolve(
        url.host, std::to_string(url.port),
        [lookup](const error_code& ec, tcp::resolver::results_type results) {
          lookup->answered = true;
          lookup->error = ec;
          lookup->results = std::move(results);
          lookup->timer.cancel();
        });
    lookup->timer.expires_at(connect_deadline);
    co_await lookup->timer.async_wait(nothrow);
    flight.lookup.reset();
    if (stopped) co_return stopping();
    if (!lookup->answered) {
      lookup->resolver.cancel();
      co_return failure("cannot resolve " + url.host + ": " + too_slow, true);
    }
    if (lookup->error)
      co_return failure("cannot resolve " + url.host + ": " + lookup->error.message(), true);
    for (const auto& entry : lookup->results) endpoints.push_back(entry.endpoint());
  }

  if (settings.allow_address) {
    std::erase_if(endpoints, [&](const tcp::endpoint& e) { return !settings.allow_address(e.address()); });
    if (endpoints.empty()) {
      co_return failure("refused: " + url.host +
                            " is (or resolves to) a loopback, private, link-local or otherwise "
                            "non-public address",
                        false);
    }
  }
  c.tcp.expires_at(connect_deadline);
  auto [connect_error, endpoint] = co_await c.tcp.async_connect(endpoints, nothrow);
  if (stopped) co_return stopping();
  if (connect_error == beast::error::timeout) co_return failure(too_slow, true);
  if (connect_error) co_return failure(describe(connect_error), true);
  error_code ignored;
  c.tcp.socket().set_option(tcp::no_delay(true), ignored);
  if (!url.tls) co_return std::nullopt;

  c.tls = std::make_unique<beast::ssl_stream<beast::tcp_stream&>>(c.tcp, *tls);
  net::set_client_peer_name(c.tls->native_handle(), url.host, check_names);
  auto [handshake_error] = co_await c.tls->async_handshake(ssl::stream_base::client, nothrow);
  if (stopped) co_return stopping();
  if (handshake_error == beast::error::timeout)
    co_return failure("TLS handshake: " + too_slow, true);
  if (handshake_error) {
    // A certificate refused, no common protocol: the same next time. A reset: maybe not.
    const bool tls_said_no = handshake_error.category() == asio::error::get_ssl_category();
    co_return failure("TLS: " + net::describe_tls_error(c.tls->native_handle(), handshake_error),
                      !tls_said_no);
  }
  co_return std::nullopt;
}

asio::awaitable<Outcome> AsyncClient::State::exchange(Connection& c, const OutgoingRequest& request,
                                                      Clock::time_point deadline) {
  if (c.tls) co_return co_await exchange_on(*c.tls, c, request, deadline);
  co_return co_await exchange_on(c.tcp, c, request, deadline);
}

template <class Stream>
asio::awaitable<Outcome> AsyncClient::State::exchange_on(Stream& stream, Connection& c,
                                                         const OutgoingRequest& request,
                                                         Clock::time_point deadline) {
  Outcome out;
  c.tcp.expires_at(deadline);
  auto [write_error, written] = co_await bhttp::async_write(stream, request, nothrow);
  if (write_error) {
    out.closed_before_answer = closed_by_peer(write_error);
    out.result = write_error == beast::error::timeout ? failure(timed_out(), true)
                                                      : failure(describe(write_error), true);
    co_return out;
  }
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    // Both checked as bytes arrive: a Content-Length over the limit fails before any of the
    // body is read, a chunked or close-delimited body as soon as it passes it.
    parser.header_limit(static_cast<uint32_t>(
        std::min<std::size_t>(settings.max_response_header_bytes, UINT32_MAX)));
    parser.body_limit(settings.max_response_body_bytes);
    parser.skip(request.method() == bhttp::verb::head);
    auto [read_error, read] = co_await bhttp::async_read(stream, buffer, parser, nothrow);
    if (read_error) {
      out.closed_before_answer = first && !parser.got_some() && closed_by_peer(read_error);
      out.result = read_failure(c, read_error);
      co_return out;
    }
    auto& response = parser.get();
    const unsigned status = response.result_int();
    if (status >= 100 && status < 200 && status != 101) continue;  // 100 Continue, 103...
    out.result.status = status;
    for (const auto& field : response) {
      out.result.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    }
    out.result.body = std::move(response.body());
    // 408: the server gave up waiting for the request, so it did not act on it.
    out.result.retryable = status >= 500 || status == 429 || status == 408;
    // Bytes after the answer were never asked for: such a connection is not trusted again.
    out.reusable = response.keep_alive() && buffer.size() == 0;
    co_return out;
  }
}

Result AsyncClient::State::read_failure(Connection& c, const error_code& ec) const {
  if (ec == beast::error::timeout) return failure(timed_out(), true);
  if (ec == bhttp::error::body_limit) {
    return failure(
        "response body larger than " + std::to_string(settings.max_response_body_bytes) + " bytes",
        false);
  }
  if (ec == bhttp::error::header_limit) {
    return failure("response header larger than " +
                       std::to_string(settings.max_response_header_bytes) + " bytes",
                   false);
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)
    return failure(describe(ec), true);
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category())
    return failure("bad response: " + ec.message(), false);  // not HTTP, or broken HTTP
  if (c.tls && ec.category() == asio::error::get_ssl_category())
    return failure("TLS: " + net::describe_tls_error(c.tls->native_handle(), ec), true);
  return failure(describe(ec), true);
}

std::shared_ptr<Connection> AsyncClient::State::take_idle(Origin& origin) {
  while (!origin.idle.empty()) {
    // The most recently used: the least likely to have been closed by the server.
    std::shared_ptr<Connection> c = std::move(origin.idle.back());
    origin.idle.pop_back();
    c->idle = false;
    ++c->stay;
    c->idle_timer.cancel();
    error_code ignored;
    c->tcp.socket().cancel(ignored);  // the wait for readability
    // The watch may not have run yet: bytes that came while idle (a 408 some servers send
    // before they close) would be read as the answer to our request, and EOF means closed.
    char byte;
    const auto n = ::recv(c->tcp.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return c;
    c->close();
  }
  return nullptr;
}

void AsyncClient::State::settle(Origin& origin, std::shared_ptr<Connection> c, bool reusable) {
  if (!reusable || stopped || origin.idle.size() >= settings.max_idle_per_origin) {
    c->close();
    return;
  }
  c->idle = true;
  const uint64_t stay = ++c->stay;
  c->tcp.expires_never();
  auto retire = [self = shared_from_this(), key = origin.key, c, stay](const error_code&) {
    self->retire_idle(key, c, stay);
  };
  // An idle connection becomes readable when the server closes it (or sends what nobody asked
  // for): either way it goes, at once rather than on the next request.
  c->tcp.socket().async_wait(tcp::socket::wait_read, retire);
  c->idle_timer.expires_after(settings.idle_timeout);
  c->idle_timer.async_wait(retire);
  origin.idle.push_back(std::move(c));
}

void AsyncClient::State::retire_idle(const std::string& key, const std::shared_ptr<Connection>& c,
                                     uint64_t stay) {
  if (!c->idle || c->stay != stay) return;  // taken, closed, or in the pool again since
  c->close();
  const auto it = origins.find(key);
  if (it == origins.end()) return;
  auto& idle = it->second->idle;
  idle.erase(std::remove(idle.begin(), idle.end(), c), idle.end());
  forget_if_unused(*it->second);
}

AsyncClient::AsyncClient(asio::any_io_executor executor, Settings settings) {
  if (settings.max_concurrent_per_origin == 0)
    throw std::invalid_argument("HTTP client: max_concurrent_per_origin must be at least 1");
  std::shared_ptr<ssl::context> tls = settings.tls;
  if (!tls) {
    config::TlsConfig defaults;
    defaults.enabled = true;
    defaults.ca = settings.tls_ca_file;
    auto made = net::make_client_tls_context(defaults);
    if (!made.ok()) throw std::runtime_error("HTTP client: " + made.error);
    tls = std::move(made.context);
  }
  state_ = std::make_shared<State>(std::move(executor), std::move(settings), std::move(tls));
}

AsyncClient::~AsyncClient() {
  stop();
}

void AsyncClient::request(Request request, Callback done) {
  // The deadline starts now: time spent waiting for the strand or a slot counts.
  const Clock::time_point deadline = Clock::now() + state_->settings.request_timeout;
  asio::post(state_->strand,
             [s = state_, r = std::move(request), d = std::move(done), deadline]() mutable {
               s->submit(std::move(r), std::move(d), deadline);
             });
}

void AsyncClient::stop() {
  if (state_->stop_requested.exchange(true)) return;
  asio::post(state_->strand, [s = state_] { s->shut_down(); });
}

}  // namespace smppd::http
