// A small HTTP/1.1 server on Boost.Beast for smppd's endpoints (metrics, the management API, the
// HTTP face): keep-alive, bounded request size, read/write/idle timeouts, a bound on open
// connections, plain or TLS. At the bound, a new connection takes the place of the one that has
// waited longest for a request (a slow or silent client, or an idle keep-alive): clients that
// hold connections open without asking cannot lock the others out.
//
// Requests are answered one at a time per connection, in order. A handler answers at once (a
// synchronous Handler) or later, from any thread (an AsyncHandler calls its Reply once); the
// connection waits for the reply without holding a thread. Connections run on the server's
// executor, or spread over `executors` (the workers) round robin.
//
// Knows sockets and HTTP, nothing of smppd's message path: the daemon (server/) gives it a
// handler.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json/fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smppd::http {

struct Request {
  std::string method;  // as sent: GET, POST, DELETE...
  std::string path;    // the target up to '?', percent-decoding not applied
  std::string query;   // after '?', or empty
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  boost::asio::ip::tcp::endpoint remote;

  // The first header of that (lower-case) name, or empty.
  std::string_view header(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Response(const Request&)>;

// The answer to one request, given once from any thread (later calls are ignored). A request
// whose reply does not come within `reply_timeout` is answered 504; a reply given after that, or
// after the client went away, goes nowhere.
class Reply {
 public:
  struct Slot;
  explicit Reply(std::shared_ptr<Slot> slot) : slot_(std::move(slot)) {}
  void operator()(Response response) const;
  // The executor of the request's connection: a handler that answers from there may call the
  // Reply at once.
  const boost::asio::any_io_executor& executor() const;

 private:
  std::shared_ptr<Slot> slot_;
};
// The request may be moved from.
using AsyncHandler = std::function<void(Request& request, Reply reply)>;

struct ServerSettings {
  std::string name;  // for the log: "metrics", "management"
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds idle_timeout{120000};
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_connections = 256;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds reply_timeout{120000};  // an AsyncHandler's
  // Where connections run, round robin; empty: the server's executor. The acceptor runs on
  // the server's executor.
  std::vector<boost::asio::any_io_executor> executors;
};

class Server : public std::enable_shared_from_this<Server> {
 public:
  Server(boost::asio::any_io_executor executor, ServerSettings settings, Handler handler);
  Server(boost::asio::any_io_executor executor, ServerSettings settings, AsyncHandler handler);
  ~Server();

  // Binds and starts accepting; returns the bound endpoint (port 0 resolved). Throws
  // std::runtime_error naming the address when it cannot bind.
  boost::asio::ip::tcp::endpoint start(const boost::asio::ip::tcp::endpoint& at);
  // Takes `old`'s listening socket (the same address, not a moment without a listener) and
  // starts accepting; `old` stops accepting and drains (its connections finish as drain()
  // says). Returns the endpoint. Not from `old`'s executor's thread (it waits for it).
  boost::asio::ip::tcp::endpoint take_over(Server& old);
  // Stops accepting and closes open connections (thread safe).
  void stop();
  // Stops accepting; connections waiting for a request close, those answering one close once
  // their answer is written (thread safe).
  void drain();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// A JSON answer: the serialized value and a newline.
Response json_response(unsigned status, const boost::json::value& value);
// A JSON error body as every endpoint answers one: {"error": ..., "detail": ...}.
Response json_error(unsigned status, std::string_view error, std::string_view detail = {});
// An answer of this type with this body, as it is (no newline added).
Response text_response(unsigned status, std::string content_type, std::string body);

// Calls `then` once `delay` has passed, on `executor`; at once (inline) when it is not positive.
// For refusals held back so that a guesser's next try waits, and requests asked to wait.
void run_after(const boost::asio::any_io_executor& executor, std::chrono::milliseconds delay,
               std::function<void()> then);

}  // namespace smppd::http
