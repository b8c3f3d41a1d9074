// Byte vectors are laid out like the spec's field tables, one field per call; keep them so.
// clang-format off
#include "smpp/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace smpp;

namespace {

using Bytes = std::vector<uint8_t>;

// Builds byte vectors the way the spec tables read: header words, then fields.
struct B {
  Bytes b;
  B& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  B& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  B& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  B& cstr(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return u8(0);
  }
  B& raw(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  // Prepends the header with the right command_length.
  Bytes pdu(uint32_t id, uint32_t st, uint32_t seq) const {
    B h;
    h.u32(static_cast<uint32_t>(16 + b.size())).u32(id).u32(st).u32(seq);
    h.b.insert(h.b.end(), b.begin(), b.end());
    return h.b;
  }
};

Pdu decode_ok(const Bytes& bytes) {
  Pdu p;
  DecodeError e;
  EXPECT_TRUE(decode(bytes, p, e)) << "status " << status_name(e.status) << ": " << e.reason;
  return p;
}

DecodeError decode_err(const Bytes& bytes) {
  Pdu p;
  DecodeError e;
  EXPECT_FALSE(decode(bytes, p, e));
  return e;
}

// decode(bytes) succeeds, encode(decoded) == bytes, and decode(encode(p)) == p.
Pdu round_trip(const Bytes& bytes) {
  Pdu p = decode_ok(bytes);
  EXPECT_EQ(encode(p), bytes);
  EXPECT_EQ(encoded_size(p), bytes.size());
  EXPECT_EQ(decode_ok(encode(p)), p);
  return p;
}

B submit_body() {
  B b;
  b.cstr("")           // service_type
      .u8(1).u8(1).cstr("27831234567")    // source ton npi addr
      .u8(1).u8(1).cstr("258841234567")   // dest ton npi addr
      .u8(0).u8(0).u8(0)                  // esm_class protocol_id priority_flag
      .cstr("").cstr("")                  // schedule, validity
      .u8(1).u8(0).u8(0).u8(0)            // registered_delivery replace data_coding default_msg_id
      .u8(5).raw("Hello");                // sm_length short_message
  return b;
}

}  // namespace

TEST(Codec, SubmitSmFieldsFromSpecLayout) {
  const Bytes bytes = submit_body().pdu(0x00000004, 0, 7);
  Pdu p = round_trip(bytes);
  EXPECT_EQ(p.command_id(), CommandId::submit_sm);
  EXPECT_EQ(p.sequence_number, 7u);
  const auto* s = p.as<SubmitSm>();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->source_addr, "27831234567");
  EXPECT_EQ(s->destination_addr, "258841234567");
  EXPECT_EQ(s->dest_addr_ton, 1);
  EXPECT_EQ(s->registered_delivery, 1);
  EXPECT_EQ(s->short_message.view(), "Hello");
  EXPECT_TRUE(s->tlvs.empty());
}

TEST(Codec, EnquireLinkIsHeaderOnly) {
  const Bytes bytes = {0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1};
  Pdu p = round_trip(bytes);
  EXPECT_EQ(p.command_id(), CommandId::enquire_link);
}

// ---- every PDU, from the spec's field tables ----

TEST(Codec, BindTransmitterAndResp) {
  B b;
  b.cstr("smppclient1").cstr("password").cstr("OTP").u8(0x34).u8(1).u8(1).cstr("");
  Pdu p = round_trip(b.pdu(0x00000002, 0, 1));
  const auto* bt = p.as<BindTransmitter>();
  ASSERT_NE(bt, nullptr);
  EXPECT_EQ(bt->system_id, "smppclient1");
  EXPECT_EQ(bt->password, "password");
  EXPECT_EQ(bt->system_type, "OTP");
  EXPECT_EQ(bt->interface_version, 0x34);

  B r;
  r.cstr("SMSC").u16(0x0210).u16(1).u8(0x34);
  Pdu resp = round_trip(r.pdu(0x80000002, 0, 1));
  const auto* br = resp.as<BindTransmitterResp>();
  ASSERT_NE(br, nullptr);
  EXPECT_EQ(br->system_id, "SMSC");
  EXPECT_EQ(br->tlvs.get(tlv::sc_interface_version), 0x34);
}

TEST(Codec, BindReceiverAndTransceiverUseTheirOwnIds) {
  B b;
  b.cstr("id").cstr("pw").cstr("").u8(0x50).u8(0).u8(0).cstr("^123");
  EXPECT_EQ(round_trip(b.pdu(0x00000001, 0, 2)).command_id(), CommandId::bind_receiver);
  EXPECT_EQ(round_trip(b.pdu(0x00000009, 0, 3)).command_id(), CommandId::bind_transceiver);
  B r;
  r.cstr("SMSC");
  EXPECT_EQ(round_trip(r.pdu(0x80000001, 0, 2)).command_id(), CommandId::bind_receiver_resp);
  EXPECT_EQ(round_trip(r.pdu(0x80000009, 0, 3)).command_id(), CommandId::bind_transceiver_resp);
}

TEST(Codec, OutbindUnbindEnquireGenericNack) {
  B o;
  o.cstr("SMSC").cstr("secret");
  const Pdu ob = round_trip(o.pdu(0x0000000B, 0, 1));
  EXPECT_EQ(ob.as<Outbind>()->password, "secret");
  EXPECT_EQ(round_trip(B{}.pdu(0x00000006, 0, 9)).command_id(), CommandId::unbind);
  EXPECT_EQ(round_trip(B{}.pdu(0x80000006, 0, 9)).command_id(), CommandId::unbind_resp);
  EXPECT_EQ(round_trip(B{}.pdu(0x80000015, 0, 9)).command_id(), CommandId::enquire_link_resp);
  const Pdu nack = round_trip(B{}.pdu(0x80000000, 3, 9));
  EXPECT_EQ(nack.command_id(), CommandId::generic_nack);
  EXPECT_EQ(nack.command_status, status::ESME_RINVCMDID);
}

TEST(Codec, SubmitSmRespAndDeliverSmResp) {
  B r;
  r.cstr("0A1B2C3D");
  EXPECT_EQ(round_trip(r.pdu(0x80000004, 0, 5)).as<SubmitSmResp>()->message_id, "0A1B2C3D");
  B d;
  d.cstr("");
  EXPECT_EQ(round_trip(d.pdu(0x80000005, 0, 5)).command_id(), CommandId::deliver_sm_resp);
}

TEST(Codec, DeliverSmReceiptWithTlvs) {
  B b;
  b.cstr("").u8(1).u8(1).cstr("258841234567").u8(0).u8(0).cstr("MYAPP")
      .u8(0x04).u8(0).u8(0).cstr("").cstr("").u8(0).u8(0).u8(0).u8(0)
      .u8(10).raw("id:1 stat:")
      .u16(0x001E).u16(9).cstr("0A1B2C3D")
      .u16(0x0427).u16(1).u8(2);
  Pdu p = round_trip(b.pdu(0x00000005, 0, 77));
  const auto* d = p.as<DeliverSm>();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->esm_class, esm_class::kDeliveryReceipt);
  EXPECT_EQ(d->tlvs.get(tlv::receipted_message_id), "0A1B2C3D");
  EXPECT_EQ(d->tlvs.get(tlv::message_state), 2);
  EXPECT_EQ(d->tlvs.count(), 2u);
}

TEST(Codec, DataSmWithLongAddressesAndPayload) {
  const std::string addr65(64, '7');
  B b;
  b.cstr("WAP").u8(1).u8(1).cstr(addr65).u8(1).u8(1).cstr("2588412").u8(0).u8(1).u8(8)
      .u16(0x0424).u16(4).u8(0).u8(0x48).u8(0).u8(0x69);
  Pdu p = round_trip(b.pdu(0x00000103, 0, 4));
  const auto* d = p.as<DataSm>();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->source_addr.view(), addr65);
  EXPECT_EQ(d->data_coding, 8);
  auto payload = d->tlvs.get(tlv::message_payload);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(payload->size(), 4u);

  B r;
  r.cstr("abc").u16(0x0425).u16(1).u8(1);
  EXPECT_EQ(round_trip(r.pdu(0x80000103, 0, 4)).as<DataSmResp>()->tlvs.get(
                tlv::delivery_failure_reason),
            1);
}

TEST(Codec, SubmitMultiWithSmeAndDistributionList) {
  B b;
  b.cstr("").u8(5).u8(0).cstr("MYAPP").u8(3)
      .u8(1).u8(1).u8(1).cstr("258841111111")
      .u8(2).cstr("friends")
      .u8(1).u8(1).u8(1).cstr("27821111111")
      .u8(0).u8(0).u8(1).cstr("").cstr("000007000000000R").u8(1).u8(0).u8(0).u8(0)
      .u8(2).raw("hi");
  Pdu p = round_trip(b.pdu(0x00000021, 0, 8));
  const auto* m = p.as<SubmitMulti>();
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->destinations.size(), 3u);
  EXPECT_EQ(m->destinations[1].dest_flag, DestAddress::kDistributionList);
  EXPECT_EQ(m->destinations[1].address, "friends");
  EXPECT_EQ(m->destinations[2].address, "27821111111");
  EXPECT_EQ(m->validity_period, "000007000000000R");

  B r;
  r.cstr("M1").u8(2).u8(1).u8(1).cstr("258841111111").u32(0x0B).u8(0).u8(0).cstr("x").u32(0x45);
  Pdu resp = round_trip(r.pdu(0x80000021, 0, 8));
  const auto* mr = resp.as<SubmitMultiResp>();
  ASSERT_NE(mr, nullptr);
  ASSERT_EQ(mr->unsuccess_smes.size(), 2u);
  EXPECT_EQ(mr->unsuccess_smes[0].error_status_code, status::ESME_RINVDSTADR);
  EXPECT_EQ(mr->unsuccess_smes[1].destination_addr, "x");
}

TEST(Codec, QueryCancelReplace) {
  B q;
  q.cstr("12345").u8(1).u8(1).cstr("2588400");
  EXPECT_EQ(round_trip(q.pdu(0x00000003, 0, 1)).as<QuerySm>()->message_id, "12345");
  B qr;
  qr.cstr("12345").cstr("2611271030000+").u8(2).u8(0);
  // final_date is 16 characters in the spec; this one is 14 and still a C-Octet String.
  const Pdu qresp = round_trip(qr.pdu(0x80000003, 0, 1));
  EXPECT_EQ(qresp.as<QuerySmResp>()->message_state, 2);

  B c;
  c.cstr("").cstr("12345").u8(1).u8(1).cstr("2588400").u8(1).u8(1).cstr("27800");
  EXPECT_EQ(round_trip(c.pdu(0x00000008, 0, 2)).as<CancelSm>()->destination_addr, "27800");
  EXPECT_EQ(round_trip(B{}.pdu(0x80000008, 0, 2)).command_id(), CommandId::cancel_sm_resp);

  B r;
  r.cstr("12345").u8(1).u8(1).cstr("2588400").cstr("261231235959000+").cstr("").u8(1).u8(0)
      .u8(3).raw("new");
  const Pdu rep = round_trip(r.pdu(0x00000007, 0, 3));
  EXPECT_EQ(rep.as<ReplaceSm>()->short_message.view(), "new");
  EXPECT_EQ(round_trip(B{}.pdu(0x80000007, 0, 3)).command_id(), CommandId::replace_sm_resp);
}

TEST(Codec, AlertNotification) {
  B a;
  a.u8(1).u8(1).cstr("258841234567").u8(0).u8(0).cstr("esme").u16(0x0422).u16(1).u8(0);
  const Pdu p = round_trip(a.pdu(0x00000102, 0, 11));
  EXPECT_EQ(p.as<AlertNotification>()->tlvs.get(tlv::ms_availability_status), 0);
}

TEST(Codec, BroadcastPdusOf50) {
  B b;
  b.cstr("CBS").u8(0).u8(0).cstr("sender").cstr("").u8(0).cstr("").cstr("").u8(0).u8(0).u8(0)
      .u16(0x0606).u16(3).u8(0).u8(1).u8(2)        // broadcast_area_identifier
      .u16(0x0601).u16(3).u8(0).u8(0).u8(1)        // broadcast_content_type
      .u16(0x0604).u16(2).u16(1)                   // broadcast_rep_num
      .u16(0x0605).u16(3).u8(9).u16(5);            // broadcast_frequency_interval
  const Pdu p = round_trip(b.pdu(0x00000111, 0, 1));
  EXPECT_EQ(p.as<BroadcastSm>()->tlvs.get(tlv::broadcast_rep_num), 1);
  B r;
  r.cstr("B1");
  EXPECT_EQ(round_trip(r.pdu(0x80000111, 0, 1)).as<BroadcastSmResp>()->message_id, "B1");

  B q;
  q.cstr("B1").u8(0).u8(0).cstr("sender").u16(0x0204).u16(2).u16(7);
  EXPECT_EQ(round_trip(q.pdu(0x00000112, 0, 2)).as<QueryBroadcastSm>()->tlvs.get(
                tlv::user_message_reference),
            7);
  B qr;
  qr.cstr("B1").u16(0x0427).u16(1).u8(2).u16(0x0606).u16(1).u8(0).u16(0x0608).u16(1).u8(100);
  EXPECT_EQ(round_trip(qr.pdu(0x80000112, 0, 2)).as<QueryBroadcastSmResp>()->tlvs.count(), 3u);

  B c;
  c.cstr("").cstr("B1").u8(0).u8(0).cstr("sender");
  EXPECT_EQ(round_trip(c.pdu(0x00000113, 0, 3)).as<CancelBroadcastSm>()->message_id, "B1");
  EXPECT_EQ(round_trip(B{}.pdu(0x80000113, 0, 3)).command_id(),
            CommandId::cancel_broadcast_sm_resp);
}

TEST(Codec, BroadcastSmWithoutMandatoryTlvsIsRejected) {
  B b;
  b.cstr("").u8(0).u8(0).cstr("s").cstr("").u8(0).cstr("").cstr("").u8(0).u8(0).u8(0);
  const DecodeError e = decode_err(b.pdu(0x00000111, 0, 1));
  EXPECT_EQ(e.status, status::ESME_RMISSINGTLV);
  EXPECT_EQ(e.action, ErrorAction::respond);
}

TEST(Codec, Smpp33OnlyPdus) {
  B pr;
  pr.cstr("max_sm_length");
  EXPECT_EQ(round_trip(pr.pdu(0x00000022, 0, 1)).as<ParamRetrieve>()->param_name, "max_sm_length");
  B prr;
  prr.cstr("160");
  EXPECT_EQ(round_trip(prr.pdu(0x80000022, 0, 1)).as<ParamRetrieveResp>()->param_value, "160");

  B ql;
  ql.u8(1).u8(1).cstr("2588400").u8(10);
  EXPECT_EQ(round_trip(ql.pdu(0x00000023, 0, 2)).as<QueryLastMsgs>()->num_messages, 10);
  B qlr;
  qlr.u8(2).cstr("1A").cstr("1B");
  const Pdu qlresp = round_trip(qlr.pdu(0x80000023, 0, 2));
  ASSERT_EQ(qlresp.as<QueryLastMsgsResp>()->message_ids.size(), 2u);
  EXPECT_EQ(qlresp.as<QueryLastMsgsResp>()->message_ids[1], "1B");

  B qd;
  qd.cstr("1A").u8(1).u8(1).cstr("2588400").u8(160);
  EXPECT_EQ(round_trip(qd.pdu(0x00000024, 0, 3)).as<QueryMsgDetails>()->sm_length, 160);
  B qdr;
  qdr.cstr("").u8(1).u8(1).cstr("2588400").u8(1).u8(1).u8(1).u8(1).cstr("27800")
      .u8(0).u8(0).cstr("").cstr("").u8(1).u8(0).u8(2).raw("hi")
      .cstr("1A").cstr("261127103000").u8(2).u8(0);
  const Pdu qdresp = round_trip(qdr.pdu(0x80000024, 0, 3));
  EXPECT_EQ(qdresp.as<QueryMsgDetailsResp>()->final_date, "261127103000");
  EXPECT_EQ(qdresp.as<QueryMsgDetailsResp>()->destinations.at(0).address, "27800");
}

// ---- incremental decoding ----

TEST(StreamDecoder, OneByteAtATimeGivesTheSamePdus) {
  Bytes stream;
  std::vector<Pdu> expected;
  for (uint32_t seq = 1; seq <= 3; ++seq) {
    const Bytes one = submit_body().pdu(0x00000004, 0, seq);
    stream.insert(stream.end(), one.begin(), one.end());
    expected.push_back(decode_ok(one));
  }
  const Bytes el = B{}.pdu(0x00000015, 0, 4);
  stream.insert(stream.end(), el.begin(), el.end());
  expected.push_back(decode_ok(el));

  StreamDecoder d;
  std::vector<Pdu> got;
  Pdu p;
  DecodeError e;
  for (uint8_t byte : stream) {
    d.feed(std::span(&byte, 1));
    StreamDecoder::Event ev;
    while ((ev = d.next(p, e)) == StreamDecoder::Event::pdu) got.push_back(p);
    ASSERT_NE(ev, StreamDecoder::Event::error);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(StreamDecoder, SeveralPdusInOneRead) {
  Bytes stream;
  for (uint32_t seq = 1; seq <= 50; ++seq) {
    const Bytes one = B{}.pdu(0x00000015, 0, seq);
    stream.insert(stream.end(), one.begin(), one.end());
  }
  StreamDecoder d;
  d.feed(stream);
  Pdu p;
  DecodeError e;
  uint32_t n = 0;
  while (d.next(p, e) == StreamDecoder::Event::pdu) EXPECT_EQ(p.sequence_number, ++n);
  EXPECT_EQ(n, 50u);
}

TEST(StreamDecoder, UnknownCommandIdIsNackedAndTheStreamGoesOn) {
  Bytes stream = B{}.raw("xyz").pdu(0x00000999, 0, 5);
  const Bytes el = B{}.pdu(0x00000015, 0, 6);
  stream.insert(stream.end(), el.begin(), el.end());
  StreamDecoder d;
  d.feed(stream);
  Pdu p;
  DecodeError e;
  ASSERT_EQ(d.next(p, e), StreamDecoder::Event::error);
  EXPECT_EQ(e.status, status::ESME_RINVCMDID);
  EXPECT_EQ(e.action, ErrorAction::generic_nack);
  EXPECT_EQ(e.sequence_number, 5u);
  const Pdu nack = error_response(e);
  EXPECT_EQ(nack.command_id(), CommandId::generic_nack);
  EXPECT_EQ(nack.command_status, status::ESME_RINVCMDID);
  EXPECT_EQ(nack.sequence_number, 5u);
  ASSERT_EQ(d.next(p, e), StreamDecoder::Event::pdu);
  EXPECT_EQ(p.sequence_number, 6u);
}

TEST(StreamDecoder, OversizedCommandLengthIsFatalBeforeAnyAllocation) {
  StreamDecoder d(DecodeOptions{.max_pdu_size = 4096});
  const Bytes header = {0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9};
  d.feed(header);
  Pdu p;
  DecodeError e;
  ASSERT_EQ(d.next(p, e), StreamDecoder::Event::error);
  EXPECT_EQ(e.status, status::ESME_RINVCMDLEN);
  EXPECT_EQ(e.action, ErrorAction::nack_and_close);
  EXPECT_EQ(e.sequence_number, 9u);
  EXPECT_EQ(d.buffered(), 0u);
  // Dead: more bytes are not decoded.
  d.feed(B{}.pdu(0x00000015, 0, 1));
  EXPECT_EQ(d.next(p, e), StreamDecoder::Event::error);
}

TEST(StreamDecoder, CommandLengthBelowHeaderIsFatal) {
  const Frame f = frame_at(Bytes{0, 0, 0, 8, 0, 0, 0, 0x15});
  EXPECT_EQ(f.state, FrameState::invalid);
  EXPECT_EQ(f.error.status, status::ESME_RINVCMDLEN);
  EXPECT_EQ(f.error.command_id, 0x15u);
}

// ---- malformed fields: each error path ----

TEST(Malformed, FieldTooLongGetsTheFieldsStatus) {
  const std::string long22(22, '1');
  B src;
  src.cstr("").u8(1).u8(1).cstr(long22);
  EXPECT_EQ(decode_err(src.pdu(0x00000004, 0, 1)).status, status::ESME_RINVSRCADR);

  B dst;
  dst.cstr("").u8(1).u8(1).cstr("1").u8(1).u8(1).cstr(long22);
  const DecodeError e = decode_err(dst.pdu(0x00000004, 0, 2));
  EXPECT_EQ(e.status, status::ESME_RINVDSTADR);
  EXPECT_EQ(e.action, ErrorAction::respond);
  const Pdu resp = error_response(e);
  EXPECT_EQ(resp.command_id(), CommandId::submit_sm_resp);
  EXPECT_EQ(resp.sequence_number, 2u);

  B svc;
  svc.cstr("TOOLONG");
  EXPECT_EQ(decode_err(svc.pdu(0x00000004, 0, 3)).status, status::ESME_RINVSERTYP);

  B sys;
  sys.cstr("system_id_too_long");
  EXPECT_EQ(decode_err(sys.pdu(0x00000002, 0, 4)).status, status::ESME_RINVSYSID);
  B pw;
  pw.cstr("id").cstr("password10");
  EXPECT_EQ(decode_err(pw.pdu(0x00000009, 0, 5)).status, status::ESME_RINVPASWD);
  B qid;
  qid.cstr(std::string(65, 'a'));
  EXPECT_EQ(decode_err(qid.pdu(0x00000003, 0, 6)).status, status::ESME_RINVMSGID);
}

B submit_with_times(std::string_view sched, std::string_view validity) {
  B b;
  b.cstr("").u8(1).u8(1).cstr("1").u8(1).u8(1).cstr("2").u8(0).u8(0).u8(0).cstr(sched)
      .cstr(validity).u8(0).u8(0).u8(0).u8(0).u8(0);
  return b;
}

TEST(Malformed, BadTimesGetRinvschedAndRinvexpiry) {
  EXPECT_EQ(decode_err(submit_with_times("261327000000000+", "").pdu(4, 0, 1)).status,
            status::ESME_RINVSCHED);
  EXPECT_EQ(decode_err(submit_with_times("", "2612010000000049+").pdu(4, 0, 1)).status,
            status::ESME_RINVEXPIRY);
  EXPECT_EQ(decode_err(submit_with_times("", "261201000000049+").pdu(4, 0, 1)).status,
            status::ESME_RINVEXPIRY);  // nn > 48
  decode_ok(submit_with_times("261201000000004-", "000007000000000R").pdu(4, 0, 1));
}

TEST(Malformed, ShortMessageLengths) {
  B b255 = submit_with_times("", "");
  b255.b.back() = 255;  // sm_length 255 is not allowed
  b255.raw(std::string(255, 'x'));
  EXPECT_EQ(decode_err(b255.pdu(4, 0, 1)).status, status::ESME_RINVMSGLEN);

  B past = submit_with_times("", "");
  past.b.back() = 10;  // says 10, carries 3
  past.raw("abc");
  EXPECT_EQ(decode_err(past.pdu(4, 0, 1)).status, status::ESME_RINVMSGLEN);

  B both = submit_with_times("", "");
  both.b.back() = 2;
  both.raw("hi").u16(0x0424).u16(2).raw("hi");
  EXPECT_EQ(decode_err(both.pdu(4, 0, 1)).status, status::ESME_RINVMSGLEN);
}

TEST(Malformed, TlvErrors) {
  B trunc = submit_with_times("", "");
  trunc.u16(0x1400).u16(10).raw("abc");
  EXPECT_EQ(decode_err(trunc.pdu(4, 0, 1)).status, status::ESME_RINVTLVSTREAM);

  B half = submit_with_times("", "");
  half.u8(0x14);
  EXPECT_EQ(decode_err(half.pdu(4, 0, 1)).status, status::ESME_RINVTLVSTREAM);

  B badlen = submit_with_times("", "");
  badlen.u16(0x0204).u16(3).raw("abc");  // user_message_reference is 2 octets
  EXPECT_EQ(decode_err(badlen.pdu(4, 0, 1)).status, status::ESME_RINVTLVLEN);

  B nonul = submit_with_times("", "");
  nonul.u16(0x001E).u16(3).raw("abc");  // receipted_message_id without its NUL
  EXPECT_EQ(decode_err(nonul.pdu(4, 0, 1)).status, status::ESME_RINVTLVVAL);
}

TEST(Malformed, UnknownAndVendorTlvsPassThroughByteExact) {
  B b = submit_with_times("", "");
  b.u16(0x1401).u16(3).raw("abc").u16(0x0204).u16(2).u16(9).u16(0x4000).u16(0);
  const Bytes bytes = b.pdu(4, 0, 1);
  const Pdu p = round_trip(bytes);
  const TlvList& t = p.as<SubmitSm>()->tlvs;
  std::vector<uint16_t> tags;
  for (TlvView v : t) tags.push_back(v.tag);
  EXPECT_EQ(tags, (std::vector<uint16_t>{0x1401, 0x0204, 0x4000}));
}

TEST(Malformed, TruncatedRequestBodyIsInvalidLength) {
  B b;
  b.cstr("").u8(1);  // ends after source_addr_ton
  const DecodeError e = decode_err(b.pdu(4, 0, 1));
  EXPECT_EQ(e.status, status::ESME_RINVCMDLEN);
  EXPECT_EQ(e.action, ErrorAction::respond);
  B extra;
  extra.raw("junk");
  EXPECT_EQ(decode_err(extra.pdu(0x00000015, 0, 1)).status, status::ESME_RINVCMDLEN);
}

TEST(Malformed, SubmitMultiDestinationErrors) {
  B zero;
  zero.cstr("").u8(0).u8(0).cstr("s").u8(0).u8(0).u8(0).u8(0).cstr("").cstr("").u8(0).u8(0)
      .u8(0).u8(0).u8(0);
  EXPECT_EQ(decode_err(zero.pdu(0x21, 0, 1)).status, status::ESME_RINVNUMDESTS);
  B flag;
  flag.cstr("").u8(0).u8(0).cstr("s").u8(1).u8(3);
  EXPECT_EQ(decode_err(flag.pdu(0x21, 0, 1)).status, status::ESME_RINVDESTFLAG);
  B dl;
  dl.cstr("").u8(0).u8(0).cstr("s").u8(1).u8(2).cstr(std::string(30, 'd'));
  EXPECT_EQ(decode_err(dl.pdu(0x21, 0, 1)).status, status::ESME_RINVDLNAME);
}

TEST(Lenient, ErrorResponsesWithoutBodyOrNulAreAccepted) {
  // submit_sm_resp with an error status and no body at all.
  const Pdu empty = decode_ok(B{}.pdu(0x80000004, status::ESME_RTHROTTLED, 3));
  EXPECT_EQ(empty.command_status, status::ESME_RTHROTTLED);
  EXPECT_TRUE(empty.as<SubmitSmResp>()->message_id.empty());
  // bind_transceiver_resp without body.
  EXPECT_EQ(decode_ok(B{}.pdu(0x80000009, status::ESME_RINVPASWD, 1)).command_status,
            status::ESME_RINVPASWD);
  // message_id without its NUL at the end of the body.
  const Pdu nonul = decode_ok(B{}.raw("ABC123").pdu(0x80000004, 0, 4));
  EXPECT_EQ(nonul.as<SubmitSmResp>()->message_id, "ABC123");
  // A successful response whose body is broken is reported so the request can be failed.
  const DecodeError e = decode_err(B{}.raw(std::string(70, 'x')).pdu(0x80000004, 0, 5));
  EXPECT_EQ(e.action, ErrorAction::bad_response);
  EXPECT_EQ(e.sequence_number, 5u);
}

TEST(Encode, SpanTooSmallWritesNothing) {
  Pdu p = make_pdu(1, SubmitSm{});
  std::array<uint8_t, 20> small{};
  EXPECT_EQ(encode(p, small), 0u);
  std::array<uint8_t, 200> big{};
  EXPECT_EQ(encode(p, big), encoded_size(p));
}

TEST(Encode, BuiltPduRoundTrips) {
  SubmitSm s;
  s.source_addr = "MYAPP";
  s.source_addr_ton = 5;
  s.destination_addr = "258841234567";
  s.dest_addr_ton = 1;
  s.registered_delivery = 1;
  s.short_message = "Hello World";
  s.tlvs.set(tlv::user_message_reference, uint16_t{42});
  s.tlvs.set(tlv::source_port, uint16_t{1000});
  s.tlvs.set(tlv::user_message_reference, uint16_t{43});  // replaces in place
  const Pdu p = make_pdu(123, s);
  const Bytes bytes = encode(p);
  EXPECT_EQ(decode_ok(bytes), p);
  EXPECT_EQ(p.as<SubmitSm>()->tlvs.get(tlv::user_message_reference), 43);
  EXPECT_EQ(p.as<SubmitSm>()->tlvs.count(), 2u);
}

TEST(Encode, MakeResponseMatchesRequest) {
  EXPECT_EQ(make_response(CommandId::submit_sm, 9, 0).command_id(), CommandId::submit_sm_resp);
  EXPECT_EQ(make_response(CommandId::enquire_link, 9, 0).command_id(),
            CommandId::enquire_link_resp);
  EXPECT_EQ(make_response(CommandId::bind_receiver, 9, status::ESME_RBINDFAIL).command_status,
            status::ESME_RBINDFAIL);
  EXPECT_EQ(make_response(static_cast<CommandId>(0x777), 9, 3).command_id(),
            CommandId::generic_nack);
}
