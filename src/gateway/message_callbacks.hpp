// What a message asked to be told by HTTP (a face's callback_url, Kannel's dlr-url, Jasmin's
// dlr-url), kept by message id until its last callback is made, and the attempts made for it.
//
// The gateway registers a message's CallbackSpec when it takes the message (before it goes to
// an upstream, so that no receipt can overtake it); the HTTP callbacks (api/callbacks) find it
// when the message's receipt (or the SMSC's answer) comes back. With storage the spec is also
// written with the message and read back at start, so a restart loses none.
//
// Bounded: at most `max_messages` specs (the oldest dropped beyond, counted) and attempts for
// the last `max_messages` messages. Thread safe: sharded by id, a mutex per shard.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smppd::gateway {

struct CallbackSpec {
  enum class Style : uint8_t {
    json = 0,    // smppd's own: a JSON POST per receipt, signed with the client's secret
    kannel = 1,  // Kannel's dlr-url: a GET of the URL with its % escapes filled in
    jasmin = 2,  // Jasmin's dlr-url: a form GET or POST, acknowledged by "ACK/Jasmin"
  };
  Style style = Style::json;
  // kannel: dlr-mask (1 delivered, 2 failed, 4 buffered, 8 SMSC accepted, 16 SMSC refused);
  // jasmin: dlr-level (1 SMSC, 2 terminal, 3 both); json: unused (every receipt).
  uint8_t mask = 0;
  bool post = true;  // jasmin: dlr-method
  std::string url;
  std::string client_ref;  // json: the client's reference; kannel: account (%o)
  std::string meta;        // kannel: meta-data (%D); the sender's name for %n
  // The destination and sender as the client wrote them (Kannel's %p and %P).
  std::string to;
  std::string from;

  // What the SMSC's answer to the submit means to this spec: whether it is told of it.
  bool wants_submit_outcome(bool accepted) const;
  // Whether a receipt of that final-or-not state is wanted.
  bool wants_receipt(bool final, bool delivered) const;

  // One line of text for the store, read back by decode (a later version reads older lines).
  std::string encode() const;
  static std::optional<CallbackSpec> decode(std::string_view text);
  friend bool operator==(const CallbackSpec&, const CallbackSpec&) = default;
};

// One try of a callback, as the status endpoint shows it.
struct CallbackAttempt {
  int64_t at_ms = 0;
  std::string kind;    // "receipt", "submit", "mo"
  unsigned status = 0;  // the HTTP status, 0 when none came
  std::string error;   // why it failed (empty: delivered)
  bool final = false;  // no further try: delivered or given up
};

// The SMSC's answer to a message that has a spec (Kannel's dlr-mask 8 and 16, Jasmin's level
// 1), told by the gateway as it comes (any thread, not to block).
struct SubmitOutcome {
  uint64_t id = 0;
  std::string_view client;
  uint8_t client_version = 0x34;
  uint32_t status = 0;
  std::string_view smsc_id;
  std::string_view upstream;
  std::shared_ptr<const CallbackSpec> spec;
};
class CallbackEvents {
 public:
  virtual ~CallbackEvents() = default;
  virtual void submit_outcome(const SubmitOutcome& outcome) = 0;
};

class MessageCallbacks {
 public:
  explicit MessageCallbacks(std::size_t max_messages = 1'000'000);

  void put(uint64_t id, std::shared_ptr<const CallbackSpec> spec);
  std::shared_ptr<const CallbackSpec> find(uint64_t id) const;
  void erase(uint64_t id);
  // No spec registered at all (one relaxed load: what the message path asks first).
  bool empty() const { return count_.load(std::memory_order_relaxed) == 0; }
  std::size_t size() const { return count_.load(std::memory_order_relaxed); }
  // Specs dropped for room before their last callback.
  uint64_t evicted() const { return evicted_.load(std::memory_order_relaxed); }

  void record_attempt(uint64_t id, CallbackAttempt attempt);
  std::vector<CallbackAttempt> attempts(uint64_t id) const;

 private:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kAttemptsPerMessage = 16;
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<uint64_t, std::shared_ptr<const CallbackSpec>> specs;
    std::deque<uint64_t> order;  // ids in the order they were put (some erased since)
    std::unordered_map<uint64_t, std::vector<CallbackAttempt>> attempts;
    std::deque<uint64_t> attempt_order;
  };
  Shard& shard(uint64_t id) const { return shards_[id % kShards]; }
  std::size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> count_{0};
  std::atomic<uint64_t> evicted_{0};
};

}  // namespace smppd::gateway
