// The forms of smppd's HTTP callbacks (api/callbacks/callback_format): the JSON bodies, the
// signature a receiver checks, Kannel's dlr-url escapes as RapidPro's courier and playSMS put
// them in their URLs, Jasmin's DLR fields and acknowledgement.
#include "api/callbacks/callback_format.hpp"

#include <gtest/gtest.h>

#include "gateway/message_callbacks.hpp"

namespace smppd::callbacks {
namespace {

smpp::Pdu receipt(std::string_view text, uint8_t esm_class = 4) {
  smpp::DeliverSm d;
  d.source_addr.assign("258841234567");
  d.destination_addr.assign("SHOP");
  d.esm_class = esm_class;
  d.short_message.assign(text);
  smpp::Pdu p;
  p.body = d;
  return p;
}

TEST(CallbackFormat, ReadsTheReceiptThatGoesToTheClient) {
  auto r = receipt_facts(receipt("id:0a1b2c3d4e5f sub:001 dlvrd:001 submit date:2611271200 "
                                 "done date:2611271201 stat:UNDELIV err:034 text:Your code"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message_id, "0a1b2c3d4e5f");
  EXPECT_EQ(r->to, "258841234567");
  EXPECT_EQ(r->from, "SHOP");
  EXPECT_EQ(r->state, smpp::MessageState::undeliverable);
  EXPECT_TRUE(r->final);
  EXPECT_EQ(r->stat, "UNDELIV");
  EXPECT_EQ(r->err, "034");
  EXPECT_EQ(r->text, "Your code");
  EXPECT_EQ(r->submit_unix, 1795780800);  // 2026-11-27 12:00 UTC
  // Not a receipt: nothing.
  EXPECT_FALSE(receipt_facts(receipt("hello", 0)));
  // An intermediate notification is not final.
  auto i = receipt_facts(receipt("id:1 stat:ENROUTE err:000", 0x20));
  ASSERT_TRUE(i);
  EXPECT_FALSE(i->final);
}

TEST(CallbackFormat, ReceiptJsonNamesTheStateInWords) {
  auto r = receipt_facts(receipt("id:7 sub:001 dlvrd:001 submit date:2611271200 done date:"
                                 "2611271201 stat:DELIVRD err:000 text:x"));
  ASSERT_TRUE(r);
  EXPECT_EQ(receipt_json(*r, "ref-1", "99", "carrier"),
            R"({"event":"receipt","message_id":"7","client_ref":"ref-1","to":"258841234567",)"
            R"("from":"SHOP","state":"delivered","stat":"DELIVRD","final":true,"error":"000",)"
            R"("submitted_at":"2026-11-27T12:00:00Z","done_at":"2026-11-27T12:01:00Z",)"
            R"("smsc_id":"99","upstream":"carrier","receipt":"id:7 sub:001 dlvrd:001 submit )"
            R"(date:2611271200 done date:2611271201 stat:DELIVRD err:000 text:x"})");
}

TEST(CallbackFormat, MoJsonCarriesTextAndBytes) {
  MoFacts m;
  m.from = "258840000001";
  m.to = "3100";
  m.data_coding = 8;
  m.payload = {0x00, 'O', 0x00, 'l', 0x00, 0xE1};
  m.text = mo_text(m.payload, m.data_coding);
  m.received_unix_ms = 1'795'780'800'123;
  m.parts = 1;
  EXPECT_EQ(mo_json(m), R"({"event":"mo","from":"258840000001","to":"3100","text":"Olá",)"
                        R"("data_coding":8,"hex":"004f006c00e1","received_at":)"
                        R"("2026-11-27T12:00:00Z","parts":1})");
  // Binary: no text, the bytes in hex.
  EXPECT_FALSE(mo_text({0xFF, 0x00}, 0x04));
  // A UCS-2 payload of odd length does not decode.
  EXPECT_FALSE(mo_text({0x00, 0x41, 0x00}, 8));
}

TEST(CallbackFormat, SignatureIsHmacSha256OfTimestampAndBody) {
  // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(signature("Jefe", 1700000000, "{}"),
            "sha256=" + hmac_sha256_hex("Jefe", "1700000000.{}"));
}

TEST(CallbackFormat, KannelDlrTypes) {
  using smpp::MessageState;
  EXPECT_EQ(kannel_dlr_type(MessageState::delivered, true), 1);
  EXPECT_EQ(kannel_dlr_type(MessageState::undeliverable, true), 2);
  EXPECT_EQ(kannel_dlr_type(MessageState::expired, true), 2);
  EXPECT_EQ(kannel_dlr_type(MessageState::rejected, true), 2);
  EXPECT_EQ(kannel_dlr_type(MessageState::enroute, false), 4);
}

KannelDlr dlr() {
  KannelDlr d;
  d.type = 1;
  d.data = "id:0a1b sub:001 dlvrd:001 stat:DELIVRD err:000 text:Hi there";
  d.receiver = "00258841234567";
  d.sender = "SHOP*1";
  d.smsc = "carrier";
  d.smsc_id = "ABC-1";
  d.err = "000";
  d.username = "alice";
  d.account = "acct 1";
  d.meta = "?smpp?x=1";
  d.uuid = "u-u-i-d";
  d.dlr_url = "http://app/dlr";
  d.unix_seconds = 1795780800;
  return d;
}

TEST(CallbackFormat, KannelEscapesAsCourierAndPlaySmsUseThem) {
  // RapidPro's courier: ...&status=%d; playSMS: type=%d with its own id, and %p/%P.
  EXPECT_EQ(kannel_expand("https://courier/c/kn/uuid/status?id=42&status=%d", dlr()),
            "https://courier/c/kn/uuid/status?id=42&status=1");
  EXPECT_EQ(kannel_expand("http://playsms/index.php?app=call&type=%d&slid=7&to=%p&from=%P", dlr()),
            "http://playsms/index.php?app=call&type=1&slid=7&to=00258841234567&from=SHOP*1");
  EXPECT_EQ(kannel_expand("%q|%Q", dlr()), "%2B258841234567|SHOP*1");
  EXPECT_EQ(kannel_expand("%A", dlr()),
            "id%3A0a1b+sub%3A001+dlvrd%3A001+stat%3ADELIVRD+err%3A000+text%3AHi+there");
  EXPECT_EQ(kannel_expand("%t|%T", dlr()), "2026-11-27+12%3A00%3A00|1795780800");
  EXPECT_EQ(kannel_expand("%i|%I|%F|%B|%n|%o|%D|%R", dlr()),
            "carrier|u-u-i-d|ABC-1|000|alice|acct+1|%3Fsmpp%3Fx%3D1|http%3A%2F%2Fapp%2Fdlr");
  EXPECT_EQ(kannel_expand("%k|%s|%s|%r", dlr()),
            "id%3A0a1b|sub%3A001|dlvrd%3A001|stat%3ADELIVRD+err%3A000+text%3AHi+there");
  // %% is a percent; an escape it does not know is copied; a lone % at the end stays.
  EXPECT_EQ(kannel_expand("100%%|%Z|%c%m|end%", dlr()), "100%|%Z||end%");
}

TEST(CallbackFormat, JasminFieldsAndAcknowledgement) {
  EXPECT_EQ(form_encode(jasmin_level1("0a1b", "ESME_ROK", "carrier")),
            "id=0a1b&message_status=ESME_ROK&level=1&connector=carrier");
  auto r = receipt_facts(receipt("id:0a1b sub:001 dlvrd:001 submit date:190710204927 done "
                                 "date:190710205012 stat:DELIVRD err:000 text:Hello"));
  ASSERT_TRUE(r);
  EXPECT_EQ(form_encode(jasmin_level2("0a1b", "ABC", *r, "carrier")),
            "id=0a1b&id_smsc=ABC&message_status=DELIVRD&level=2&connector=carrier&subdate="
            "190710204927&donedate=190710205012&sub=001&dlvrd=001&err=000&text=Hello");
  EXPECT_TRUE(jasmin_acknowledged(200, "ACK/Jasmin"));
  EXPECT_TRUE(jasmin_acknowledged(202, "  ACK/Jasmin\r\n"));
  EXPECT_FALSE(jasmin_acknowledged(200, "OK"));
  EXPECT_FALSE(jasmin_acknowledged(500, "ACK/Jasmin"));
  EXPECT_FALSE(jasmin_acknowledged(0, ""));
}

TEST(CallbackFormat, RandomUuidsAreVersion4AndDiffer) {
  const std::string a = random_uuid();
  const std::string b = random_uuid();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
}

TEST(CallbackFormat, QueriesAreAddedToUrls) {
  EXPECT_EQ(with_query("http://a/b", "x=1"), "http://a/b?x=1");
  EXPECT_EQ(with_query("http://a/b?k=v", "x=1"), "http://a/b?k=v&x=1");
  EXPECT_EQ(with_query("http://a/b?", "x=1"), "http://a/b?x=1");
  EXPECT_EQ(with_query("http://a/b#frag", "x=1"), "http://a/b?x=1");
}

TEST(CallbackSpec, EncodesAndDecodesEveryField) {
  gateway::CallbackSpec s;
  s.style = gateway::CallbackSpec::Style::kannel;
  s.mask = 31;
  s.post = false;
  s.url = "http://app/dlr?id=7&t=%d\twith tab%25";
  s.client_ref = "acct\n1";
  s.meta = "?smpp?a=b";
  s.to = "+258841234567";
  s.from = "SHOP";
  auto back = gateway::CallbackSpec::decode(s.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(gateway::CallbackSpec::decode(""));
  EXPECT_FALSE(gateway::CallbackSpec::decode("2\t0\t0\t1\turl\t\t\t\t"));  // a later version
  EXPECT_FALSE(gateway::CallbackSpec::decode("1\t9\t0\t1\turl\t\t\t\t"));  // no such style
}

TEST(CallbackSpec, WhatEachStyleAsksFor) {
  gateway::CallbackSpec k;
  k.style = gateway::CallbackSpec::Style::kannel;
  k.mask = 1 | 8;
  EXPECT_TRUE(k.wants_receipt(true, true));
  EXPECT_FALSE(k.wants_receipt(true, false));
  EXPECT_FALSE(k.wants_receipt(false, false));
  EXPECT_TRUE(k.wants_submit_outcome(true));
  EXPECT_FALSE(k.wants_submit_outcome(false));
  gateway::CallbackSpec j;
  j.style = gateway::CallbackSpec::Style::jasmin;
  j.mask = 2;
  EXPECT_TRUE(j.wants_receipt(true, false));
  EXPECT_FALSE(j.wants_submit_outcome(true));
  EXPECT_TRUE(j.wants_submit_outcome(false));  // a refusal is told: no receipt will come
  gateway::CallbackSpec json;
  EXPECT_TRUE(json.wants_receipt(false, false));
  EXPECT_FALSE(json.wants_submit_outcome(false));
}

}  // namespace
}  // namespace smppd::callbacks
