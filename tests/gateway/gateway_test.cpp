// Receipts that find no message are held, and the number held at once is bounded: beyond it the
// SMSC is answered ESME_RMSGQFUL (it keeps the receipt and sends it again later), and what was
// held is given up after the last look, counted (docs/architecture.md, the message path).
// Routes by the MNP answer: the gateway asks its NumberLookup only when a route needs it, uses a
// remembered answer at once, and otherwise routes when the lookup answers (from another thread).
#include "gateway/gateway.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "config/loader.hpp"
#include "smpp/status.hpp"

namespace smppd::gateway {
namespace {

using namespace std::chrono_literals;

// One upstream whose SMSC is not there: its pool exists, nothing connects.
constexpr const char* kConfig = R"(listeners:
  - name: in
    type: smpp
    address: 127.0.0.1:0
upstreams:
  - name: carrier
    hosts: [{ address: "127.0.0.1:9" }]
    bind: { system_id: smppd, password: pw }
    health: { enabled: false }
routes:
  - name: all
    match: { destination_addr: "*" }
    upstream: carrier
)";

smpp::Pdu receipt_for(int n) {
  smpp::DeliverSm d;
  d.esm_class = 0x04;
  d.short_message.assign("id:" + std::to_string(900000 + n) +
                         " sub:001 dlvrd:001 submit date:2611271200 done date:2611271201 "
                         "stat:DELIVRD err:000 text:x");
  return smpp::make_pdu(1, std::move(d));
}

TEST(Gateway, HeldReceiptsAreBoundedAndGivenUpCounted) {
  auto loaded = config::load_config_string(kConfig, "gateway_test.yaml", config::process_env,
                                           config::LoadOptions{false, nullptr});
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  boost::asio::io_context io{1};
  auto guard = boost::asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  Counters counters;
  Gateway gateway(loaded.config, counters, 5);
  gateway.start({io.get_executor()}, {});
  upstream::Pool* pool = gateway.pool("carrier");
  ASSERT_NE(pool, nullptr);

  // Deliveries arrive on a connection's thread: here, the io thread.
  std::promise<std::vector<uint32_t>> answered;
  boost::asio::post(io, [&] {
    std::vector<uint32_t> statuses;
    for (int i = 0; i < 7; ++i) {
      smpp::Pdu pdu = receipt_for(i);
      statuses.push_back(gateway.on_delivery(*pool, pdu, {}));
    }
    answered.set_value(statuses);
  });
  const auto statuses = answered.get_future().get();
  namespace st = smpp::status;
  EXPECT_EQ(statuses, (std::vector<uint32_t>{st::ESME_ROK, st::ESME_ROK, st::ESME_ROK, st::ESME_ROK,
                                             st::ESME_ROK, st::ESME_RMSGQFUL, st::ESME_RMSGQFUL}));
  EXPECT_EQ(counters.get("smppd_deliveries_refused_total",
                         {{"upstream", "carrier"}, {"reason", "too_many_held_receipts"}}),
            2u);
  // The five held are given up after the last look (about 4.3 s), each counted.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (counters.get("smppd_receipts_unmatched_total", {{"upstream", "carrier"}}) < 5 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(counters.get("smppd_receipts_unmatched_total", {{"upstream", "carrier"}}), 5u);
  // Room again: the next one is held, not refused.
  std::promise<uint32_t> again;
  boost::asio::post(io, [&] {
    smpp::Pdu pdu = receipt_for(100);
    again.set_value(gateway.on_delivery(*pool, pdu, {}));
  });
  EXPECT_EQ(again.get_future().get(), st::ESME_ROK);

  gateway.stop(100ms);
  guard.reset();
  thread.join();
}

// Routes by the answer; the upstreams' SMSCs are not there (which route decided is what counts).
constexpr const char* kMnpConfig = R"(listeners:
  - name: in
    type: smpp
    address: 127.0.0.1:0
upstreams:
  - name: vodacom
    hosts: [{ address: "127.0.0.1:9" }]
    bind: { system_id: smppd, password: pw }
    health: { enabled: false }
  - name: other
    hosts: [{ address: "127.0.0.1:9" }]
    bind: { system_id: smppd, password: pw }
    health: { enabled: false }
routes:
  - { name: vodacom, match: { mcc: "655", mnc: "01" }, upstream: vodacom }
  - { name: ported, match: { is_ported: true }, upstream: other }
  - { name: default, match: { destination_addr: "*" }, upstream: other }
mnp: { enabled: true, xconnect: { url: "http://mnp.invalid/" } }
)";

// A NumberLookup whose answers the test gives: what is in `known` at once, the rest when the
// test calls answer().
struct FakeLookup : NumberLookup {
  std::mutex mutex;
  std::map<std::string, NumberAnswer> known;
  std::vector<std::string> cached_asked;
  std::vector<std::pair<std::string, std::function<void(NumberAnswer)>>> waiting;

  std::optional<NumberAnswer> cached(std::string_view e164) override {
    std::lock_guard lock(mutex);
    cached_asked.emplace_back(e164);
    auto it = known.find(std::string(e164));
    if (it == known.end()) return std::nullopt;
    return it->second;
  }
  void lookup(std::string_view e164, std::function<void(NumberAnswer)> done) override {
    std::lock_guard lock(mutex);
    waiting.emplace_back(std::string(e164), std::move(done));
  }
  std::size_t lookups() {
    std::lock_guard lock(mutex);
    return waiting.size();
  }
  // Answers the oldest lookup, from this (another) thread.
  void answer(NumberAnswer a) {
    std::function<void(NumberAnswer)> done;
    {
      std::lock_guard lock(mutex);
      done = std::move(waiting.front().second);
      waiting.erase(waiting.begin());
    }
    done(std::move(a));
  }
};

// Where the gateway's answers to the test's messages go.
struct Answers {
  std::mutex mutex;
  std::vector<uint32_t> statuses;
  static void respond(void* self, smpp::Pdu& r) {
    auto* a = static_cast<Answers*>(self);
    std::lock_guard lock(a->mutex);
    a->statuses.push_back(r.command_status);
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return statuses.size();
  }
};

template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(Gateway, RoutesByTheMnpAnswerCachedOrLookedUpOffTheThread) {
  auto loaded = config::load_config_string(kMnpConfig, "gateway_test.yaml", config::process_env,
                                           config::LoadOptions{false, nullptr});
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  boost::asio::io_context io{1};
  auto guard = boost::asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  Counters counters;
  FakeLookup lookup;
  lookup.known["+27821000001"] = NumberAnswer{"655", "01", false};
  Gateway gateway(loaded.config, counters);
  gateway.number_lookup(&lookup);
  gateway.start({io.get_executor()}, {});
  auto answers = std::make_shared<Answers>();
  const Origin origin{answers, &Answers::respond, io.get_executor(), smpp::Version::v34};
  const Gateway::FaceClient client = gateway.face_client("alice");
  auto send = [&](std::string to, uint8_t ton = 1) {
    std::promise<void> sent;
    boost::asio::post(io, [&] {
      smpp::SubmitSm m;
      m.destination_addr.assign(to);
      m.dest_addr_ton = ton;
      m.short_message.assign("x");
      smpp::Pdu pdu = smpp::make_pdu(7, std::move(m));
      gateway.submit(origin, client.ref(), pdu);
      sent.set_value();
    });
    sent.get_future().get();
  };
  auto matched = [&](std::string_view route) {
    return counters.get("smppd_route_matches_total", {{"route", route}});
  };

  // Remembered: routed at once, nothing looked up.
  send("+27821000001");
  EXPECT_EQ(matched("vodacom"), 1u);
  // Not a number (alphanumeric, national): no lookup, no answer, the default route.
  send("ACME", 5);
  send("0821234567", 2);
  EXPECT_EQ(matched("default"), 2u);
  EXPECT_EQ(lookup.cached_asked, (std::vector<std::string>{"+27821000001"}));

  // Unknown: looked up; the message waits (unrouted) until the answer comes from another thread.
  send("27821000002");
  ASSERT_EQ(lookup.lookups(), 1u);
  EXPECT_EQ(lookup.waiting[0].first, "27821000002");
  EXPECT_EQ(gateway.awaiting_number(), 1u);
  EXPECT_EQ(matched("ported") + matched("vodacom") + matched("default"), 3u);
  std::thread([&] { lookup.answer(NumberAnswer{"655", "10", true}); }).join();
  EXPECT_TRUE(eventually([&] { return matched("ported") == 1; }));
  EXPECT_EQ(gateway.awaiting_number(), 0u);
  // The fallback (not ported, no network) takes the default route.
  send("27821000003");
  lookup.answer(NumberAnswer{});
  EXPECT_TRUE(eventually([&] { return matched("default") == 3; }));

  // An answer that comes while the gateway stops: the message is answered ESME_RSYSERR.
  send("27821000004");
  ASSERT_EQ(lookup.lookups(), 1u);
  gateway.stop(100ms);
  lookup.answer(NumberAnswer{"655", "01", false});
  // (The messages queued for the unreachable upstreams are answered by the stop too, in any
  // order with this one: wait for this one's status, not for any answer.)
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(answers->mutex);
    return std::find(answers->statuses.begin(), answers->statuses.end(),
                     smpp::status::ESME_RSYSERR) != answers->statuses.end();
  }));
  EXPECT_EQ(matched("vodacom"), 1u);
  EXPECT_EQ(
      counters.get("smppd_messages_rejected_total", {{"client", "alice"}, {"reason", "stopping"}}),
      1u);
  guard.reset();
  thread.join();
}

}  // namespace
}  // namespace smppd::gateway
