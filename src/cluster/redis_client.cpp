#include "cluster/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "net/tls.hpp"

namespace smppd::cluster {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string RedisOptions::url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "rediss://" : "redis://") + (v6 ? "[" : "") + host + (v6 ? "]" : "") +
         ":" + std::to_string(port);
}

namespace {

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      out.items.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.items.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::nil;
  }
  return out;
}

// RESP: an array of bulk strings.
void append_command(std::string& out, const RedisCommand& c) {
  out += '*';
  out += std::to_string(c.size());
  out += "\r\n";
  for (const auto& a : c) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out += a;
    out += "\r\n";
  }
}

}  // namespace

struct RedisClient::Impl : std::enable_shared_from_this<Impl> {
  struct Request {
    std::vector<RedisCommand> commands;
    Done done;
    std::vector<RedisReply> replies;
    Clock::time_point deadline{};
  };

  explicit Impl(const asio::any_io_executor& ex, RedisOptions o)
      : executor(ex), options(std::move(o)), resolver(ex), timer(ex) {}

  // One connection's socket (or TLS stream over it), shared with its pending handlers: fail()
  // closes it and lets go, and an operation it cancelled completes on a stream that still
  // exists.
  struct Connection {
    std::optional<tcp::socket> socket;
    std::optional<asio::ssl::stream<tcp::socket>> tls;
    template <class F>
    void with_stream(F&& f) {
      if (tls) {
        f(*tls);
      } else {
        f(*socket);
      }
    }
    void close() {
      boost::system::error_code ignored;
      if (tls) tls->lowest_layer().close(ignored);
      if (socket) socket->close(ignored);
    }
  };

  ~Impl() {
    if (reader != nullptr) redisReaderFree(reader);
  }

  asio::any_io_executor executor;
  RedisOptions options;
  tcp::resolver resolver;
  asio::steady_timer timer;  // the connection's set-up, then the oldest answer's deadline
  std::shared_ptr<Connection> conn;
  redisReader* reader = nullptr;
  // Read by the client's accessors from any thread.
  std::atomic<bool> connected{false};
  std::atomic<uint64_t> commands_sent{0};
  std::atomic<uint64_t> writes{0};
  enum class State { idle, connecting, ready } state = State::idle;
  uint64_t generation = 0;  // a connection's handlers ignore what happens after it ends
  std::deque<Request> waiting;  // not yet written
  std::deque<Request> written;  // written, their replies awaited in order
  bool writing = false;
  std::string out;
  std::vector<char> in = std::vector<char>(16 * 1024);
  mutable std::mutex address_mutex;
  std::string local;

  void set_connected(bool up) { connected.store(up, std::memory_order_relaxed); }

  void send(std::vector<RedisCommand> commands, Done done) {
    if (commands.empty()) {
      asio::post(executor, [done = std::move(done)] {
        if (done) done("", {});
      });
      return;
    }
    waiting.push_back(Request{std::move(commands), std::move(done), {}, {}});
    if (state == State::idle) return connect();
    if (state == State::ready) flush();
  }

  void connect() {
    state = State::connecting;
    const uint64_t gen = ++generation;
    arm(Clock::now() + options.timeout, gen);
    resolver.async_resolve(
        options.host, std::to_string(options.port),
        [self = shared_from_this(), gen](const boost::system::error_code& ec,
                                         const tcp::resolver::results_type& results) {
          if (gen != self->generation) return;
          if (ec) return self->fail("cannot resolve " + self->options.host + ": " + ec.message());
          auto made = std::make_shared<Connection>();
          made->socket.emplace(self->executor);
          self->conn = made;
          asio::async_connect(*made->socket, results,
                              [self, gen, made](const boost::system::error_code& e, const tcp::endpoint&) {
                                if (gen != self->generation) return;
                                if (e) return self->fail(e.message());
                                self->connected_tcp(gen);
                              });
        });
  }

  void connected_tcp(uint64_t gen) {
    boost::system::error_code ignored;
    Connection& c = *conn;
    c.socket->set_option(tcp::no_delay(true), ignored);
    {
      // Kept after the connection ends: the last address known.
      std::lock_guard lock(address_mutex);
      local = c.socket->local_endpoint(ignored).address().to_string();
    }
    if (!options.tls) return handshaken(gen);
    c.tls.emplace(std::move(*c.socket), *options.tls);
    c.socket.reset();
    net::prepare_client_stream(*c.tls, options.tls_config, options.host);
    c.tls->async_handshake(asio::ssl::stream_base::client,
                           [self = shared_from_this(), gen, keep = conn](const boost::system::error_code& ec) {
                             if (gen != self->generation) return;
                             if (ec) return self->fail("TLS: " + net::describe_tls_error(*keep->tls, ec));
                             self->handshaken(gen);
                           });
  }

  // AUTH and SELECT go first; the rest of the queue is pipelined behind them.
  void handshaken(uint64_t gen) {
    if (reader != nullptr) redisReaderFree(reader);
    reader = redisReaderCreate();
    std::vector<RedisCommand> first;
    if (!options.password.empty()) {
      if (options.username.empty()) {
        first.push_back({"AUTH", options.password});
      } else {
        first.push_back({"AUTH", options.username, options.password});
      }
    }
    if (options.db != 0) first.push_back({"SELECT", std::to_string(options.db)});
    if (!first.empty()) {
      waiting.push_front(Request{std::move(first),
                                 [weak = weak_from_this(), gen](const std::string& error,
                                                                std::vector<RedisReply> replies) {
                                   auto self = weak.lock();
                                   if (!self || !error.empty() || gen != self->generation) return;
                                   for (const auto& r : replies) {
                                     if (r.is_error()) return self->fail("Redis refused the connection's set-up: " + r.text);
                                   }
                                 },
                                 {},
                                 {}});
    }
    state = State::ready;
    set_connected(true);
    timer.cancel();
    read(gen);
    flush();
  }

  void flush() {
    if (writing || waiting.empty() || state != State::ready) return;
    out.clear();
    std::size_t n = 0;
    const auto deadline = Clock::now() + options.timeout;
    while (!waiting.empty()) {
      Request r = std::move(waiting.front());
      waiting.pop_front();
      for (const auto& c : r.commands) append_command(out, c);
      n += r.commands.size();
      r.deadline = deadline;
      written.push_back(std::move(r));
    }
    if (out.empty()) return;
    commands_sent.fetch_add(n, std::memory_order_relaxed);
    writes.fetch_add(1, std::memory_order_relaxed);
    writing = true;
    const uint64_t gen = generation;
    arm(written.front().deadline, gen);
    conn->with_stream([&](auto& stream) {
      asio::async_write(stream, asio::buffer(out),
                        [self = shared_from_this(), gen, keep = conn](const boost::system::error_code& ec, std::size_t) {
                          if (gen != self->generation) return;
                          self->writing = false;
                          if (ec) return self->fail("write: " + ec.message());
                          self->flush();
                        });
    });
  }

  void read(uint64_t gen) {
    conn->with_stream([&](auto& stream) {
      stream.async_read_some(
          asio::buffer(in), [self = shared_from_this(), gen, keep = conn](const boost::system::error_code& ec, std::size_t n) {
            if (gen != self->generation) return;
            if (ec) {
              return self->fail(ec == asio::error::eof ? std::string("Redis closed the connection")
                                                       : "read: " + ec.message());
            }
            if (redisReaderFeed(self->reader, self->in.data(), n) != REDIS_OK) {
              return self->fail(std::string("unreadable answer: ") + self->reader->errstr);
            }
            for (;;) {
              void* raw = nullptr;
              if (redisReaderGetReply(self->reader, &raw) != REDIS_OK) {
                return self->fail(std::string("unreadable answer: ") + self->reader->errstr);
              }
              if (raw == nullptr) break;
              RedisReply reply = convert(static_cast<redisReply*>(raw));
              freeReplyObject(raw);
              if (self->written.empty()) return self->fail("an answer to no command");
              Request& front = self->written.front();
              front.replies.push_back(std::move(reply));
              if (front.replies.size() == front.commands.size()) {
                Request done = std::move(front);
                self->written.pop_front();
                if (done.done) done.done("", std::move(done.replies));
                if (gen != self->generation) return;  // the callback failed the connection
              }
            }
            if (!self->written.empty()) {
              self->arm(self->written.front().deadline, gen);
            } else {
              self->timer.cancel();
            }
            self->read(gen);
          });
    });
  }

  void arm(Clock::time_point deadline, uint64_t gen) {
    timer.expires_at(deadline);
    timer.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
      if (ec || gen != self->generation) return;
      self->fail("no answer within " + std::to_string(self->options.timeout.count()) + " ms");
    });
  }

  // Ends the connection and fails every request, written or waiting.
  void fail(const std::string& why) {
    ++generation;
    state = State::idle;
    set_connected(false);
    writing = false;
    resolver.cancel();
    timer.cancel();
    // Closed, and let go: handlers still pending hold it until they have run.
    if (conn) conn->close();
    conn.reset();
    std::deque<Request> failed;
    failed.swap(written);
    for (auto& r : waiting) failed.push_back(std::move(r));
    waiting.clear();
    for (auto& r : failed) {
      if (r.done) r.done(why, {});
    }
  }
};

RedisClient::RedisClient(const asio::any_io_executor& executor, RedisOptions options)
    : impl_(std::make_shared<Impl>(executor, options)), url_(options.url()) {}

std::shared_ptr<RedisClient> RedisClient::create(const asio::any_io_executor& executor,
                                                 RedisOptions options) {
  return std::shared_ptr<RedisClient>(new RedisClient(executor, std::move(options)));
}

// The executor is not touched (its context may be going away): close() first to end the
// connection.
RedisClient::~RedisClient() = default;

bool RedisClient::connected() const { return impl_->connected.load(std::memory_order_relaxed); }
uint64_t RedisClient::commands_sent() const { return impl_->commands_sent.load(std::memory_order_relaxed); }
uint64_t RedisClient::writes() const { return impl_->writes.load(std::memory_order_relaxed); }

void RedisClient::send(std::vector<RedisCommand> pipeline, Done done) {
  asio::dispatch(impl_->executor, [impl = impl_, pipeline = std::move(pipeline), done = std::move(done)]() mutable {
    impl->send(std::move(pipeline), std::move(done));
  });
}

void RedisClient::close() {
  asio::dispatch(impl_->executor, [impl = impl_] { impl->fail("closed"); });
}

std::string RedisClient::local_address() const {
  std::lock_guard lock(impl_->address_mutex);
  return impl_->local;
}

RedisOptions redis_options(const config::ClusterConfig& c) {
  RedisOptions o;
  o.host = c.redis_address.host.empty() ? "127.0.0.1" : c.redis_address.host;
  o.port = c.redis_address.port;
  o.username = c.redis_username;
  o.password = c.redis_password;
  o.db = c.redis_db;
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(c.redis_timeout);
  if (c.redis_tls.enabled) {
    auto made = net::make_client_tls_context(c.redis_tls);
    if (!made.ok()) throw std::runtime_error("cluster.redis.tls: " + made.error);
    o.tls = made.context;
    o.tls_config = c.redis_tls;
  }
  return o;
}

}  // namespace smppd::cluster
