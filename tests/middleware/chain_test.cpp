// The middleware chain (src/middleware/chain): a client's address rules refuse what they say,
// with the status, filter and rule named; the logger asks for a line; the order is the file's.
#include "middleware/chain.hpp"

#include <gtest/gtest.h>

#include "smpp/status.hpp"

namespace smppd::middleware {
namespace {

namespace st = smpp::status;

config::Config with_client(config::AddressRule source, config::AddressRule destination) {
  config::Config c;
  config::ClientConfig client;
  client.system_id = "alice";
  client.source_addresses = std::move(source);
  client.destination_addresses = std::move(destination);
  c.clients.push_back(client);
  config::ClientConfig bob;
  bob.system_id = "bob";
  c.clients.push_back(bob);
  return c;
}

smpp::Pdu submit(std::string_view from, uint8_t from_ton, std::string_view to, uint8_t to_ton) {
  smpp::SubmitSm sm;
  sm.source_addr.assign(from);
  sm.source_addr_ton = from_ton;
  sm.destination_addr.assign(to);
  sm.dest_addr_ton = to_ton;
  smpp::Pdu p;
  p.body = sm;
  return p;
}

// The chain rewrites what it is given: a copy here.
Verdict run(const Chain& chain, smpp::Pdu request, std::string_view client) {
  return chain.run(request, client);
}

TEST(Chain, AClientsAddressRulesRefuseWhatTheySay) {
  const Chain chain(with_client({{"SHOP", "+258*"}, {}}, {{}, {"+1900*", "112"}}));
  EXPECT_FALSE(chain.empty());
  EXPECT_EQ(chain.order(), std::vector<std::string>{"address_filter"});
  // Allowed source, a destination not blocked: on.
  EXPECT_FALSE(run(chain, submit("SHOP", 5, "258841234567", 1), "alice").rejection);
  EXPECT_FALSE(run(chain, submit("258840000000", 1, "19005550000", 0), "alice").rejection)
      << "+1900* is for international numbers only";
  // A source not allowed: ESME_RINVSRCADR.
  auto r = run(chain, submit("OTHER", 5, "258841234567", 1), "alice").rejection;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command_status, st::ESME_RINVSRCADR);
  EXPECT_EQ(r->filter, "address_filter");
  EXPECT_EQ(r->rule, "source.allowed");
  EXPECT_EQ(r->address, "OTHER");
  // "258..." at TON 0 is not "+258*".
  EXPECT_TRUE(run(chain, submit("258840000000", 0, "1", 0), "alice").rejection);
  // A blocked destination: ESME_RINVDSTADR, the rule named.
  r = run(chain, submit("SHOP", 5, "+19005550000", 0), "alice").rejection;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command_status, st::ESME_RINVDSTADR);
  EXPECT_EQ(r->rule, "destination.blocked +1900*");
  r = run(chain, submit("SHOP", 5, "112", 0), "alice").rejection;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rule, "destination.blocked 112");
  // Another client has no rules.
  EXPECT_FALSE(run(chain, submit("OTHER", 5, "+19005550000", 0), "bob").rejection);
}

TEST(Chain, SubmitMultiIsRefusedForAnyBlockedDestination) {
  const Chain chain(with_client({}, {{}, {"+1900*"}}));
  smpp::SubmitMulti m;
  m.source_addr.assign("SHOP");
  smpp::DestAddress ok;
  ok.address.assign("258841234567");
  ok.dest_addr_ton = 1;
  smpp::DestAddress bad = ok;
  bad.address.assign("19005550000");
  smpp::DestAddress list;
  list.dest_flag = smpp::DestAddress::kDistributionList;
  list.address.assign("19005550000");  // a list name, not a number
  m.destinations = {ok, list};
  smpp::Pdu p;
  p.body = m;
  EXPECT_FALSE(chain.run(p, "alice").rejection);
  m.destinations = {ok, bad};
  p.body = m;
  auto r = chain.run(p, "alice").rejection;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command_status, st::ESME_RINVDSTADR);
  EXPECT_EQ(r->address, "19005550000");
}

TEST(Chain, TheOrderIsTheFilesAndTheLoggerAsksForALine) {
  config::Config c = with_client({}, {{}, {"666"}});
  config::MiddlewareConfig logger;
  logger.type = config::MiddlewareType::logger;
  logger.level = config::LogLevel::warn;
  config::MiddlewareConfig filter;
  filter.type = config::MiddlewareType::address_filter;
  config::MiddlewareConfig transform;
  transform.type = config::MiddlewareType::transform;
  c.middleware = {logger, filter, transform};
  const Chain chain(c);
  EXPECT_EQ(chain.order(), (std::vector<std::string>{"logger", "address_filter", "transform"}));
  // The logger comes first: a refused message is logged too.
  Verdict v = run(chain, submit("X", 5, "666", 0), "alice");
  ASSERT_TRUE(v.log_level);
  EXPECT_EQ(*v.log_level, config::LogLevel::warn);
  EXPECT_TRUE(v.rejection);
  // With the filter before the logger, a refused message is not.
  c.middleware = {filter, logger};
  const Chain other(c);
  v = run(other, submit("X", 5, "666", 0), "alice");
  EXPECT_TRUE(v.rejection);
  EXPECT_FALSE(v.log_level);
}

TEST(Chain, NothingToDoIsEmpty) {
  config::Config c;
  config::ClientConfig client;
  client.system_id = "alice";
  c.clients.push_back(client);
  config::MiddlewareConfig auth;
  auth.type = config::MiddlewareType::auth;
  c.middleware = {auth};
  EXPECT_TRUE(Chain(c).empty());
  // A transform without rules, a protocol whose mapping the defaults already do: still empty.
  config::MiddlewareConfig transform;
  transform.type = config::MiddlewareType::transform;
  config::MiddlewareConfig protocol;
  protocol.type = config::MiddlewareType::protocol;
  protocol.version_mapping = {{smpp::Version::v33, smpp::Version::v34}};
  c.middleware = {auth, transform, protocol};
  EXPECT_TRUE(Chain(c).empty());
  protocol.version_mapping = {{smpp::Version::v34, smpp::Version::v33}};
  c.middleware = {protocol};
  EXPECT_FALSE(Chain(c).empty());
}

}  // namespace
}  // namespace smppd::middleware
