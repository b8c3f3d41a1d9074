// An asynchronous HTTP/1.1 client for the daemon's outgoing calls (webhooks with receipts and MO,
// later MNP/HLR lookups and HTTP auth backends). Nothing in it blocks a thread or waits on the
// remote without a bound: whatever the remote does (slow, hung, refusing, garbage, huge
// bodies), the caller's callback comes by the request timeout, with a reason.
//
// Per origin (scheme, host, port): at most max_concurrent requests at a time, the others wait
// in a bounded FIFO (beyond it they fail at once: "queue full"); answered connections are kept
// alive for the next request (at most max_idle, each for idle_timeout). One origin that hangs
// holds only its own slots: other origins are not delayed.
//
// Everything runs on a strand of the given executor; request() and stop() may be called from
// any thread. Callbacks run on that strand, never inside request(), once the executor runs.
//
// Knows sockets, TLS and HTTP, nothing of smppd's message path.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smppd::http {

class AsyncClient {
 public:
  struct Settings {
    // TCP connect and TLS handshake, within the request timeout.
    std::chrono::milliseconds connect_timeout{5000};
    // From request() to the last byte of the answer: waiting for a slot counts, so the callback
    // comes by then whatever the queue does.
    std::chrono::milliseconds request_timeout{10000};
    std::size_t max_response_body_bytes = 64 * 1024;  // a longer body: an error, connection closed
    std::size_t max_response_header_bytes = 16 * 1024;
    std::size_t max_idle_per_origin = 4;  // kept-alive connections; 0: a connection per request
    std::chrono::milliseconds idle_timeout{30000};
    std::size_t max_concurrent_per_origin = 16;
    std::size_t max_queued_per_origin = 1000;
    // The https context. Null: one that verifies the server's certificate against tls_ca_file
    // (empty: the system's store), made by net::make_client_tls_context. Either way, each
    // connection sends the URL's host as SNI and checks the certificate's name against it
    // (unless the context's verify mode is verify_none).
    std::shared_ptr<boost::asio::ssl::context> tls;
    std::string tls_ca_file;
    // Where it may connect: every address a URL's host resolves to is asked; none allowed fails
    // the request ("refused: ..."), not retryable. Empty: anywhere. (Callback URLs a customer
    // gives must not reach the operator's own network.)
    std::function<bool(const boost::asio::ip::address&)> allow_address;
  };

  struct Request {
    std::string method = "GET";
    std::string url;                                           // http:// or https://
    std::vector<std::pair<std::string, std::string>> headers;  // Host and User-Agent are set
    std::string body;                                          // Content-Length is set
  };

  struct Result {
    unsigned status = 0;                                       // 0: no answer (error says why)
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    // Empty when an answer came (whatever its status); else why not: "connection refused",
    // "timed out after 10000 ms", "TLS: certificate verify failed: hostname mismatch",
    // "response body larger than 65536 bytes", "queue full", "client stopping"...
    std::string error;
    // Worth sending again later: no connection, no answer in time, 5xx, 429, 408. Not for an
    // answer the remote would give again (other 4xx, a malformed or oversized answer, a
    // certificate refused).
    bool retryable = false;

    // The first header of that (lower-case) name, or empty.
    std::string_view header(std::string_view name) const;
  };

  // Called exactly once per request, on the client's strand.
  using Callback = std::function<void(Result)>;

  // Throws std::runtime_error when the default TLS context cannot be made (tls_ca_file
  // unreadable).
  AsyncClient(boost::asio::any_io_executor executor, Settings settings);
  // stop(): callbacks still pending are called with "client stopping" once the executor runs.
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // Sends `request`; `done` gets the answer or the reason there is none. Thread safe.
  void request(Request request, Callback done);
  // Fails queued requests and those in flight ("client stopping"), closes every connection;
  // later requests fail at once. Idempotent, thread safe.
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace smppd::http
