// Throughput of the PDU codec on the two PDUs a gateway handles most: a submit_sm and the
// delivery receipt that answers it. Buffers and the decoded Pdu are reused across iterations,
// as a session does, so the figures show the codec's own cost and no allocation.
// Figures and the command that produced them: bench/README.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "smpp/codec.hpp"
#include "smpp/receipt.hpp"

namespace {

using namespace smpp;

// A typical submit_sm: 11-digit international numbers, 160 GSM-7 characters (one per octet,
// data_coding 0), a receipt requested, no TLVs.
Pdu typical_submit_sm() {
  SubmitSm m;
  m.source_addr_ton = 1;
  m.source_addr_npi = 1;
  m.source_addr = "44770090012";
  m.dest_addr_ton = 1;
  m.dest_addr_npi = 1;
  m.destination_addr = "44770090034";
  m.registered_delivery = 1;
  std::string text;
  while (text.size() < 160) text += "The quick brown fox jumps over the lazy dog. ";
  text.resize(160);
  m.short_message = std::string_view(text);
  return make_pdu(0x1234, m);
}

// A typical delivery receipt: the Appendix B text plus receipted_message_id and message_state.
Pdu typical_receipt() {
  DeliverSm d;
  d.source_addr_ton = 1;
  d.source_addr_npi = 1;
  d.source_addr = "44770090034";
  d.dest_addr_ton = 1;
  d.dest_addr_npi = 1;
  d.destination_addr = "44770090012";
  d.esm_class = esm_class::kDeliveryReceipt;
  d.short_message =
      "id:0a1b2c3d4e5f6071 sub:001 dlvrd:001 submit date:2611271200 done date:2611271201 "
      "stat:DELIVRD err:000 text:The quick brown fox";
  d.tlvs.set(tlv::receipted_message_id, "0a1b2c3d4e5f6071");
  d.tlvs.set(tlv::message_state, uint8_t{2});
  return make_pdu(0x5678, d);
}

Pdu sample(int which) {
  return which == 0 ? typical_submit_sm() : typical_receipt();
}
const char* sample_name(int which) {
  return which == 0 ? "submit_sm" : "deliver_sm receipt";
}

// decode + encode, the work a proxy does per PDU.
void BM_RoundTrip(benchmark::State& state) {
  const std::vector<uint8_t> wire = encode(sample(static_cast<int>(state.range(0))));
  std::array<uint8_t, 1024> out{};
  Pdu pdu;
  DecodeError error;
  for (auto _ : state) {
    const bool ok = decode(wire, pdu, error);
    const std::size_t n = encode(pdu, std::span<uint8_t>(out));
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  if (!decode(wire, pdu, error) ||
      !std::equal(wire.begin(), wire.end(), out.begin(), out.begin() + wire.size())) {
    state.SkipWithError("the round trip does not give the same bytes");
  }
  state.SetLabel(sample_name(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wire.size()));
}

void BM_Decode(benchmark::State& state) {
  const std::vector<uint8_t> wire = encode(sample(static_cast<int>(state.range(0))));
  Pdu pdu;
  DecodeError error;
  for (auto _ : state) {
    const bool ok = decode(wire, pdu, error);
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
  if (!decode(wire, pdu, error)) state.SkipWithError("the sample does not decode");
  state.SetLabel(sample_name(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wire.size()));
}

void BM_Encode(benchmark::State& state) {
  const Pdu pdu = sample(static_cast<int>(state.range(0)));
  std::array<uint8_t, 1024> out{};
  std::size_t n = 0;
  for (auto _ : state) {
    n = encode(pdu, std::span<uint8_t>(out));
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  if (n == 0) state.SkipWithError("the sample does not fit the buffer");
  state.SetLabel(sample_name(static_cast<int>(state.range(0))));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n));
}

// What smppd does with the text of each receipt from an SMSC: read its id and state
// (receipt_key), then put smppd's id in place of the SMSC's (rewrite_receipt_id). Arg 0: the
// typical receipt, with receipted_message_id and message_state TLVs; arg 1: the same without
// TLVs (everything from the text, as from a 3.3 SMSC).
void BM_ReceiptCorrelation(benchmark::State& state) {
  Pdu pdu = typical_receipt();
  auto& receipt = *pdu.as<DeliverSm>();
  if (state.range(0) == 1) receipt.tlvs = TlvList{};
  const std::array<std::string_view, 2> ids = {"0123456789ab", "ba9876543210"};
  std::size_t turn = 0;
  for (auto _ : state) {
    const std::optional<ReceiptKey> key = receipt_key(receipt);
    const bool rewritten = rewrite_receipt_id(receipt, ids[turn ^= 1]);
    benchmark::DoNotOptimize(key);
    benchmark::DoNotOptimize(rewritten);
    benchmark::ClobberMemory();
  }
  const std::optional<ReceiptKey> key = receipt_key(receipt);
  if (!key || key->id != ids[turn] || key->state != MessageState::delivered) {
    state.SkipWithError("the receipt was not read back with the new id");
  }
  state.SetLabel(state.range(0) == 0 ? "receipt with TLVs" : "receipt, text only");
  state.SetItemsProcessed(state.iterations());
}

// Arg 0: submit_sm, arg 1: deliver_sm receipt.
BENCHMARK(BM_RoundTrip)->ArgName("receipt")->Arg(0)->Arg(1);
BENCHMARK(BM_Decode)->ArgName("receipt")->Arg(0)->Arg(1);
BENCHMARK(BM_Encode)->ArgName("receipt")->Arg(0)->Arg(1);
BENCHMARK(BM_ReceiptCorrelation)->ArgName("text_only")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
