// The asynchronous HTTP client (api/http/async_client) against real peers on loopback: smppd's
// own http::Server (plain and TLS, certificates made at test time), and raw sockets playing
// hostile servers (refusing, silent, flooding, closing, speaking something else).
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/http/async_client.hpp"
#include "api/http/server.hpp"
#include "support/test_certificates.hpp"

namespace smppd::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Result = AsyncClient::Result;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// An io_context on a thread of its own, kept running until destroyed.
class Runner {
 public:
  Runner() : thread_([this] { io_.run(); }) {}
  ~Runner() { stop(); }
  void stop() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread thread_;
};

// A peer that does what the test says: `script` runs as a coroutine for each connection it
// accepts (numbered from 0), on a thread of its own.
class RawServer {
 public:
  using Script = std::function<asio::awaitable<void>(tcp::socket, int)>;
  explicit RawServer(Script script)
      : script_(std::move(script)),
        acceptor_(runner_.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(runner_.io(), accept(), asio::detached);
  }
  ~RawServer() { runner_.stop(); }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  int accepted() const { return accepted_; }

 private:
  asio::awaitable<void> accept() {
    for (int i = 0;; ++i) {
      auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
      if (ec) co_return;
      ++accepted_;
      asio::co_spawn(runner_.io(), script_(std::move(socket), i), asio::detached);
    }
  }

  Script script_;
  Runner runner_;
  tcp::acceptor acceptor_;
  std::atomic<int> accepted_{0};
};

// Reads one request; false when the client closed instead.
asio::awaitable<bool> read_request(tcp::socket& s, boost::beast::flat_buffer& buffer) {
  bhttp::request<bhttp::string_body> request;
  auto [ec, n] = co_await bhttp::async_read(s, buffer, request, nothrow);
  co_return !ec;
}

asio::awaitable<void> send(tcp::socket& s, const std::string& text) {
  co_await asio::async_write(s, asio::buffer(text), nothrow);
}

// Holds the connection until the client closes it.
asio::awaitable<void> hold(tcp::socket& s) {
  char sink[1024];
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(sink), nothrow);
    if (ec) co_return;
  }
}

std::string ok(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One request's callback: its result, and how many times it was called.
struct Call {
  std::promise<Result> promise;
  std::future<Result> future = promise.get_future();
  std::atomic<int> calls{0};

  Result get(std::chrono::milliseconds limit = 10s) {
    if (future.wait_for(limit) != std::future_status::ready) {
      ADD_FAILURE() << "no callback within " << limit.count() << " ms";
      Result none;
      none.error = "no callback";
      return none;
    }
    return future.get();
  }
};

std::shared_ptr<Call> send(AsyncClient& client, std::string url, std::string method = "GET",
                           std::string body = {},
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto call = std::make_shared<Call>();
  AsyncClient::Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers = std::move(headers);
  client.request(std::move(r), [call](Result result) {
    if (call->calls++ == 0) call->promise.set_value(std::move(result));
  });
  return call;
}

class HttpAsyncClientTest : public ::testing::Test {
 protected:
  void TearDown() override {
    client_.reset();  // stops it, on the client's thread
    if (server_) server_->stop();
  }

  AsyncClient& client(AsyncClient::Settings settings = {}) {
    client_ = std::make_unique<AsyncClient>(client_thread_.io().get_executor(), settings);
    return *client_;
  }

  // An http::Server on loopback; returns its base URL.
  template <class Handler>
  std::string serve(Handler handler, std::shared_ptr<asio::ssl::context> tls = nullptr) {
    ServerSettings s;
    s.name = "peer";
    s.tls = std::move(tls);
    server_ = std::make_shared<Server>(server_thread_.io().get_executor(), s, std::move(handler));
    const auto port = server_->start(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)).port();
    return std::string(s.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
  }

  Runner server_thread_;
  Runner client_thread_;
  std::shared_ptr<Server> server_;
  std::unique_ptr<AsyncClient> client_;
};

// The request as the server saw it, in the body; a header of its own in the answer.
Response echo(const Request& r) {
  Response out;
  out.content_type = "text/plain";
  out.body = r.method + " " + r.path + "?" + r.query +
             " x-test=" + std::string(r.header("x-test")) +
             " host=" + std::string(r.header("host")) + " body=" + r.body;
  out.headers.emplace_back("X-Reply", "Yes");
  return out;
}

TEST_F(HttpAsyncClientTest, PostsAndGetsTheAnswerWithHeadersAndBody) {
  const std::string base = serve(echo);
  auto call = send(client(), base + "/dlr?id=7", "POST", "{\"status\":\"DELIVRD\"}",
                   {{"X-Test", "abc"}, {"Content-Type", "application/json"}});
  const Result r = call->get();
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200u);
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(r.body,
            "POST /dlr?id=7 x-test=abc host=" + base.substr(7) + " body={\"status\":\"DELIVRD\"}");
  EXPECT_EQ(r.header("x-reply"), "Yes");  // names lower-cased, values as sent
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(call->calls.load(), 1);
}

TEST_F(HttpAsyncClientTest, StatusesTellWhatIsWorthRetrying) {
  const std::string base = serve([](const Request& r) {
    Response out;
    out.status = static_cast<unsigned>(std::stoi(r.path.substr(1)));
    return out;
  });
  AsyncClient& c = client();
  for (const auto& [status, retryable] : std::vector<std::pair<unsigned, bool>>{{204, false},
                                                                                {400, false},
                                                                                {404, false},
                                                                                {408, true},
                                                                                {429, true},
                                                                                {500, true},
                                                                                {503, true}}) {
    const Result r = send(c, base + "/" + std::to_string(status))->get();
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.retryable, retryable) << status;
  }
}

TEST_F(HttpAsyncClientTest, SequentialRequestsShareOneKeptAliveConnection) {
  std::mutex mutex;
  std::set<uint16_t> ports;
  const std::string base = serve([&](const Request& r) {
    std::lock_guard lock(mutex);
    ports.insert(r.remote.port());
    return echo(r);
  });
  AsyncClient& c = client();
  for (int i = 0; i < 5; ++i) {
    const Result r = send(c, base + "/n" + std::to_string(i), "POST", "x")->get();
    EXPECT_EQ(r.status, 200u) << r.error;
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(ports.size(), 1u);
}

TEST_F(HttpAsyncClientTest, RequestsFromManyThreadsAreAnsweredOnceOnTheClientsThread) {
  const std::string base = serve(echo);
  AsyncClient& c = client();
  std::atomic<int> answered{0};
  std::atomic<int> elsewhere{0};
  std::atomic<int> extra{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        AsyncClient::Request r;
        r.url = base + "/" + std::to_string(t) + "/" + std::to_string(i);
        auto once = std::make_shared<std::atomic<bool>>(false);
        c.request(std::move(r), [&, once](Result result) {
          if (once->exchange(true)) ++extra;
          if (!client_thread_.io().get_executor().running_in_this_thread()) ++elsewhere;
          if (result.status == 200) ++answered;
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 500 && answered < 200; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(answered.load(), 200);
  EXPECT_EQ(elsewhere.load(), 0);
  EXPECT_EQ(extra.load(), 0);
}

TEST_F(HttpAsyncClientTest, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  std::atomic<bool> closed_by_client{false};
  RawServer peer([&](tcp::socket s, int) -> asio::awaitable<void> {
    boost::beast::flat_buffer buffer;
    if (co_await read_request(s, buffer)) co_await send(s, ok("hi"));
    co_await hold(s);
    closed_by_client = true;
  });
  AsyncClient::Settings settings;
  settings.idle_timeout = 100ms;
  AsyncClient& c = client(settings);
  EXPECT_EQ(send(c, peer.url())->get().status, 200u);
  for (int i = 0; i < 100 && !closed_by_client; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(closed_by_client);
}

TEST_F(HttpAsyncClientTest, NoIdleConnectionsMeansOneConnectionPerRequest) {
  RawServer peer([](tcp::socket s, int) -> asio::awaitable<void> {
    boost::beast::flat_buffer buffer;
    while (co_await read_request(s, buffer)) co_await send(s, ok("hi"));
  });
  AsyncClient::Settings settings;
  settings.max_idle_per_origin = 0;
  AsyncClient& c = client(settings);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send(c, peer.url())->get().status, 200u);
  EXPECT_EQ(peer.accepted(), 3);
}

TEST_F(HttpAsyncClientTest, ConnectionRefused) {
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor closed(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = closed.local_endpoint().port();
  }
  const Result r = send(client(), "http://127.0.0.1:" + std::to_string(port) + "/")->get();
  EXPECT_EQ(r.status, 0u);
  EXPECT_EQ(r.error, "connection refused");
  EXPECT_TRUE(r.retryable);
}

TEST_F(HttpAsyncClientTest, ASilentServerTimesOutWithoutDelayingOthers) {
  RawServer silent([](tcp::socket s, int) -> asio::awaitable<void> { co_await hold(s); });
  const std::string base = serve(echo);
  AsyncClient::Settings settings;
  settings.request_timeout = 500ms;
  AsyncClient& c = client(settings);
  const auto start = std::chrono::steady_clock::now();
  auto hung = send(c, silent.url());
  const Result fine = send(c, base + "/fine")->get();
  EXPECT_EQ(fine.status, 200u) << fine.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 400ms);  // not behind the silent one

  const Result r = hung->get();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 0u);
  EXPECT_EQ(r.error, "timed out after 500 ms");
  EXPECT_TRUE(r.retryable);
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 2s);
}

TEST_F(HttpAsyncClientTest, AHugeBodyIsAnErrorAndTheConnectionIsClosed) {
  std::atomic<std::size_t> sent{0};
  std::atomic<bool> cut{false};
  // Content-Length announced: refused on the header, before any body is read.
  // None announced (the body ends at close): refused once 64 KiB have come, while the server
  // would send forever.
  RawServer peer([&](tcp::socket s, int) -> asio::awaitable<void> {
    boost::beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    auto [ec, n] = co_await bhttp::async_read(s, buffer, request, nothrow);
    if (ec) co_return;
    if (request.target() == "/announced") {
      co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n");
      co_await hold(s);
      co_return;
    }
    co_await send(s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
    const std::string chunk(64 * 1024, 'x');
    for (;;) {
      auto [wec, written] = co_await asio::async_write(s, asio::buffer(chunk), nothrow);
      sent += written;
      if (wec) break;
    }
    cut = true;
  });
  AsyncClient& c = client();
  for (const char* path : {"/announced", "/streamed"}) {
    const Result r = send(c, peer.url(path))->get();
    EXPECT_EQ(r.status, 0u) << path;
    EXPECT_EQ(r.error, "response body larger than 65536 bytes") << path;
    EXPECT_FALSE(r.retryable);
    EXPECT_TRUE(r.body.empty());
  }
  for (int i = 0; i < 200 && !cut; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(cut) << "the client kept the flooding connection open";
  EXPECT_LT(sent.load(), 64u << 20) << "what the kernel buffers, not what the server has";
}

TEST_F(HttpAsyncClientTest, AServerThatClosesAnIdleConnectionIsNoticedAndANewOneIsOpened) {
  RawServer peer([](tcp::socket s, int) -> asio::awaitable<void> {
    boost::beast::flat_buffer buffer;
    if (co_await read_request(s, buffer)) co_await send(s, ok("hi"));
    // and closes, as a server does when its keep-alive timeout passes
  });
  AsyncClient& c = client();
  EXPECT_EQ(send(c, peer.url())->get().body, "hi");
  std::this_thread::sleep_for(100ms);
  const Result r = send(c, peer.url())->get();
  EXPECT_EQ(r.status, 200u) << r.error;
  EXPECT_EQ(peer.accepted(), 2);
}

TEST_F(HttpAsyncClientTest, AKeptAliveConnectionClosedUnderTheRequestIsRetriedOnceOnAFreshOne) {
  std::atomic<int> requests{0};
  RawServer peer([&](tcp::socket s, int index) -> asio::awaitable<void> {
    boost::beast::flat_buffer buffer;
    if (!co_await read_request(s, buffer)) co_return;
    ++requests;
    if (index == 0) {
      co_await send(s, ok("first"));
      if (co_await read_request(s, buffer)) ++requests;
      co_return;  // closes without answering: the close crossed the request
    }
    co_await send(s, ok("second"));
    co_await hold(s);
  });
  AsyncClient& c = client();
  EXPECT_EQ(send(c, peer.url(), "POST", "a")->get().body, "first");
  const Result r = send(c, peer.url(), "POST", "b")->get();
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, "second");
  EXPECT_EQ(peer.accepted(), 2);
  EXPECT_EQ(requests.load(), 3);
}

TEST_F(HttpAsyncClientTest, AFreshConnectionClosedWithoutAnAnswerIsNotRetried) {
  std::atomic<int> requests{0};
  RawServer peer([&](tcp::socket s, int) -> asio::awaitable<void> {
    boost::beast::flat_buffer buffer;
    if (co_await read_request(s, buffer)) ++requests;  // and closes: the POST may have counted
  });
  const Result r = send(client(), peer.url(), "POST", "once")->get();
  EXPECT_EQ(r.status, 0u);
  EXPECT_EQ(r.error, "connection closed by the server before an answer");
  EXPECT_TRUE(r.retryable);
  EXPECT_EQ(requests.load(), 1);
  EXPECT_EQ(peer.accepted(), 1);
}

TEST_F(HttpAsyncClientTest, GarbageInsteadOfHttpIsAnError) {
  // What the peer sends; the last one (an answer cut short) then closes, the others wait.
  const std::vector<std::string> garbage = {
      "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\r\n",
      std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\0\0\xff\xfe\r\n\r\n", 19),
      "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 2OO OK\r\n\r\n",
      std::string("\0\1\2 not http\r\n\r\n", 17),
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short",
  };
  RawServer peer([&](tcp::socket s, int index) -> asio::awaitable<void> {
    boost::beast::flat_buffer buffer;
    if (!co_await read_request(s, buffer)) co_return;
    const auto which = static_cast<std::size_t>(index);
    co_await send(s, garbage[which]);
    if (which + 1 < garbage.size()) co_await hold(s);
  });
  AsyncClient& c = client();
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    const Result r = send(c, peer.url())->get();
    EXPECT_EQ(r.status, 0u) << i;
    if (i + 1 < garbage.size()) {
      EXPECT_EQ(r.error.rfind("bad response: ", 0), 0u) << i << ": " << r.error;
      EXPECT_FALSE(r.retryable);
    } else {
      EXPECT_EQ(r.error, "connection closed by the server in the middle of the answer");
    }
  }
  EXPECT_EQ(peer.accepted(), static_cast<int>(garbage.size()));
}

TEST_F(HttpAsyncClientTest, WhatCannotBeSentIsRefusedThroughTheCallback) {
  AsyncClient& c = client();
  const Result scheme = send(c, "ftp://127.0.0.1/")->get();
  EXPECT_NE(scheme.error.find("http:// or https://"), std::string::npos);
  EXPECT_FALSE(scheme.retryable);
  const Result header = send(c, "http://127.0.0.1:1/", "POST", "", {{"X-A", "1\r\nX-B: 2"}})->get();
  EXPECT_EQ(header.error, "invalid header \"X-A\"");
  const Result method = send(c, "http://127.0.0.1:1/", "GET /x HTTP/1.1\r\n")->get();
  EXPECT_NE(method.error.find("invalid method"), std::string::npos);
}

TEST_F(HttpAsyncClientTest, ConcurrencyPerOriginIsBoundedAndTheRestWaitsInOrder) {
  std::atomic<int> now{0};
  std::atomic<int> most{0};
  const std::string base = serve([&](Request& r, Reply reply) {
    const int current = ++now;
    for (int seen = most; current > seen && !most.compare_exchange_weak(seen, current);) {
    }
    auto timer = std::make_shared<asio::steady_timer>(reply.executor(), 50ms);
    timer->async_wait([&, timer, reply, path = r.path](const boost::system::error_code&) {
      --now;
      Response out;
      out.body = path;
      reply(std::move(out));
    });
  });
  AsyncClient::Settings settings;
  settings.max_concurrent_per_origin = 4;
  AsyncClient& c = client(settings);
  std::vector<std::shared_ptr<Call>> calls;
  for (int i = 0; i < 20; ++i) calls.push_back(send(c, base + "/" + std::to_string(i)));
  for (int i = 0; i < 20; ++i) {
    const Result r = calls[i]->get();
    EXPECT_EQ(r.status, 200u) << r.error;
    EXPECT_EQ(r.body, "/" + std::to_string(i));
  }
  EXPECT_EQ(most.load(), 4);
}

TEST_F(HttpAsyncClientTest, BeyondTheQueueRequestsFailAtOnce) {
  RawServer silent([](tcp::socket s, int) -> asio::awaitable<void> { co_await hold(s); });
  AsyncClient::Settings settings;
  settings.max_concurrent_per_origin = 1;
  settings.max_queued_per_origin = 2;
  AsyncClient& c = client(settings);
  std::vector<std::shared_ptr<Call>> waiting;
  for (int i = 0; i < 3; ++i) waiting.push_back(send(c, silent.url()));  // 1 sent, 2 queued
  const auto start = std::chrono::steady_clock::now();
  const Result full = send(c, silent.url())->get();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(full.error, "queue full");
  EXPECT_TRUE(full.retryable);
  // Another origin has its own slots.
  const std::string base = serve(echo);
  EXPECT_EQ(send(c, base + "/other")->get().status, 200u);
  for (const auto& w : waiting) EXPECT_EQ(w->future.wait_for(0s), std::future_status::timeout);
}

TEST_F(HttpAsyncClientTest, AQueuedRequestThatOutwaitsItsTimeoutFails) {
  RawServer silent([](tcp::socket s, int) -> asio::awaitable<void> { co_await hold(s); });
  AsyncClient::Settings settings;
  settings.max_concurrent_per_origin = 1;
  settings.request_timeout = 300ms;
  AsyncClient& c = client(settings);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Call>> calls;
  for (int i = 0; i < 3; ++i) calls.push_back(send(c, silent.url()));
  for (const auto& call : calls) {
    EXPECT_EQ(call->get().error, "timed out after 300 ms");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 800ms);  // not 3 x 300 ms
  }
}

TEST_F(HttpAsyncClientTest, StopFailsEveryRequestInFlightOrQueuedOnce) {
  RawServer silent([](tcp::socket s, int) -> asio::awaitable<void> { co_await hold(s); });
  AsyncClient::Settings settings;
  settings.max_concurrent_per_origin = 2;
  AsyncClient& c = client(settings);
  std::vector<std::shared_ptr<Call>> calls;
  for (int i = 0; i < 6; ++i) calls.push_back(send(c, silent.url()));
  for (int i = 0; i < 200 && silent.accepted() < 2; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(silent.accepted(), 2);
  c.stop();
  c.stop();
  for (const auto& call : calls) {
    const Result r = call->get(2s);
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(r.error, "client stopping");
  }
  EXPECT_EQ(send(c, silent.url())->get().error, "client stopping");
  std::this_thread::sleep_for(50ms);
  for (const auto& call : calls) EXPECT_EQ(call->calls.load(), 1);
}

// ---- TLS ----

// Certificates made once for the suite:
//   ca      the test CA
//   server  SAN DNS:localhost and IP:127.0.0.1, issued by ca
//   wrong   SAN DNS:wrong.example only, issued by ca
//   other   a self-signed CA the client is not told to trust
class HttpAsyncClientTlsTest : public HttpAsyncClientTest {
 public:
  static void SetUpTestSuite() {
    certs_.emplace("smppd-http-client-test");
    const std::string key = smppd::testing::TestCertificates::kNewKey;
    const std::string ca_ext =
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign";
    const std::string signed_by_ca = " -CA " + path("ca.crt") + " -CAkey " + path("ca.key") +
                                     " -addext basicConstraints=critical,CA:FALSE" +
                                     " -addext extendedKeyUsage=serverAuth";
    certs_->make({
        "openssl req -x509" + key + " -keyout " + path("ca.key") + " -out " + path("ca.crt") +
            " -subj /CN=smppd-test-ca" + ca_ext,
        "openssl req -x509" + key + " -keyout " + path("server.key") + " -out " +
            path("server.crt") + " -subj /CN=localhost" + signed_by_ca +
            " -addext subjectAltName=DNS:localhost,IP:127.0.0.1",
        "openssl req -x509" + key + " -keyout " + path("wrong.key") + " -out " + path("wrong.crt") +
            " -subj /CN=wrong.example" + signed_by_ca + " -addext subjectAltName=DNS:wrong.example",
        "openssl req -x509" + key + " -keyout " + path("other.key") + " -out " + path("other.crt") +
            " -subj /CN=smppd-other-ca" + ca_ext,
    });
  }
  static void TearDownTestSuite() { certs_.reset(); }
  static std::string path(const std::string& file) { return certs_->path(file); }

 protected:
  void SetUp() override { ASSERT_TRUE(certs_->error().empty()) << certs_->error(); }

  static std::shared_ptr<asio::ssl::context> server_tls(const std::string& name) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    context->use_certificate_chain_file(path(name + ".crt"));
    context->use_private_key_file(path(name + ".key"), asio::ssl::context::pem);
    return context;
  }
  AsyncClient& client_trusting(const std::string& ca) {
    AsyncClient::Settings settings;
    settings.tls_ca_file = path(ca + ".crt");
    return client(settings);
  }

 private:
  static inline std::optional<smppd::testing::TestCertificates> certs_;
};

TEST_F(HttpAsyncClientTlsTest, AVerifiedServerAnswersByAddressAndByName) {
  const std::string base = serve(echo, server_tls("server"));
  AsyncClient& c = client_trusting("ca");
  const Result by_address = send(c, base + "/a", "POST", "secret")->get();
  EXPECT_EQ(by_address.error, "");
  EXPECT_EQ(by_address.status, 200u);
  EXPECT_NE(by_address.body.find("body=secret"), std::string::npos);
  // By name: resolved (asynchronously), SNI sent, the name checked.
  const std::string by_name_url = "https://localhost:" + base.substr(base.rfind(':') + 1) + "/b";
  const Result by_name = send(c, by_name_url)->get();
  EXPECT_EQ(by_name.error, "");
  EXPECT_EQ(by_name.status, 200u);
  EXPECT_NE(by_name.body.find("host=localhost:"), std::string::npos);
}

TEST_F(HttpAsyncClientTlsTest, ConnectionsAreKeptAliveOverTls) {
  std::mutex mutex;
  std::set<uint16_t> ports;
  const std::string base = serve(
      [&](const Request& r) {
        std::lock_guard lock(mutex);
        ports.insert(r.remote.port());
        return echo(r);
      },
      server_tls("server"));
  AsyncClient& c = client_trusting("ca");
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(20ms);  // what the server sends after the handshake has come
    const Result r = send(c, base + "/" + std::to_string(i))->get();
    EXPECT_EQ(r.status, 200u) << r.error;
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(ports.size(), 1u);
}

TEST_F(HttpAsyncClientTlsTest, ACertificateForAnotherNameIsRefused) {
  const std::string base = serve(echo, server_tls("wrong"));
  const Result r = send(client_trusting("ca"), base + "/")->get();
  EXPECT_EQ(r.status, 0u);
  EXPECT_EQ(r.error.rfind("TLS: certificate verify failed", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("mismatch"), std::string::npos) << r.error;
  EXPECT_FALSE(r.retryable);
}

TEST_F(HttpAsyncClientTlsTest, AnUntrustedIssuerIsRefused) {
  const std::string base = serve(echo, server_tls("server"));
  const Result r = send(client_trusting("other"), base + "/")->get();
  EXPECT_EQ(r.status, 0u);
  EXPECT_EQ(r.error.rfind("TLS: certificate verify failed", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("issuer certificate"), std::string::npos) << r.error;
  EXPECT_FALSE(r.retryable);
}

TEST_F(HttpAsyncClientTlsTest, AnUnreadableCaFileIsAStartUpError) {
  AsyncClient::Settings settings;
  settings.tls_ca_file = path("missing.crt");
  EXPECT_THROW(AsyncClient(client_thread_.io().get_executor(), settings), std::runtime_error);
}

}  // namespace
}  // namespace smppd::http
