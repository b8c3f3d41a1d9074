#include "api/http/server.hpp"

#include <malloc.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <future>
#include <list>
#include <mutex>
#include <optional>
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

Response json_response(unsigned status, const boost::json::value& value) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(value);
  r.body += '\n';
  return r;
}

Response json_error(unsigned status, std::string_view error, std::string_view detail) {
  return json_response(status, boost::json::object{{"error", error}, {"detail", detail}});
}

Response text_response(unsigned status, std::string content_type, std::string body) {
  Response out;
  out.status = status;
  out.content_type = std::move(content_type);
  out.body = std::move(body);
  return out;
}

void run_after(const asio::any_io_executor& executor, std::chrono::milliseconds delay,
               std::function<void()> then) {
  if (delay.count() <= 0) {
    then();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(executor, delay);
  timer->async_wait(
      [timer, then = std::move(then)](const boost::system::error_code&) { then(); });
}

struct Reply::Slot {
  explicit Slot(asio::any_io_executor ex) : executor(std::move(ex)), timer(executor) {}
  asio::any_io_executor executor;  // the connection's
  asio::steady_timer timer;        // the connection waits on it for the reply
  std::atomic<bool> given{false};
  std::optional<Response> response;  // on `executor` only
};

void Reply::operator()(Response response) const {
  if (!slot_ || slot_->given.exchange(true)) return;
  asio::dispatch(slot_->executor, [s = slot_, r = std::move(response)]() mutable {
    s->response = std::move(r);
    s->timer.cancel();
  });
}

const asio::any_io_executor& Reply::executor() const {
  return slot_->executor;
}

struct Server::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, ServerSettings s, AsyncHandler h)
      : executor(std::move(ex)), settings(std::move(s)), handler(std::move(h)), acceptor(executor) {}

  asio::any_io_executor executor;
  ServerSettings settings;
  AsyncHandler handler;
  tcp::acceptor acceptor;
  std::size_t next_executor = 0;  // on `executor`
  // An open connection, for stop() and for making room. `socket` is touched on the
  // connection's executor only (null once its coroutine is done with it).
  struct Open {
    asio::any_io_executor executor;
    tcp::socket* socket = nullptr;
    std::atomic<bool> waiting{true};  // for a request (not answering one)
    std::atomic<int64_t> since{0};    // steady clock ticks: since when
    std::atomic<bool> evicted{false};
  };
  std::mutex open_mutex;
  std::list<std::shared_ptr<Open>> open;
  std::atomic<bool> stopped{false};

  asio::awaitable<void> accept_loop();
  // At the bound: closes the connection that has waited longest for a request. False when
  // every one is busy answering.
  bool make_room();
  static void close_on_its_thread(const std::shared_ptr<Open>& c);
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, Open& conn, tcp::endpoint remote);
  asio::awaitable<void> connection(tcp::socket socket);
  Request request_of(bhttp::request<bhttp::string_body>& req, const tcp::endpoint& remote);
  // The handler's reply to `r`, waited for without holding the thread.
  asio::awaitable<Response> answer(Request& r);
};

Server::Server(asio::any_io_executor executor, ServerSettings settings, Handler handler)
    : state_(std::make_shared<State>(
          std::move(executor), std::move(settings),
          [h = std::move(handler)](Request& r, Reply reply) { reply(h(r)); })) {}

Server::Server(asio::any_io_executor executor, ServerSettings settings, AsyncHandler handler)
    : state_(std::make_shared<State>(std::move(executor), std::move(settings),
                                     std::move(handler))) {}

Server::~Server() {
  stop();
}

tcp::endpoint Server::start(const tcp::endpoint& at) {
  State& st = *state_;
  boost::system::error_code ec;
  st.acceptor.open(at.protocol(), ec);
  if (!ec && at.address() == asio::ip::address(asio::ip::address_v6::any())) {
    st.acceptor.set_option(asio::ip::v6_only(false), ec);  // "[::]" takes IPv4 too
    ec.clear();
  }
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

tcp::endpoint Server::take_over(Server& old) {
  std::promise<tcp::endpoint> done;
  auto handed = done.get_future();
  asio::post(old.state_->executor, [&] {
    boost::system::error_code ec;
    const tcp::endpoint at = old.state_->acceptor.local_endpoint(ec);
    // Cancels the old loop's accept without closing the socket; the old server then drains.
    old.state_->stopped = true;
    const auto handle = old.state_->acceptor.release(ec);
    asio::post(state_->executor, [s = state_, at, handle] {
      boost::system::error_code assign_ec;
      s->acceptor.assign(at.protocol(), handle, assign_ec);
      if (assign_ec) {
        log::error("{}: cannot take over the listening socket: {}", s->settings.name,
                   assign_ec.message());
        return;
      }
      asio::co_spawn(s->executor, [s]() { return s->accept_loop(); }, asio::detached);
    });
    done.set_value(at);
  });
  const tcp::endpoint at = handed.get();
  // Connections waiting for a request close; those answering one finish.
  std::lock_guard lock(old.state_->open_mutex);
  for (const auto& c : old.state_->open) {
    if (c->waiting.load()) State::close_on_its_thread(c);
  }
  return at;
}

void Server::stop() {
  if (state_->stopped.exchange(true)) return;
  asio::post(state_->executor, [s = state_] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
  });
  std::lock_guard lock(state_->open_mutex);
  for (const auto& c : state_->open) State::close_on_its_thread(c);
}

void Server::drain() {
  if (state_->stopped.exchange(true)) return;
  asio::post(state_->executor, [s = state_] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
  });
  std::lock_guard lock(state_->open_mutex);
  for (const auto& c : state_->open) {
    if (c->waiting.load()) State::close_on_its_thread(c);
  }
}

void Server::State::close_on_its_thread(const std::shared_ptr<Open>& c) {
  asio::post(c->executor, [c] {
    boost::system::error_code ignored;
    if (c->socket != nullptr) c->socket->close(ignored);  // its read or wait fails
  });
}

bool Server::State::make_room() {
  std::shared_ptr<Open> oldest;
  std::lock_guard lock(open_mutex);
  for (const auto& c : open) {
    if (!c->waiting.load() || c->evicted.load()) continue;
    if (!oldest || c->since.load() < oldest->since.load()) oldest = c;
  }
  if (!oldest) return false;
  oldest->evicted = true;  // not chosen twice
  close_on_its_thread(oldest);
  return true;
}

asio::awaitable<void> Server::State::accept_loop() {
  auto self = shared_from_this();
  while (!stopped) {
    const asio::any_io_executor where =
        settings.executors.empty() ? executor
                                   : settings.executors[next_executor++ % settings.executors.size()];
    auto [ec, socket] = co_await acceptor.async_accept(where, nothrow);
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) break;
      log::warn("{}: accept failed: {}", settings.name, ec.message());
      asio::steady_timer pause(executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(nothrow);
      continue;
    }
    std::size_t count;
    {
      std::lock_guard lock(open_mutex);
      count = open.size();
    }
    if (count >= settings.max_connections && !make_room()) {
      boost::system::error_code ignored;
      socket.close(ignored);  // every slot busy answering: no room
      continue;
    }
    asio::co_spawn(
        where, [self, s = std::move(socket)]() mutable { return self->connection(std::move(s)); },
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
  auto conn = std::make_shared<Open>();
  conn->executor = stream.get_executor();
  conn->socket = &stream.socket();
  conn->since = std::chrono::steady_clock::now().time_since_epoch().count();
  std::list<std::shared_ptr<Open>>::iterator where;
  {
    std::lock_guard lock(open_mutex);
    where = open.insert(open.end(), conn);
  }
  if (!stopped) {
    if (settings.tls) {
      beast::ssl_stream<beast::tcp_stream&> tls(stream, *settings.tls);
      stream.expires_after(settings.read_timeout);
      auto [hs] = co_await tls.async_handshake(asio::ssl::stream_base::server, nothrow);
      if (!hs) co_await serve(tls, *conn, remote);
    } else {
      co_await serve(stream, *conn, remote);
    }
  }
  {
    std::lock_guard lock(open_mutex);
    open.erase(where);
  }
  conn->socket = nullptr;
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
    conn.since = std::chrono::steady_clock::now().time_since_epoch().count();
    conn.waiting = true;
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, nothrow);
    conn.waiting = false;
    if (conn.evicted) co_return;  // closed to make room
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
      Request r = request_of(req, remote);
      lowest.expires_never();  // the wait for the reply has its own bound
      resp = co_await answer(r);
      if (stopped) keep_alive = false;
    }
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(resp.status), version};
    out.set(bhttp::field::server, "smppd");
    out.set(bhttp::field::content_type, resp.content_type);
    for (const auto& [name, value] : resp.headers) out.set(name, value);
    out.body() = std::move(resp.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    lowest.expires_after(settings.write_timeout);
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

asio::awaitable<Response> Server::State::answer(Request& r) {
  auto slot = std::make_shared<Reply::Slot>(co_await asio::this_coro::executor);
  try {
    handler(r, Reply(slot));
  } catch (const std::exception& e) {
    log::error("{}: {} {}: {}", settings.name, r.method, r.path, e.what());
    const Reply failed(slot);
    failed(json_error(500, "internal error", e.what()));
  }
  auto deadline = std::chrono::steady_clock::now() + settings.reply_timeout;
  while (!slot->response) {
    if (std::chrono::steady_clock::now() >= deadline) {
      if (!slot->given.exchange(true)) {
        log::warn("{}: {} {}: no reply within {} ms", settings.name, r.method, r.path,
                  settings.reply_timeout.count());
        co_return json_error(504, "no reply in time",
                             "the request took longer than " +
                                 std::to_string(settings.reply_timeout.count()) + " ms");
      }
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);  // on its way
    }
    slot->timer.expires_at(deadline);
    co_await slot->timer.async_wait(nothrow);
  }
  co_return std::move(*slot->response);
}

Request Server::State::request_of(bhttp::request<bhttp::string_body>& req,
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
  return r;
}

}  // namespace smppd::http
