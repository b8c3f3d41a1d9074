// The Redis client against a real redis-server: pipelining, error replies, a server that dies,
// pauses or comes back, AUTH (default user and ACL user), SELECT, and TLS with a test CA.
#include "cluster/redis_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <optional>
#include <thread>

#include "cluster/redis_server.hpp"
#include "net/tls.hpp"
#include "support/test_certificates.hpp"

namespace {

namespace asio = boost::asio;
using smppd::cluster::RedisClient;
using smppd::cluster::RedisCommand;
using smppd::cluster::RedisOptions;
using smppd::cluster::RedisReply;
using smppd::testing::RedisServer;

struct Result {
  std::string error;
  std::vector<RedisReply> replies;
};

class RedisClientTest : public ::testing::Test {
 protected:
  RedisClientTest() : work_(asio::make_work_guard(context_)), thread_([this] { context_.run(); }) {}
  ~RedisClientTest() override {
    clients_.clear();
    work_.reset();
    context_.stop();
    thread_.join();
  }

  std::shared_ptr<RedisClient> client(RedisOptions o) {
    clients_.push_back(RedisClient::create(context_.get_executor(), std::move(o)));
    return clients_.back();
  }
  static RedisOptions on(uint16_t port) {
    RedisOptions o;
    o.port = port;
    o.timeout = std::chrono::milliseconds(1000);
    return o;
  }
  static Result call(RedisClient& c, std::vector<RedisCommand> pipeline) {
    std::promise<Result> p;
    auto f = p.get_future();
    c.send(std::move(pipeline), [&p](const std::string& error, std::vector<RedisReply> replies) {
      p.set_value(Result{error, std::move(replies)});
    });
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return Result{"TEST: no callback", {}};
    return f.get();
  }

  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::vector<std::shared_ptr<RedisClient>> clients_;
};

TEST_F(RedisClientTest, RepliesInOrderAndCommandsQueuedMeanwhileShareAWrite) {
  RedisServer redis;
  ASSERT_TRUE(redis.running());
  auto c = client(on(redis.port()));
  const std::string binary = std::string("v\r\nwith binary ") + '\0' + " text";
  Result r = call(*c, {{"SET", "k", binary}, {"GET", "k"}, {"INCR", "n"}, {"GET", "missing"},
                       {"RPUSH", "l", "a", "b"}, {"LRANGE", "l", "0", "-1"}, {"INCR", "k"}});
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.replies.size(), 7u);
  EXPECT_EQ(r.replies[0].text, "OK");
  EXPECT_EQ(r.replies[1].type, RedisReply::Type::string);
  EXPECT_EQ(r.replies[1].text, binary);
  EXPECT_EQ(r.replies[2].integer, 1);
  EXPECT_TRUE(r.replies[3].is_nil());
  ASSERT_EQ(r.replies[5].items.size(), 2u);
  EXPECT_EQ(r.replies[5].items[1].text, "b");
  // An error reply to one command is that command's reply.
  EXPECT_TRUE(r.replies[6].is_error());
  EXPECT_NE(r.replies[6].text.find("not an integer"), std::string::npos);
  EXPECT_TRUE(c->connected());

  // 10,000 one-command requests sent at once (from the client's own thread, as the cluster
  // does): all answered, in order, in far fewer writes.
  const uint64_t writes_before = c->writes();
  std::promise<void> all;
  std::atomic<int> answered{0};
  std::atomic<bool> in_order{true};
  asio::post(context_, [&] {
    for (int i = 0; i < 10000; ++i) {
      c->send({{"INCR", "counter"}}, [&, i](const std::string& error, std::vector<RedisReply> replies) {
        if (!error.empty() || replies.size() != 1 || replies[0].integer != i + 1) in_order = false;
        if (++answered == 10000) all.set_value();
      });
    }
  });
  ASSERT_EQ(all.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(in_order);
  const uint64_t writes = c->writes() - writes_before;
  EXPECT_LE(writes, 2u) << "commands were not pipelined: " << writes << " writes";
  EXPECT_EQ(c->local_address(), "127.0.0.1");
}

TEST_F(RedisClientTest, AServerThatDiesFailsWhatWaitsAndTheNextSendConnectsAgain) {
  RedisServer redis;
  auto c = client(on(redis.port()));
  ASSERT_EQ(call(*c, {{"SET", "a", "1"}}).error, "");
  redis.stop();
  Result r = call(*c, {{"GET", "a"}});
  EXPECT_FALSE(r.error.empty());
  EXPECT_TRUE(r.replies.empty());
  EXPECT_FALSE(c->connected());
  // Nothing there: refused, at once.
  r = call(*c, {{"PING"}});
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
  ASSERT_TRUE(redis.start());
  r = call(*c, {{"PING"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.replies[0].text, "PONG");
}

TEST_F(RedisClientTest, AServerThatDoesNotAnswerFailsWithinTheTimeout) {
  RedisServer redis;
  auto c = client(on(redis.port()));
  ASSERT_EQ(call(*c, {{"PING"}}).error, "");
  redis.pause();
  const auto start = std::chrono::steady_clock::now();
  Result r = call(*c, {{"PING"}});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.error, "no answer within 1000 ms");
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::milliseconds(5000));
  redis.resume();
  r = call(*c, {{"PING"}});
  EXPECT_EQ(r.error, "");
}

TEST_F(RedisClientTest, AuthWithThePasswordOrAnAclUserAndTheDatabaseSelected) {
  RedisServer redis({"--requirepass", "s3cret"});
  ASSERT_NE(redis.cli("ACL SETUSER smppd on '>node-pw' '~*' '+@all'", "s3cret").find("OK"), std::string::npos);
  RedisOptions o = on(redis.port());
  // None: every command is refused (NOAUTH), as replies.
  Result r = call(*client(o), {{"PING"}});
  ASSERT_EQ(r.error, "");
  EXPECT_NE(r.replies[0].text.find("NOAUTH"), std::string::npos);
  // A wrong password: the connection fails with Redis's reason.
  o.password = "wrong";
  r = call(*client(o), {{"PING"}});
  EXPECT_NE(r.error.find("WRONGPASS"), std::string::npos) << r.error;
  o.password = "s3cret";
  o.db = 3;
  r = call(*client(o), {{"SET", "in3", "x"}});
  ASSERT_EQ(r.error, "");
  EXPECT_NE(redis.cli("-n 3 GET in3", "s3cret").find("x"), std::string::npos);
  EXPECT_EQ(redis.cli("-n 0 EXISTS in3", "s3cret").find("1"), std::string::npos);
  o.username = "smppd";
  o.password = "node-pw";
  o.db = 0;
  r = call(*client(o), {{"ACL", "WHOAMI"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.replies[0].text, "smppd");
}

TEST_F(RedisClientTest, TlsWithTheTestCaAndRefusedWithAnother) {
  // (Also: a TLS connection whose server stops answering fails within the timeout, and the
  // client connects again once it answers: below.)
  smppd::testing::TestCertificates certs("smppd-redis-tls");
  const std::string ec = smppd::testing::TestCertificates::kNewKey;
  const std::string ca_ext = " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign";
  ASSERT_TRUE(certs.make({
      "openssl req -x509" + ec + " -keyout " + certs.path("ca.key") + " -out " + certs.path("ca.crt") +
          " -subj /CN=redis-test-ca" + ca_ext,
      "openssl req -x509" + ec + " -keyout " + certs.path("server.key") + " -out " + certs.path("server.crt") +
          " -subj /CN=localhost -CA " + certs.path("ca.crt") + " -CAkey " + certs.path("ca.key") +
          " -addext basicConstraints=critical,CA:FALSE -addext subjectAltName=DNS:localhost,IP:127.0.0.1",
      "openssl req -x509" + ec + " -keyout " + certs.path("other.key") + " -out " + certs.path("other.crt") +
          " -subj /CN=other-ca" + ca_ext,
  })) << certs.error();
  RedisServer redis({"--tls-cert-file", certs.path("server.crt"), "--tls-key-file", certs.path("server.key"),
                     "--tls-ca-cert-file", certs.path("ca.crt"), "--tls-auth-clients", "no"},
                    true);
  ASSERT_TRUE(redis.running());
  smppd::config::TlsConfig tls;
  tls.enabled = true;
  tls.ca = certs.path("ca.crt");
  RedisOptions o = on(redis.port());
  auto made = smppd::net::make_client_tls_context(tls);
  ASSERT_TRUE(made.ok()) << made.error;
  o.tls = made.context;
  o.tls_config = tls;
  EXPECT_EQ(o.url(), "rediss://127.0.0.1:" + std::to_string(redis.port()));
  auto secure = client(o);
  Result r = call(*secure, {{"SET", "over", "tls"}, {"GET", "over"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.replies[1].text, "tls");
  // Paused while a TLS read is pending: the timeout ends the connection (its read cancelled on
  // a stream that still exists), then it connects again.
  redis.pause();
  r = call(*secure, {{"PING"}});
  EXPECT_EQ(r.error, "no answer within 1000 ms");
  redis.resume();
  r = call(*secure, {{"GET", "over"}});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.replies[0].text, "tls");
  secure->close();
  // A CA that did not sign the server's certificate.
  tls.ca = certs.path("other.crt");
  made = smppd::net::make_client_tls_context(tls);
  ASSERT_TRUE(made.ok());
  o.tls = made.context;
  o.tls_config = tls;
  r = call(*client(o), {{"PING"}});
  EXPECT_NE(r.error.find("certificate verify failed"), std::string::npos) << r.error;
  // Plain TCP to the TLS port: no answer it can read, and no hang.
  r = call(*client(on(redis.port())), {{"PING"}});
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
