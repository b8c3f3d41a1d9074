// Reassembly of a client's long message sent as parts (multipart.reassembly), for a message path
// that must see it whole: a transform of its text, a route script. Each part but the last to
// arrive is answered at once (ESME_ROK, an id of its own) and held; the part that completes the
// message becomes the whole message (short_message, or message_payload beyond 254 octets,
// without UDH or SAR TLVs) and goes on as one: the middleware, the routes and the upstream see
// the whole text, and the answer to that part is the whole message's outcome. Its id is the
// message's id, the one its delivery receipt comes back with.
//
// The held parts share the message's fate. When it goes no further — it is refused whole, its
// other parts never come within `timeout`, smppd stops — they are handed back (GivenUp) so that
// the gateway tells the client with a receipt for each part that asked for one: nothing
// answered ESME_ROK is dropped silently.
//
// Parts are joined per client (across all its sessions), source, destination, reference and
// total. Bounded: `max_parts` per message (a message of more parts goes on as parts, as it came)
// and `buffer_size` octets held over all messages (beyond, a part is refused ESME_RMSGQFUL and
// the client sends it again later). Thread-safe (one lock, taken by parts only). Knows no
// sockets and no clock: time is passed in.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "smpp/pdu.hpp"
#include "smpp/reassembly.hpp"
#include "smpp/receipt.hpp"
#include "smpp/segment.hpp"
#include "smpp/version.hpp"

namespace smppd::gateway {

// A part answered ESME_ROK while its message waited for the rest.
struct HeldPart {
  uint64_t id = 0;  // smppd's id in that answer
  uint8_t registered_delivery = 0;
};

// The held parts of a message that went no further, with what their receipts need.
struct GivenUp {
  std::string client;
  smpp::Version version = smpp::Version::v34;  // how the client's ids are written
  uint8_t source_ton = 0;
  uint8_t source_npi = 0;
  std::string source;
  uint8_t destination_ton = 0;
  uint8_t destination_npi = 0;
  std::string destination;
  int64_t first_unix_seconds = 0;  // when its first part came (the receipts' submit date)
  std::vector<HeldPart> parts;
};

// A message joined from its parts, as its client cut it: to send it on that way when nothing
// changed its text.
struct AsSent {
  // The client's method (udh8, udh16, sar), reference and total, and each part's short_message
  // as it came (UDH included).
  smpp::Segmented parts;
  std::vector<uint8_t> payload;  // the parts' texts joined
};

// The receipt (a deliver_sm from the destination to the source) telling the client that `part`
// of `message` ended in `state` with `error` (a 3-digit err: field), done at `now_unix_seconds`.
smpp::Pdu given_up_receipt(const GivenUp& message, const HeldPart& part, smpp::MessageState state,
                           uint32_t error, int64_t now_unix_seconds);

class PartJoiner {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit PartJoiner(const config::MultipartConfig& config);

  enum class Kind : uint8_t {
    pass,       // not joined: it goes on as it came (not a part, more than max_parts, malformed,
                // a UDH with other elements than the concatenation)
    held,       // kept: answer it ESME_ROK with the id given
    duplicate,  // that part is held already: answer it ESME_ROK, keep nothing
    refused,    // buffer_size is reached: answer it ESME_RMSGQFUL (see `reason`)
    whole,      // it completed its message: the request is now the whole message
  };
  struct Result {
    Kind kind = Kind::pass;
    smpp::ReassemblyReason reason = smpp::ReassemblyReason::none;
    // whole: the parts answered before, which share the whole message's fate.
    GivenUp earlier;
    std::shared_ptr<const AsSent> as_sent;  // whole: its parts as they came
  };

  // A client's submit_sm. `id`: the id its answer carries if it is held. `now_unix_seconds`:
  // the wall clock, for the receipts of a message given up. `start_new`: false when the
  // message path no longer needs messages whole (a reload): only the parts of messages already
  // being joined are taken (the others pass).
  Result add(std::string_view client, smpp::Version version, smpp::Pdu& request, uint64_t id,
             TimePoint now, int64_t now_unix_seconds, bool start_new = true);

  // The messages whose first part came at least `timeout` before `now`, removed.
  std::vector<GivenUp> expire(TimePoint now);
  // Every message held, removed (smppd stops); nothing is held after it (parts pass).
  std::vector<GivenUp> drain();

  std::size_t pending_messages() const;
  // Some message is being joined (a lock-free look, for the message path).
  bool busy() const { return busy_.load(std::memory_order_relaxed); }
  std::size_t buffered_bytes() const;
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  std::vector<GivenUp> given_up(std::vector<smpp::IncompleteMessage> messages);

  const std::chrono::milliseconds timeout_;
  mutable std::mutex mutex_;
  bool drained_ = false;
  std::atomic<bool> busy_{false};
  smpp::Reassembler reassembler_;
  struct Held {
    GivenUp answered;                              // its parts answered so far
    std::vector<std::vector<uint8_t>> as_sent;     // by seq - 1: each part's short_message
  };
  // Per message being joined (the reassembler's key).
  std::map<smpp::ReassemblyKey, Held> held_;
};

}  // namespace smppd::gateway
