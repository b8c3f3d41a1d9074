#include "api/http/server.hpp"

#include <malloc.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <list>
#include <stdexcept>

#include "core/log.hpp"

namespace smppd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kLargeBody = 256 * 1024;
}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

Response json_error(unsigned status, std::string_view error, std::string_view detail) {
  boost::json::object o;
  o["error"] = error;
  o["detail"] = detail;
  Response r;
  r.status = status;
  r.body = boost::json::serialize(o);
  r.body += '\n';
  return r;
}

struct Server::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, ServerSettings s, Handler h)
      : executor(std::move(ex)), settings(std::move(s)), handler(std::move(h)), acceptor(executor) {}

  asio::any_io_executor executor;
  ServerSettings settings;
  Handler handler;
  tcp::acceptor acceptor;
  // Open connections, for stop() and for making room; touched on `executor` only.
  struct Open {
    tcp::socket* socket;
    bool waiting = true;  // for a request (not answering one)
    std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  };
  std::list<Open> open;
  bool stopped = false;

  asio::awaitable<void> accept_loop();
  // At the bound: closes the connection that has waited longest for a request. False when
  // every one is busy answering.
  bool make_room();
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, Open& conn, tcp::endpoint remote);
  asio::awaitable<void> connection(tcp::socket socket);
  Response answer(bhttp::request<bhttp::string_body>& req, const tcp::endpoint& remote);
};

Server::Server(asio::any_io_executor executor, ServerSettings settings, Handler handler)
    : state_(std::make_shared<State>(std::move(executor), std::move(settings),
                                     std::move(handler))) {}

Server::~Server() {
  stop();
}

tcp::endpoint Server::start(const tcp::endpoint& at) {
  State& st = *state_;
  boost::system::error_code ec;
  st.acceptor.open(at.protocol(), ec);
  if (!ec) st.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) st.acceptor.bind(at, ec);
  if (!ec) st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(st.settings.name + ": cannot listen on " + at.address().to_string() +
                             ":" + std::to_string(at.port()) + ": " + ec.message());
  }
  const tcp::endpoint bound = st.acceptor.local_endpoint();
  asio::co_spawn(st.executor, [s = state_]() { return s->accept_loop(); }, asio::detached);
  return bound;
}

void Server::stop() {
  asio::post(state_->executor, [s = state_] {
    if (s->stopped) return;
    s->stopped = true;
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
    for (auto& c : s->open) c.socket->close(ignored);
  });
}

bool Server::State::make_room() {
  auto oldest = open.end();
  for (auto it = open.begin(); it != open.end(); ++it) {
    if (it->waiting && (oldest == open.end() || it->since < oldest->since)) oldest = it;
  }
  if (oldest == open.end()) return false;
  boost::system::error_code ignored;
  oldest->socket->close(ignored);  // its read fails; its coroutine removes it
  oldest->waiting = false;         // not chosen twice
  return true;
}

asio::awaitable<void> Server::State::accept_loop() {
  auto self = shared_from_this();
  while (!stopped) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) break;
      log::warn("{}: accept failed: {}", settings.name, ec.message());
      asio::steady_timer pause(executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(nothrow);
      continue;
    }
    if (open.size() >= settings.max_connections && !make_room()) {
      boost::system::error_code ignored;
      socket.close(ignored);  // every slot busy answering: no room
      continue;
    }
    asio::co_spawn(
        executor, [self, s = std::move(socket)]() mutable { return self->connection(std::move(s)); },
        asio::detached);
  }
}

asio::awaitable<void> Server::State::connection(tcp::socket socket) {
  auto self = shared_from_this();
  boost::system::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  auto where = open.insert(open.end(), Open{&stream.socket()});
  if (!stopped) {
    if (settings.tls) {
      beast::ssl_stream<beast::tcp_stream&> tls(stream, *settings.tls);
      stream.expires_after(settings.read_timeout);
      auto [hs] = co_await tls.async_handshake(asio::ssl::stream_base::server, nothrow);
      if (!hs) co_await serve(tls, *where, remote);
    } else {
      co_await serve(stream, *where, remote);
    }
  }
  open.erase(where);
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

template <class Stream>
asio::awaitable<void> Server::State::serve(Stream& stream, Open& conn, tcp::endpoint remote) {
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  bool first = true;
  while (!stopped) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(settings.max_header_bytes));
    parser.body_limit(settings.max_body_bytes);
    lowest.expires_after(first ? settings.read_timeout : settings.idle_timeout);
    first = false;
    conn.waiting = true;
    conn.since = std::chrono::steady_clock::now();
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, nothrow);
    if (!conn.waiting) co_return;  // closed to make room
    conn.waiting = false;
    Response resp;
    bool keep_alive = false;
    unsigned version = 11;
    if (ec == bhttp::error::body_limit) {
      resp = json_error(413, "request body too large",
                        "at most " + std::to_string(settings.max_body_bytes) + " bytes");
    } else if (ec == bhttp::error::header_limit) {
      resp = json_error(431, "request header too large",
                        "at most " + std::to_string(settings.max_header_bytes) + " bytes");
    } else if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
               ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
               ec == asio::error::eof) {
      co_return;
    } else if (ec) {
      resp = json_error(400, "bad request", ec.message());
    } else {
      auto& req = parser.get();
      keep_alive = req.keep_alive();
      version = req.version();
      resp = answer(req, remote);
    }
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(resp.status), version};
    out.set(bhttp::field::server, "smppd");
    out.set(bhttp::field::content_type, resp.content_type);
    for (const auto& [name, value] : resp.headers) out.set(name, value);
    out.body() = std::move(resp.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    lowest.expires_after(settings.read_timeout);
    auto [wec, written] = co_await bhttp::async_write(stream, out, nothrow);
    if (out.body().size() > kLargeBody) {
      // A large answer (the clients of 10,000 sessions: megabytes) leaves its pages with this
      // thread's malloc arena unless they are given back.
      out = {};
      malloc_trim(0);
    }
    if (wec || !keep_alive) co_return;
  }
}

Response Server::State::answer(bhttp::request<bhttp::string_body>& req,
                               const tcp::endpoint& remote) {
  Request r;
  r.method = std::string(req.method_string());
  const std::string_view target = req.target();
  const auto q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  r.body = std::move(req.body());
  r.remote = remote;
  try {
    return handler(r);
  } catch (const std::exception& e) {
    log::error("{}: {} {}: {}", settings.name, r.method, r.path, e.what());
    return json_error(500, "internal error", e.what());
  }
}

}  // namespace smppd::http
