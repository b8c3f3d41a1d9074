// Receipts that find no message are held, and the number held at once is bounded: beyond it the
// SMSC is answered ESME_RMSGQFUL (it keeps the receipt and sends it again later), and what was
// held is given up after the last look, counted (docs/architecture.md, the message path).
#include "gateway/gateway.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <future>
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

}  // namespace
}  // namespace smppd::gateway
