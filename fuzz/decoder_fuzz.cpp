// libFuzzer target for the PDU decoder (frame_at, decode, StreamDecoder).
//
// The input is a byte stream as a peer might send it. It is decoded twice: whole, with frame_at
// and decode, and through a StreamDecoder fed in chunks whose sizes come from the input itself.
// Both must give the same PDUs and errors, and every decoded PDU must survive encode -> decode
// unchanged. Any difference aborts, so libFuzzer reports it with the input that caused it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "smpp/codec.hpp"

namespace {

using namespace smpp;

// Small enough that libFuzzer's inputs (-max_len=4096) exercise the length check too.
constexpr uint32_t kMaxPduSize = 2048;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "decoder_fuzz: %s\n", what);
  std::abort();
}

struct Outcome {
  bool ok;
  Pdu pdu;
  DecodeError error;
};

bool same_error(const DecodeError& a, const DecodeError& b) {
  if (a.status != b.status || a.action != b.action) return false;
  // A bad command_length is reported as soon as its 4 octets are in, so the command_id and
  // sequence_number it carries depend on how much of the header had arrived (0 if not yet).
  if (a.action == ErrorAction::nack_and_close) return true;
  return a.command_id == b.command_id && a.sequence_number == b.sequence_number;
}

void check_round_trip(const Pdu& pdu) {
  const std::vector<uint8_t> bytes = encode(pdu);
  if (bytes.size() != encoded_size(pdu)) fail("encode() and encoded_size() disagree");

  // Encoding into a span: exact fit works, one octet less is refused.
  std::vector<uint8_t> exact(bytes.size());
  if (encode(pdu, std::span<uint8_t>(exact)) != bytes.size() || exact != bytes) {
    fail("encode(span) differs from encode()");
  }
  if (encode(pdu, std::span<uint8_t>(exact).first(exact.size() - 1)) != 0) {
    fail("encode(span) wrote into a span that is too small");
  }

  const Frame f = frame_at(bytes, kDefaultMaxPduSize);
  if (f.state != FrameState::complete || f.length != bytes.size()) {
    fail("frame_at() does not frame an encoded PDU");
  }
  Pdu again;
  DecodeError error;
  if (!decode(bytes, again, error)) fail("a PDU we encoded does not decode");
  if (!(again == pdu)) fail("decode(encode(pdu)) != pdu");
}

// Decodes the whole buffer with frame_at() and decode(), as a session reading into its own
// buffer would.
std::vector<Outcome> decode_whole(std::span<const uint8_t> data, const DecodeOptions& options) {
  std::vector<Outcome> out;
  std::size_t pos = 0;
  for (;;) {
    const Frame f = frame_at(data.subspan(pos), options.max_pdu_size);
    if (f.state == FrameState::need_more) break;
    if (f.state == FrameState::invalid) {
      out.push_back({false, {}, f.error});
      break;  // the stream cannot be resynchronised
    }
    Outcome o{};
    o.ok = decode(data.subspan(pos, f.length), o.pdu, o.error, options);
    out.push_back(std::move(o));
    pos += f.length;
  }
  return out;
}

// Feeds the buffer to a StreamDecoder in chunks. The chunk sizes are drawn from a generator
// seeded by the last octet, so the fuzzer controls the split as well as the content.
std::vector<Outcome> decode_chunked(std::span<const uint8_t> data, const DecodeOptions& options) {
  std::vector<Outcome> out;
  StreamDecoder stream(options);
  uint32_t state = data.empty() ? 1 : data.back();
  std::size_t pos = 0;
  for (;;) {
    Outcome o{};
    const StreamDecoder::Event e = stream.next(o.pdu, o.error);
    if (e == StreamDecoder::Event::need_more) {
      if (pos == data.size()) break;
      state = state * 1103515245u + 12345u;
      const std::size_t chunk = std::min<std::size_t>(1 + (state >> 16) % 97, data.size() - pos);
      stream.feed(data.subspan(pos, chunk));
      pos += chunk;
      continue;
    }
    o.ok = e == StreamDecoder::Event::pdu;
    const bool fatal = !o.ok && o.error.action == ErrorAction::nack_and_close;
    out.push_back(std::move(o));
    if (fatal) break;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::span<const uint8_t> input(data, size);
  DecodeOptions options;
  options.max_pdu_size = kMaxPduSize;

  const std::vector<Outcome> whole = decode_whole(input, options);
  const std::vector<Outcome> chunked = decode_chunked(input, options);
  if (whole.size() != chunked.size()) fail("StreamDecoder and frame_at/decode disagree on count");
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (whole[i].ok != chunked[i].ok) fail("StreamDecoder and decode disagree on success");
    if (whole[i].ok) {
      if (!(whole[i].pdu == chunked[i].pdu)) fail("StreamDecoder and decode give other PDUs");
      check_round_trip(whole[i].pdu);
    } else if (!same_error(whole[i].error, chunked[i].error)) {
      fail("StreamDecoder and decode give other errors");
    }
  }

  // Without validation, the layout alone must still round-trip.
  if (frame_at(input, kMaxPduSize).state == FrameState::complete) {
    DecodeOptions lax = options;
    lax.validate = false;
    Pdu pdu;
    DecodeError error;
    const uint32_t length = frame_at(input, kMaxPduSize).length;
    if (decode(input.first(length), pdu, error, lax)) {
      const std::vector<uint8_t> bytes = encode(pdu);
      Pdu again;
      if (!decode(bytes, again, error, lax) || !(again == pdu)) {
        fail("decode(encode(pdu)) != pdu without validation");
      }
    }
  }
  return 0;
}
