// The client queue's bounds (docs/architecture.md, the message path): what finds no receiver
// waits in order up to the bound; past it the SMSC is refused (it keeps the message), except for
// what smppd already answered ESME_ROK (a held receipt), which may go up to twice the bound.
#include "gateway/clients.hpp"

#include <gtest/gtest.h>

namespace smppd::gateway {
namespace {

smpp::Pdu receipt(int n) {
  smpp::DeliverSm d;
  d.esm_class = 0x04;
  d.short_message.assign("id:" + std::to_string(n) + " stat:DELIVRD");
  return smpp::make_pdu(0, std::move(d));
}

TEST(ClientRegistry, AFullQueueRefusesNewDeliveriesButTakesAcceptedOnesUpToTwiceItsBound) {
  ClientRegistry clients(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(clients.deliver("alice", receipt(i))) << i;
  EXPECT_EQ(clients.waiting("alice"), 3u);
  // At the bound: a new delivery is refused (the SMSC is answered ESME_RMSGQFUL and keeps it).
  EXPECT_FALSE(clients.deliver("alice", receipt(3)));
  // One smppd answered ESME_ROK already goes past the bound, up to twice it.
  for (int i = 4; i < 7; ++i) EXPECT_TRUE(clients.deliver("alice", receipt(i), true)) << i;
  EXPECT_EQ(clients.waiting("alice"), 6u);
  EXPECT_FALSE(clients.deliver("alice", receipt(7), true));
  EXPECT_EQ(clients.waiting("alice"), 6u);
  // Another client has its own queue.
  EXPECT_TRUE(clients.deliver("bob", receipt(8)));
  EXPECT_EQ(clients.waiting("bob"), 1u);
}

}  // namespace
}  // namespace smppd::gateway
