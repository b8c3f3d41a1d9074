// The HTTP server of smppd's own endpoints (api/http) on loopback sockets, with the one-request
// client beside it: answers, limits, JSON errors, and clients that connect and never ask.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/http/client.hpp"
#include "api/http/server.hpp"

namespace smppd::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  template <class H>
  void start(ServerSettings settings, H handler) {
    server_ = std::make_shared<Server>(context_.get_executor(), std::move(settings),
                                       std::move(handler));
    port_ = server_->start(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)).port();
    thread_ = std::thread([this] { context_.run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    work_.reset();
    context_.stop();
    if (thread_.joinable()) thread_.join();
  }
  ClientResult get(const std::string& target, std::string method = "GET",
                   std::string body = {}) {
    ClientRequest r;
    r.port = port_;
    r.method = std::move(method);
    r.target = target;
    r.body = std::move(body);
    r.timeout = std::chrono::milliseconds(5000);
    return fetch(r);
  }
  // A raw connection that sends `text` (maybe nothing) and then waits.
  std::unique_ptr<tcp::socket> raw(const std::string& text) {
    auto s = std::make_unique<tcp::socket>(client_context_);
    s->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    if (!text.empty()) asio::write(*s, asio::buffer(text));
    return s;
  }
  // Reads what the server sends until it closes (or `limit` passes); true if it closed.
  static bool closed_by_server(tcp::socket& s, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    s.non_blocking(true);
    char buf[4096];
    while (std::chrono::steady_clock::now() < until) {
      boost::system::error_code ec;
      s.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (ec) return true;  // eof or reset
    }
    return false;
  }

  // Worker contexts a test gives the server's connections: declared before context_ so that
  // they outlive it (an accept still pending in context_ when it is destroyed holds a socket
  // made on one of them).
  asio::io_context workers_[2];
  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{context_.get_executor()};
  asio::io_context client_context_;
  std::shared_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

ServerSettings settings(std::size_t max_connections = 256, std::size_t max_header_bytes = 16384,
                        std::size_t max_body_bytes = 1 << 20) {
  ServerSettings s;
  s.name = "test";
  s.max_connections = max_connections;
  s.max_header_bytes = max_header_bytes;
  s.max_body_bytes = max_body_bytes;
  return s;
}

Response echo(const Request& r) {
  if (r.path == "/boom") throw std::runtime_error("the handler failed");
  Response out;
  out.body = r.method + " " + r.path + " ?" + r.query + " " + std::to_string(r.body.size());
  out.content_type = "text/plain";
  return out;
}

TEST_F(HttpServerTest, AnswersWithTheHandlersResponse) {
  start(settings(), echo);
  const ClientResult a = get("/a/b?x=1");
  ASSERT_TRUE(a.answer) << a.error;
  EXPECT_EQ(a.answer->status, 200u);
  EXPECT_EQ(a.answer->body, "GET /a/b ?x=1 0");
  const ClientResult p = get("/p", "POST", std::string(1000, 'x'));
  ASSERT_TRUE(p.answer) << p.error;
  EXPECT_EQ(p.answer->body, "POST /p ? 1000");
}

TEST_F(HttpServerTest, AHandlerThatThrowsIsA500WithAJsonError) {
  start(settings(), echo);
  const ClientResult a = get("/boom");
  ASSERT_TRUE(a.answer) << a.error;
  EXPECT_EQ(a.answer->status, 500u);
  EXPECT_EQ(a.answer->content_type, "application/json");
  EXPECT_NE(a.answer->body.find("\"error\":\"internal error\""), std::string::npos);
  EXPECT_NE(a.answer->body.find("the handler failed"), std::string::npos);
}

TEST_F(HttpServerTest, OversizedBodiesAndHeadersAreRefusedWithJson) {
  start(settings(256, 1024, 100), echo);
  const ClientResult body = get("/p", "POST", std::string(101, 'x'));
  ASSERT_TRUE(body.answer) << body.error;
  EXPECT_EQ(body.answer->status, 413u);
  EXPECT_NE(body.answer->body.find("request body too large"), std::string::npos);

  auto s = raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'y') + "\r\n\r\n");
  std::string answer;
  boost::system::error_code ec;
  asio::read(*s, asio::dynamic_buffer(answer), ec);  // until the server closes
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer;
  EXPECT_NE(answer.find("request header too large"), std::string::npos);
}

TEST_F(HttpServerTest, GarbageIsA400) {
  start(settings(), echo);
  auto s = raw("\x01\x02 not http at all\r\n\r\n");
  std::string answer;
  boost::system::error_code ec;
  asio::read(*s, asio::dynamic_buffer(answer), ec);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_NE(answer.find("\"error\":\"bad request\""), std::string::npos);
}

TEST_F(HttpServerTest, SilentClientsAtTheBoundDoNotLockOthersOut) {
  // Four slots, all taken by clients that connect and never finish a request (one sends half
  // a header, the slowloris way).
  start(settings(4), echo);
  std::vector<std::unique_ptr<tcp::socket>> silent;
  silent.push_back(raw("GET / HTTP/1.1\r\nHost: x\r\n"));
  for (int i = 0; i < 3; ++i) silent.push_back(raw(""));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all four accepted
  for (int round = 0; round < 8; ++round) {
    const ClientResult a = get("/still-served");
    ASSERT_TRUE(a.answer) << "round " << round << ": " << a.error;
    EXPECT_EQ(a.answer->status, 200u);
  }
  // The ones that waited longest gave their places; the server closed them.
  int closed = 0;
  for (auto& s : silent) closed += closed_by_server(*s, std::chrono::milliseconds(200));
  EXPECT_GE(closed, 1);
}

TEST_F(HttpServerTest, StopClosesKeptAliveConnections) {
  start(settings(), echo);
  auto s = raw("GET /k HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string answer(256, '\0');
  const std::size_t n = s->read_some(asio::buffer(answer));
  answer.resize(n);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_FALSE(closed_by_server(*s, std::chrono::milliseconds(100)));  // kept alive
  server_->stop();
  EXPECT_TRUE(closed_by_server(*s, std::chrono::milliseconds(2000)));
  const ClientResult after = get("/k");
  EXPECT_FALSE(after.answer);
  EXPECT_TRUE(after.refused) << after.error;
}

TEST_F(HttpServerTest, AnAsyncReplyComesFromAnotherThreadWhileOtherConnectionsAreServed) {
  // Two worker contexts for the connections; replies come from a third thread.
  auto& workers = workers_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  ServerSettings s = settings();
  for (auto& w : workers) {
    s.executors.push_back(w.get_executor());
    guards.push_back(asio::make_work_guard(w));
  }
  std::thread worker_threads[2] = {std::thread([&] { workers[0].run(); }),
                                   std::thread([&] { workers[1].run(); })};
  asio::io_context later;
  auto later_guard = asio::make_work_guard(later);
  std::thread later_thread([&] { later.run(); });
  start(s, [&later](Request& r, Reply reply) {
    if (r.path == "/now") {
      Response out;
      out.body = "now";
      reply(out);
      return;
    }
    // Answered 200 ms later, from another thread.
    auto timer = std::make_shared<asio::steady_timer>(later, std::chrono::milliseconds(200));
    timer->async_wait([timer, reply](const boost::system::error_code&) {
      Response out;
      out.body = "later";
      reply(out);
      reply(json_error(500, "twice"));  // a second reply goes nowhere
    });
  });
  std::thread slow([&] {
    const ClientResult r = get("/later");
    ASSERT_TRUE(r.answer) << r.error;
    EXPECT_EQ(r.answer->status, 200u);
    EXPECT_EQ(r.answer->body, "later");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto t0 = std::chrono::steady_clock::now();
  const ClientResult fast = get("/now");  // not held up by the one waiting
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));
  ASSERT_TRUE(fast.answer) << fast.error;
  EXPECT_EQ(fast.answer->body, "now");
  slow.join();
  server_->stop();
  server_.reset();
  // The acceptor's thread is done before the workers' threads (an accept completing late would
  // make a socket on a context no thread runs).
  work_.reset();
  context_.stop();
  thread_.join();
  later_guard.reset();
  later_thread.join();
  for (auto& g : guards) g.reset();
  for (auto& t : worker_threads) t.join();
}

TEST_F(HttpServerTest, AReplyThatNeverComesIsA504) {
  ServerSettings s = settings();
  s.reply_timeout = std::chrono::milliseconds(200);
  std::vector<Reply> kept;  // never called
  start(s, [&kept](Request&, Reply reply) { kept.push_back(reply); });
  const ClientResult r = get("/forgotten");
  ASSERT_TRUE(r.answer) << r.error;
  EXPECT_EQ(r.answer->status, 504u);
  EXPECT_NE(r.answer->body.find("no reply in time"), std::string::npos);
  kept.front()(Response{});  // too late: goes nowhere
}

}  // namespace
}  // namespace smppd::http
