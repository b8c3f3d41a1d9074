// The MNP client (mnp/mnp_client) against a real HTTP provider on loopback (smppd's own
// http::Server): fast, slow (timeout), failing (5xx), refusing and malformed providers all end in
// one answer per lookup; concurrent lookups of one number make one request; failures are
// remembered for negative_ttl; a provider failing in a row is paused.
#include "mnp/mnp_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/http/server.hpp"

namespace smppd::mnp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

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
  std::thread::id id() const { return thread_.get_id(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread thread_;
};

// A provider: records each request; answers it at once with the answer set, or holds it until
// release().
class Provider {
 public:
  struct Seen {
    std::string method, path, query, body, authorization, account, content_type;
  };

  explicit Provider(Runner& runner) {
    http::ServerSettings s;
    s.name = "provider";
    server_ = std::make_shared<http::Server>(
        runner.io().get_executor(), s, [this](http::Request& r, http::Reply reply) {
          std::unique_lock lock(mutex_);
          seen_.push_back(
              {r.method, r.path, r.query, r.body, std::string(r.header("authorization")),
               std::string(r.header("x-account")), std::string(r.header("content-type"))});
          changed_.notify_all();
          if (holding_) {
            held_.push_back(std::move(reply));
            return;
          }
          const http::Response answer = answer_;
          lock.unlock();
          reply(answer);
        });
    port_ = server_->start(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)).port();
  }
  ~Provider() { server_->stop(); }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void answer(unsigned status, std::string body) {
    std::lock_guard lock(mutex_);
    answer_.status = status;
    answer_.body = std::move(body);
  }
  void hold() {
    std::lock_guard lock(mutex_);
    holding_ = true;
  }
  // Answers what was held, and later requests at once.
  void release() {
    std::vector<http::Reply> held;
    http::Response answer;
    {
      std::lock_guard lock(mutex_);
      holding_ = false;
      held.swap(held_);
      answer = answer_;
    }
    for (auto& reply : held) reply(answer);
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return seen_.size();
  }
  bool wait_for_count(std::size_t n, std::chrono::milliseconds limit = 5s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return seen_.size() >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Seen> seen_;
  std::vector<http::Reply> held_;
  bool holding_ = false;
  http::Response answer_{200, "application/json", R"({"mcc":"643","mnc":"04","ported":true})", {}};
  std::shared_ptr<http::Server> server_;
  uint16_t port_ = 0;
};

// One lookup's answer, the thread it came on and how many times it came.
struct Call {
  std::promise<MnpAnswer> promise;
  std::future<MnpAnswer> future = promise.get_future();
  std::atomic<int> calls{0};
  std::thread::id thread;

  MnpAnswer get(std::chrono::milliseconds limit = 10s) {
    if (future.wait_for(limit) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within " << limit.count() << " ms";
      MnpAnswer none;
      none.error = "no answer";
      return none;
    }
    return future.get();
  }
};

std::shared_ptr<Call> look_up(MnpClient& client, std::string_view number) {
  auto call = std::make_shared<Call>();
  client.lookup(number, [call](MnpAnswer answer) {
    if (call->calls++ == 0) {
      call->thread = std::this_thread::get_id();
      call->promise.set_value(std::move(answer));
    }
  });
  return call;
}

config::MnpConfig xconnect(std::string url) {
  config::MnpConfig c;
  c.enabled = true;
  c.provider = config::MnpProvider::xconnect;
  c.url = std::move(url);
  c.timeout = 2s;
  c.cache_max_size = 1000;
  return c;
}

class MnpClientTest : public ::testing::Test {
 protected:
  void TearDown() override {
    client_.reset();
    provider_.reset();
  }
  MnpClient& client(config::MnpConfig config, MnpClient::Settings settings = {}) {
    client_ = std::make_unique<MnpClient>(client_thread_.io().get_executor(), std::move(config),
                                          std::move(settings));
    return *client_;
  }
  Provider& provider() {
    provider_ = std::make_unique<Provider>(server_thread_);
    return *provider_;
  }

  Runner server_thread_;
  Runner client_thread_;
  std::unique_ptr<Provider> provider_;
  std::unique_ptr<MnpClient> client_;
};

TEST_F(MnpClientTest, AsksTheProviderOnceThenAnswersFromTheCache) {
  Provider& p = provider();
  auto config = xconnect(p.url("/npq"));
  config.api_key = "secret-key";
  config.headers = {{"X-Account", "acme"}};
  MnpClient& c = client(config);

  auto first = look_up(c, "+258841234567");
  const MnpAnswer a = first->get();
  EXPECT_EQ(a.source, AnswerSource::provider);
  EXPECT_EQ(a.mcc, "643");
  EXPECT_EQ(a.mnc, "04");
  EXPECT_TRUE(a.is_ported);
  EXPECT_EQ(a.error, "");
  EXPECT_EQ(first->thread, client_thread_.id());  // on the client's strand

  ASSERT_EQ(p.count(), 1u);
  const auto seen = p.seen()[0];
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/npq");
  EXPECT_EQ(seen.query, "number=%2B258841234567");
  EXPECT_EQ(seen.authorization, "Bearer secret-key");
  EXPECT_EQ(seen.account, "acme");

  // The same number without '+': the same key, from the cache.
  auto second = look_up(c, "258841234567");
  const MnpAnswer b = second->get();
  EXPECT_EQ(b.source, AnswerSource::cache);
  EXPECT_EQ(b.mnc, "04");
  EXPECT_TRUE(b.is_ported);
  EXPECT_EQ(second->thread, client_thread_.id());  // never inside lookup()
  const auto now = c.cached("+258841234567");
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->source, AnswerSource::cache);
  EXPECT_FALSE(c.cached("+258841234568").has_value());
  EXPECT_EQ(p.count(), 1u);
  const auto stats = c.stats();
  EXPECT_EQ(stats.lookups, 2u);
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.provider_answers, 1u);
  EXPECT_EQ(stats.cache_hits, 2u);
  EXPECT_EQ(stats.fallbacks, 0u);
}

TEST_F(MnpClientTest, HlrLookupPostsTheMsisdn) {
  Provider& p = provider();
  p.answer(200, R"({"id":"e428acb1c0ae","msisdn":"+14156226819","query_status":"OK",
    "mccmnc":"310260","mcc":"310","mnc":"260","is_ported":true,"error_code":null})");
  auto config = xconnect(p.url("/api/v2/mnp-lookup"));
  config.provider = config::MnpProvider::hlr_lookup;
  config.headers = {{"Authorization", "Basic abc"}};  // a header of the operator's wins
  config.api_key = "ignored";
  MnpClient& c = client(config);
  const MnpAnswer a = look_up(c, "+14156226819")->get();
  EXPECT_EQ(a.source, AnswerSource::provider) << a.error;
  EXPECT_EQ(a.mcc, "310");
  EXPECT_EQ(a.mnc, "260");
  ASSERT_EQ(p.count(), 1u);
  const auto seen = p.seen()[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/api/v2/mnp-lookup");
  EXPECT_EQ(seen.body, R"({"msisdn":"+14156226819"})");
  EXPECT_EQ(seen.content_type, "application/json");
  EXPECT_EQ(seen.authorization, "Basic abc");
}

TEST_F(MnpClientTest, CustomFillsItsTemplatesAndReadsItsFields) {
  Provider& p = provider();
  p.answer(200, R"({"data":{"operator":{"code":"26207"},"isPorted":"Y"}})");
  auto config = xconnect(p.url("/lookup/{number}"));
  config.provider = config::MnpProvider::custom;
  config.method = "POST";
  config.body = R"({"tn":"{e164}","digits":"{number}"})";
  config.fields.mccmnc = "data.operator.code";
  config.fields.ported = "data.isPorted";
  MnpClient& c = client(config);
  const MnpAnswer a = look_up(c, "+4917612345678")->get();
  EXPECT_EQ(a.source, AnswerSource::provider) << a.error;
  EXPECT_EQ(a.mcc, "262");
  EXPECT_EQ(a.mnc, "07");
  EXPECT_TRUE(a.is_ported);
  const auto seen = p.seen().at(0);
  EXPECT_EQ(seen.path, "/lookup/4917612345678");
  EXPECT_EQ(seen.body, R"({"tn":"+4917612345678","digits":"4917612345678"})");
}

TEST_F(MnpClientTest, ASlowProviderTimesOutToTheFallbackWhichIsRemembered) {
  Provider& p = provider();
  p.hold();  // never answers (until the test ends)
  auto config = xconnect(p.url("/npq"));
  config.timeout = 300ms;
  config.cache_negative_ttl = 1min;
  MnpClient& c = client(config);
  const auto start = Steady::now();
  const MnpAnswer a = look_up(c, "+27821234567")->get();
  const auto took = Steady::now() - start;
  EXPECT_EQ(a.source, AnswerSource::fallback);
  EXPECT_FALSE(a.is_ported);
  EXPECT_EQ(a.mcc, "");
  EXPECT_NE(a.error.find("timed out after 300 ms"), std::string::npos) << a.error;
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 2s);
  // Messages to the number keep coming: the failure answers them, without a request.
  const MnpAnswer b = look_up(c, "+27821234567")->get();
  EXPECT_EQ(b.source, AnswerSource::fallback);
  EXPECT_NE(b.error.find("failed less than 60000 ms ago"), std::string::npos) << b.error;
  EXPECT_TRUE(c.cached("+27821234567").has_value());
  EXPECT_EQ(p.count(), 1u);
  EXPECT_EQ(c.stats().cached_failures, 2u);
  p.release();
}

TEST_F(MnpClientTest, A5xxIsTheFallbackWithTheProvidersWords) {
  Provider& p = provider();
  p.answer(503, R"({"error":"SERVICE_UNAVAILABLE","message":"down for maintenance"})");
  auto config = xconnect(p.url("/npq"));
  config.cache_negative_ttl = 0ms;  // failures not remembered: each lookup asks again
  MnpClient& c = client(config);
  for (int i = 0; i < 2; ++i) {
    const MnpAnswer a = look_up(c, "+27821234567")->get();
    EXPECT_EQ(a.source, AnswerSource::fallback);
    EXPECT_EQ(a.error, "the provider answered HTTP 503: down for maintenance");
  }
  EXPECT_EQ(p.count(), 2u);
  EXPECT_FALSE(c.cached("+27821234567").has_value());
  EXPECT_EQ(c.stats().failed_requests, 2u);
  EXPECT_EQ(c.stats().fallbacks, 2u);
}

TEST_F(MnpClientTest, MalformedAnswersAreTheFallback) {
  Provider& p = provider();
  auto config = xconnect(p.url("/npq"));
  config.cache_negative_ttl = 0ms;
  MnpClient& c = client(config);
  const std::pair<std::string, std::string> cases[] = {
      {"<html>Bad Gateway</html>", "the answer is not JSON"},
      {R"({"mcc":"6431","mnc":"04"})", "mcc '6431' is not 3 digits"},
      {R"({"mcc":"643","mnc":"04","ported":"perhaps"})", "neither true nor false"},
      {R"({"number":"+27821234567"})", "no mcc and mnc"},
      {"", "the answer is empty"},
  };
  for (const auto& [body, error] : cases) {
    p.answer(200, body);
    const MnpAnswer a = look_up(c, "+27821234567")->get();
    EXPECT_EQ(a.source, AnswerSource::fallback) << body;
    EXPECT_NE(a.error.find(error), std::string::npos) << body << " -> " << a.error;
  }
  // A 4xx is an answer (the provider is there): no pause, whatever the count.
  p.answer(401, R"({"message":"Invalid API key"})");
  for (int i = 0; i < 6; ++i) {
    const MnpAnswer a = look_up(c, "+27821234567")->get();
    EXPECT_EQ(a.error, "the provider answered HTTP 401: Invalid API key");
  }
  EXPECT_EQ(c.stats().paused, 0u);
}

TEST_F(MnpClientTest, ConcurrentLookupsOfANumberMakeOneRequest) {
  Provider& p = provider();
  p.hold();
  MnpClient& c = client(xconnect(p.url("/npq")));
  std::vector<std::shared_ptr<Call>> calls;
  std::mutex calls_mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto call = look_up(c, "+258841234567");
        std::lock_guard lock(calls_mutex);
        calls.push_back(call);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto other = look_up(c, "+258821234567");
  ASSERT_TRUE(p.wait_for_count(2));
  std::this_thread::sleep_for(50ms);  // anything more would come now
  EXPECT_EQ(p.count(), 2u);           // one per number
  p.release();
  for (auto& call : calls) {
    const MnpAnswer a = call->get();
    EXPECT_EQ(a.source, AnswerSource::provider);
    EXPECT_EQ(a.mnc, "04");
  }
  EXPECT_EQ(other->get().source, AnswerSource::provider);
  std::this_thread::sleep_for(20ms);
  for (auto& call : calls) EXPECT_EQ(call->calls.load(), 1);
  const auto stats = c.stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.merged, 99u);
  EXPECT_EQ(p.count(), 2u);
}

TEST_F(MnpClientTest, AProviderDownIsPausedThenProbed) {
  // A port nobody listens on: connection refused.
  uint16_t port = 0;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  auto config = xconnect("http://127.0.0.1:" + std::to_string(port) + "/npq");
  config.cache_negative_ttl = 0ms;
  MnpClient::Settings settings;
  settings.failures_to_pause = 3;
  settings.pause = 400ms;
  MnpClient& c = client(config, settings);
  for (int i = 0; i < 3; ++i) {
    const MnpAnswer a = look_up(c, "+2782123456" + std::to_string(i))->get();
    EXPECT_NE(a.error.find("connection refused"), std::string::npos) << a.error;
  }
  const MnpAnswer paused = look_up(c, "+27821234569")->get();
  EXPECT_EQ(paused.source, AnswerSource::fallback);
  EXPECT_NE(paused.error.find("failed 3 times in a row: lookups paused for"), std::string::npos)
      << paused.error;
  EXPECT_EQ(c.stats().requests, 3u);
  EXPECT_EQ(c.stats().paused, 1u);
  std::this_thread::sleep_for(450ms);
  // The pause is over: one request probes (and fails again: paused anew).
  const MnpAnswer probe = look_up(c, "+27821234569")->get();
  EXPECT_NE(probe.error.find("connection refused"), std::string::npos) << probe.error;
  EXPECT_EQ(c.stats().requests, 4u);
  const MnpAnswer again = look_up(c, "+27821234560")->get();
  EXPECT_NE(again.error.find("paused"), std::string::npos) << again.error;
  EXPECT_EQ(c.stats().requests, 4u);
}

TEST_F(MnpClientTest, AProbeThatSucceedsEndsThePause) {
  Provider& p = provider();
  p.answer(502, "bad gateway");
  auto config = xconnect(p.url("/npq"));
  config.cache_negative_ttl = 0ms;
  MnpClient::Settings settings;
  settings.failures_to_pause = 2;
  settings.pause = 200ms;
  MnpClient& c = client(config, settings);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(look_up(c, "+2782123456" + std::to_string(i))->get().error,
              "the provider answered HTTP 502: bad gateway");
  }
  EXPECT_NE(look_up(c, "+27821234562")->get().error.find("paused"), std::string::npos);
  std::this_thread::sleep_for(250ms);
  p.answer(200, R"({"mcc":"655","mnc":"07"})");
  EXPECT_EQ(look_up(c, "+27821234563")->get().source, AnswerSource::provider);
  EXPECT_EQ(look_up(c, "+27821234564")->get().source, AnswerSource::provider);
  EXPECT_EQ(p.count(), 4u);
}

TEST_F(MnpClientTest, DisabledLookupsAndWhatIsNotANumberFallBackAtOnce) {
  Provider& p = provider();
  auto config = xconnect(p.url("/npq"));
  MnpClient& c = client(config);
  for (std::string_view bad : {"", "+", "hello", "+1234567890123456", "12 34"}) {
    const MnpAnswer a = look_up(c, bad)->get();
    EXPECT_EQ(a.source, AnswerSource::fallback);
    EXPECT_NE(a.error.find("not an E.164 number"), std::string::npos) << bad;
  }
  config.enabled = false;
  MnpClient& off = client(config);
  const MnpAnswer a = look_up(off, "+27821234567")->get();
  EXPECT_NE(a.error.find("disabled"), std::string::npos);
  EXPECT_EQ(p.count(), 0u);
}

TEST_F(MnpClientTest, WithoutACacheEveryLookupAsks) {
  Provider& p = provider();
  auto config = xconnect(p.url("/npq"));
  config.cache_enabled = false;
  MnpClient& c = client(config);
  EXPECT_EQ(c.cache(), nullptr);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(look_up(c, "+27821234567")->get().source, AnswerSource::provider);
  EXPECT_EQ(p.count(), 3u);
}

TEST_F(MnpClientTest, BeyondMaxWaitingLookupsFallBack) {
  Provider& p = provider();
  p.hold();
  MnpClient::Settings settings;
  settings.max_waiting = 2;
  MnpClient& c = client(xconnect(p.url("/npq")), settings);
  auto one = look_up(c, "+27821234561");
  auto two = look_up(c, "+27821234562");
  auto three = look_up(c, "+27821234563");
  const MnpAnswer a = three->get();
  EXPECT_EQ(a.source, AnswerSource::fallback);
  EXPECT_EQ(a.error, "too many lookups waiting (2)");
  ASSERT_TRUE(p.wait_for_count(2));
  p.release();
  EXPECT_EQ(one->get().source, AnswerSource::provider);
  EXPECT_EQ(two->get().source, AnswerSource::provider);
}

TEST_F(MnpClientTest, AFullQueueIsNotTheNumbersFailure) {
  Provider& p = provider();
  p.hold();
  auto config = xconnect(p.url("/npq"));
  config.max_concurrent = 1;
  MnpClient::Settings settings;
  settings.max_queued_requests = 0;
  settings.failures_to_pause = 1;
  MnpClient& c = client(config, settings);
  auto first = look_up(c, "+27821234561");
  ASSERT_TRUE(p.wait_for_count(1));
  const MnpAnswer second = look_up(c, "+27821234562")->get();
  EXPECT_EQ(second.error, "no answer from the provider: queue full");
  // Neither remembered for the number nor counted against the provider.
  EXPECT_FALSE(c.cached("+27821234562").has_value());
  p.release();
  EXPECT_EQ(first->get().source, AnswerSource::provider);
  EXPECT_EQ(look_up(c, "+27821234562")->get().source, AnswerSource::provider);
  EXPECT_EQ(c.stats().paused, 0u);
}

TEST_F(MnpClientTest, StopAnswersWhatWaits) {
  Provider& p = provider();
  p.hold();
  MnpClient& c = client(xconnect(p.url("/npq")));
  auto waiting = look_up(c, "+27821234567");
  auto merged = look_up(c, "+27821234567");
  ASSERT_TRUE(p.wait_for_count(1));
  c.stop();
  for (auto* call : {&waiting, &merged}) {
    const MnpAnswer a = (*call)->get();
    EXPECT_EQ(a.source, AnswerSource::fallback);
    EXPECT_NE(a.error.find("client stopping"), std::string::npos) << a.error;
  }
  EXPECT_NE(look_up(c, "+27821234568")->get().error.find("client stopping"), std::string::npos);
  // Stopping is not the number's doing: nothing is remembered of it.
  EXPECT_FALSE(c.cached("+27821234567").has_value());
  p.release();
}

TEST_F(MnpClientTest, AShareableCacheOutlivesTheClient) {
  Provider& p = provider();
  auto cache = std::make_shared<MnpCache>(100);
  {
    MnpClient first(client_thread_.io().get_executor(), xconnect(p.url("/npq")), {}, cache);
    EXPECT_EQ(look_up(first, "+27821234567")->get().source, AnswerSource::provider);
  }
  MnpClient second(client_thread_.io().get_executor(), xconnect(p.url("/npq")), {}, cache);
  EXPECT_EQ(look_up(second, "+27821234567")->get().source, AnswerSource::cache);
  EXPECT_EQ(p.count(), 1u);
}

TEST(MnpClientConfig, RefusesWhatTheLoaderRefuses) {
  asio::io_context io;
  config::MnpConfig c;
  c.enabled = true;
  EXPECT_THROW(MnpClient(io.get_executor(), c), std::invalid_argument);  // no url
  c.url = "http://127.0.0.1:1/";
  c.provider = config::MnpProvider::custom;
  EXPECT_THROW(MnpClient(io.get_executor(), c), std::invalid_argument);  // no fields
  c.fields.mccmnc = "a.b";
  EXPECT_NO_THROW(MnpClient(io.get_executor(), c));
}

}  // namespace
}  // namespace smppd::mnp
