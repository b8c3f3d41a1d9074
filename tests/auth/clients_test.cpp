#include "auth/clients.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "limits/test_util.hpp"
#include "smpp/status.hpp"

using namespace smppd::auth;
using smppd::config::BindType;
using smppd::config::ClientConfig;
using smppd::test::cidr;
using smppd::test::ip;
namespace status = smpp::status;

namespace {

ClientConfig client(std::string id, std::string password) {
  ClientConfig c;
  c.system_id = std::move(id);
  c.password = std::move(password);
  return c;
}

ClientDirectory directory() {
  std::vector<ClientConfig> clients;
  clients.push_back(client("acme", "secret1"));
  auto restricted = client("bank", "pw");
  restricted.allowed_ips = {cidr("10.0.0.0/8"), cidr("2001:db8::/32")};
  restricted.bind_types = {BindType::transmitter};
  restricted.max_connections = 2;
  clients.push_back(restricted);
  clients.push_back(client("nopass", ""));
  return ClientDirectory(std::move(clients));
}

}  // namespace

TEST(ClientDirectory, AcceptsTheRightPassword) {
  auto dir = directory();
  AuthResult r = dir.authenticate("acme", "secret1", ip("192.0.2.1"), BindType::transceiver);
  EXPECT_EQ(r.command_status, status::ESME_ROK);
  EXPECT_TRUE(r.reason.empty());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.client->system_id, "acme");
  EXPECT_EQ(r.client, dir.find("acme"));
}

TEST(ClientDirectory, UnknownSystemId) {
  auto dir = directory();
  for (std::string_view id : {"nobody", "ACME", "acme ", "acm", ""}) {
    AuthResult r = dir.authenticate(id, "secret1", ip("192.0.2.1"), BindType::transceiver);
    EXPECT_EQ(r.command_status, status::ESME_RINVSYSID) << id;
    EXPECT_EQ(r.reason, "unknown_system_id");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.client, nullptr);
  }
}

TEST(ClientDirectory, WrongPassword) {
  auto dir = directory();
  for (std::string_view pw : {"secret2", "secret", "secret1 ", "Secret1", "", "secret1secret1"}) {
    AuthResult r = dir.authenticate("acme", pw, ip("192.0.2.1"), BindType::transceiver);
    EXPECT_EQ(r.command_status, status::ESME_RINVPASWD) << pw;
    EXPECT_EQ(r.reason, "wrong_password");
    EXPECT_EQ(r.client, nullptr);
  }
}

TEST(ClientDirectory, PasswordWithAnEmbeddedNulIsNotTruncated) {
  auto dir = directory();
  using namespace std::string_view_literals;
  EXPECT_EQ(dir.authenticate("acme", "secret1\0x"sv, ip("192.0.2.1"), BindType::transmitter)
                .command_status,
            status::ESME_RINVPASWD);
}

TEST(ClientDirectory, EmptyPasswordMatchesOnlyEmpty) {
  auto dir = directory();
  EXPECT_TRUE(dir.authenticate("nopass", "", ip("192.0.2.1"), BindType::receiver).ok());
  EXPECT_EQ(dir.authenticate("nopass", "x", ip("192.0.2.1"), BindType::receiver).command_status,
            status::ESME_RINVPASWD);
}

TEST(ClientDirectory, ClientAllowedIps) {
  auto dir = directory();
  EXPECT_TRUE(dir.authenticate("bank", "pw", ip("10.1.1.1"), BindType::transmitter).ok());
  EXPECT_TRUE(dir.authenticate("bank", "pw", ip("::ffff:10.1.1.1"), BindType::transmitter).ok());
  EXPECT_TRUE(dir.authenticate("bank", "pw", ip("2001:db8::7"), BindType::transmitter).ok());
  for (std::string_view peer : {"192.0.2.1", "::ffff:192.0.2.1", "2001:db9::7"}) {
    AuthResult r = dir.authenticate("bank", "pw", ip(peer), BindType::transmitter);
    EXPECT_EQ(r.command_status, status::ESME_RBINDFAIL) << peer;
    EXPECT_EQ(r.reason, "client_ip_not_allowed");
    EXPECT_EQ(r.client, nullptr);
  }
}

TEST(ClientDirectory, AddressIsCheckedBeforeThePassword) {
  // From outside allowed_ips a wrong password is not told apart from a right one.
  auto dir = directory();
  EXPECT_EQ(dir.authenticate("bank", "wrong", ip("192.0.2.1"), BindType::transmitter).reason,
            "client_ip_not_allowed");
  EXPECT_EQ(dir.authenticate("bank", "wrong", ip("10.0.0.1"), BindType::transmitter).reason,
            "wrong_password");
}

TEST(ClientDirectory, BindTypes) {
  auto dir = directory();
  for (BindType type : {BindType::receiver, BindType::transceiver}) {
    AuthResult r = dir.authenticate("bank", "pw", ip("10.0.0.1"), type);
    EXPECT_EQ(r.command_status, status::ESME_RBINDFAIL);
    EXPECT_EQ(r.reason, "bind_type_not_allowed");
    EXPECT_EQ(r.client, nullptr);
  }
  // Only the password's holder learns which bind types are allowed.
  EXPECT_EQ(dir.authenticate("bank", "wrong", ip("10.0.0.1"), BindType::receiver).reason,
            "wrong_password");
  // The default allows all three.
  for (BindType type : {BindType::transmitter, BindType::receiver, BindType::transceiver}) {
    EXPECT_TRUE(dir.authenticate("acme", "secret1", ip("192.0.2.1"), type).ok());
  }
}

TEST(ClientDirectory, KeepsTheWholeClientConfig) {
  auto dir = directory();
  EXPECT_EQ(dir.size(), 3u);
  const ClientConfig* bank = dir.find("bank");
  ASSERT_NE(bank, nullptr);
  EXPECT_EQ(bank->max_connections, 2u);
  EXPECT_EQ(dir.find("Bank"), nullptr);
  AuthResult r = dir.authenticate("bank", "pw", ip("10.0.0.1"), BindType::transmitter);
  EXPECT_EQ(r.client, bank);
}

TEST(ClientDirectory, RejectsDuplicateSystemIds) {
  std::vector<ClientConfig> clients = {client("acme", "a"), client("acme", "b")};
  EXPECT_THROW(ClientDirectory{std::move(clients)}, std::invalid_argument);
}

TEST(ClientDirectory, EmptyDirectoryKnowsNobody) {
  ClientDirectory dir({});
  EXPECT_EQ(dir.authenticate("", "", ip("192.0.2.1"), BindType::transmitter).command_status,
            status::ESME_RINVSYSID);
}

TEST(AuthReasons, AreTheStableLabels) {
  EXPECT_EQ(reason::kUnknownSystemId, "unknown_system_id");
  EXPECT_EQ(reason::kWrongPassword, "wrong_password");
  EXPECT_EQ(reason::kClientIpNotAllowed, "client_ip_not_allowed");
  EXPECT_EQ(reason::kBindTypeNotAllowed, "bind_type_not_allowed");
  EXPECT_EQ(reason::kIpLocked, "ip_locked");
  EXPECT_EQ(reason::kSystemIdLocked, "system_id_locked");
}

TEST(ClientDirectory, PinsOnlyAddressesItsOwnAllowedIpsHold) {
  auto dir = directory();
  EXPECT_TRUE(ClientDirectory::pins_address(*dir.find("bank"), ip("10.1.2.3")));
  EXPECT_TRUE(ClientDirectory::pins_address(*dir.find("bank"), ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(ClientDirectory::pins_address(*dir.find("bank"), ip("192.0.2.1")));
  // No allowed_ips: every address may bind, none is pinned.
  EXPECT_FALSE(ClientDirectory::pins_address(*dir.find("acme"), ip("192.0.2.1")));
}

TEST(BindFailureReply, UniformHidesWhichSystemIdsExist) {
  using smppd::config::BindFailureStatus;
  auto dir = directory();
  const auto unknown = dir.authenticate("mallory", "x", ip("192.0.2.1"), BindType::transceiver);
  const auto wrong = dir.authenticate("acme", "x", ip("192.0.2.1"), BindType::transceiver);
  const auto elsewhere = dir.authenticate("bank", "x", ip("192.0.2.1"), BindType::transmitter);
  EXPECT_EQ(bind_failure_reply(unknown.command_status, BindFailureStatus::specific),
            status::ESME_RINVSYSID);
  EXPECT_EQ(bind_failure_reply(wrong.command_status, BindFailureStatus::specific),
            status::ESME_RINVPASWD);
  for (const auto& r : {unknown, wrong, elsewhere}) {
    EXPECT_EQ(bind_failure_reply(r.command_status, BindFailureStatus::uniform),
              status::ESME_RBINDFAIL)
        << r.reason;
  }
  // Statuses that say nothing about system_ids are kept.
  EXPECT_EQ(bind_failure_reply(status::ESME_RTHROTTLED, BindFailureStatus::uniform),
            status::ESME_RTHROTTLED);
}
