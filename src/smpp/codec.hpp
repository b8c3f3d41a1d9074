// Decoding and encoding of PDUs. Decoding is two steps, so a session can read straight into its
// own buffer: frame_at() looks at the 16-octet header and says how long the PDU is (bounding it
// before anything is allocated); decode() turns one whole PDU into a typed Pdu. StreamDecoder
// puts both together for bytes that arrive in pieces.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "smpp/pdu.hpp"

namespace smpp {

inline constexpr uint32_t kHeaderSize = 16;
// SMPP sets no maximum; a submit_sm with a 64 KB message_payload is about 64 KB + 300 octets.
inline constexpr uint32_t kDefaultMaxPduSize = 65536 + 1024;

struct DecodeOptions {
  uint32_t max_pdu_size = kDefaultMaxPduSize;
  // Check what the spec constrains beyond the layout: time formats, TLV lengths, short_message
  // and message_payload not both, mandatory TLVs, destination counts.
  bool validate = true;
};

// What the receiver of an undecodable PDU should do (3.4 §2.9 and 5.0 §2.8).
enum class ErrorAction : uint8_t {
  respond,         // a known request with a bad field: send its own response with `status`
  generic_nack,    // unknown command_id: send generic_nack with `status`, keep going
  nack_and_close,  // command_length invalid: send generic_nack, then close (no resynchronising)
  bad_response,    // a response (or a PDU without response) that cannot be decoded: the caller
                   // fails the request it answers, if any; nothing is sent
};

struct DecodeError {
  uint32_t status = status::ESME_ROK;  // command_status for the answer
  uint32_t command_id = 0;
  uint32_t sequence_number = 0;  // 0 when it could not be read
  ErrorAction action = ErrorAction::respond;
  std::string_view reason;  // static text for logs
};

// The PDU that answers a decode error (its own response or generic_nack); only meaningful when
// action is respond, generic_nack or nack_and_close.
Pdu error_response(const DecodeError& e);

enum class FrameState : uint8_t { need_more, complete, invalid };
struct Frame {
  FrameState state;
  uint32_t length;    // command_length when known (>= 4 octets buffered)
  DecodeError error;  // when invalid
};

// Looks at the start of `buffer`. need_more until a whole PDU is there; invalid when
// command_length is below 16 or above max_pdu_size.
Frame frame_at(std::span<const uint8_t> buffer, uint32_t max_pdu_size = kDefaultMaxPduSize);

// Decodes exactly one PDU (`bytes` is its whole command_length). On failure, `error` says what
// to answer. The Pdu overload reuses `out`'s storage.
bool decode(std::span<const uint8_t> bytes, Pdu& out, DecodeError& error,
            const DecodeOptions& options = {});

// Octets the PDU takes on the wire.
std::size_t encoded_size(const Pdu& pdu);
// Writes the PDU at out[0..]; returns its size, or 0 if `out` is too small.
std::size_t encode(const Pdu& pdu, std::span<uint8_t> out);
// Appends the PDU to `out`; returns its size.
std::size_t encode(const Pdu& pdu, std::vector<uint8_t>& out);
std::vector<uint8_t> encode(const Pdu& pdu);

// Incremental decoding of a byte stream: any split of the bytes gives the same PDUs. (An invalid
// command_length is reported as soon as its four octets are in, so the command_id and
// sequence_number of that error are 0 when the rest of the header had not arrived yet.)
class StreamDecoder {
 public:
  enum class Event : uint8_t { need_more, pdu, error };

  explicit StreamDecoder(DecodeOptions options = {}) : options_(options) {}

  // Appends received bytes.
  void feed(std::span<const uint8_t> bytes);
  // The next PDU or error, or need_more. After an error with action nack_and_close the stream
  // is dead: every later call returns that error again.
  Event next(Pdu& out, DecodeError& error);
  // Bytes buffered and not yet decoded.
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  DecodeOptions options_;
  std::vector<uint8_t> buf_;
  std::size_t pos_ = 0;
  bool dead_ = false;
  DecodeError fatal_;
};

}  // namespace smpp
