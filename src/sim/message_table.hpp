// The messages the simulator accepted: pending until their receipt time, then final, and kept
// for a while after so that query_sm can still report them. Pure bookkeeping, no I/O.
//
// Every message waits the same receipt_delay, so the pending ones are due in the order they
// were submitted: one FIFO holds them and one timer (the simulator's) watches its front. Settled
// messages move to a second FIFO, bounded: the oldest final states are forgotten first.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "smpp/pdu.hpp"
#include "smpp/receipt.hpp"

namespace smppd::sim {

using Clock = std::chrono::steady_clock;

// An address with its ton and npi.
struct Party {
  uint8_t ton = 0;
  uint8_t npi = 0;
  smpp::Address address;
};

inline constexpr std::size_t kExcerptLength = 20;

struct Message {
  uint32_t id = 0;
  std::string owner;  // the system_id that submitted it: query/cancel/replace and receipts are its
  Party source;
  Party destination;
  std::vector<Party> more_destinations;  // submit_multi: the destinations after the first
  uint8_t registered_delivery = 0;
  uint8_t data_coding = 0;  // replace_sm's new text is read with the original data_coding
  smpp::CStr<kExcerptLength + 1> excerpt;  // the receipt's "text:" (see text_excerpt)
  int64_t submit_unix = 0;
  Clock::time_point due{};
  // enroute while pending; then the final state of the first destination, or deleted when
  // cancelled.
  smpp::MessageState state = smpp::MessageState::enroute;
  int64_t done_unix = 0;
  uint8_t error_code = 0;

  bool pending() const { return state == smpp::MessageState::enroute; }
};

// The first 20 characters of a message's text (after any UDH when `udhi`), decoded by its
// data_coding, for the receipt's "text:" field. Characters outside the printable ASCII that GSM
// 03.38 shares with ASCII (letters, digits, space and most punctuation) become '?', so the
// receipt text reads the same whether the ESME decodes data_coding 0 as GSM or as ASCII. Binary
// data gives an empty excerpt.
std::string text_excerpt(std::span<const uint8_t> bytes, uint8_t data_coding, bool udhi);

class MessageTable {
 public:
  MessageTable(std::size_t max_pending, std::size_t max_finished)
      : max_pending_(max_pending), max_finished_(max_finished) {}

  // No more pending messages are taken (the simulator answers ESME_RMSGQFUL).
  bool full() const { return due_order_.size() >= max_pending_; }
  bool contains(uint32_t id) const { return messages_.count(id) != 0; }

  // Adds a pending message. False when its id is still in use (after the 32-bit ids wrapped).
  // A due time earlier than the previous message's is taken as that one (the FIFO stays sorted).
  bool add(Message message);

  // The message with this id if `owner` submitted it, else nullptr.
  Message* find(uint32_t id, std::string_view owner);

  // Cancels a pending message of `owner`: its state becomes deleted and it gets no receipt.
  // False when it is unknown, someone else's, or already final.
  bool cancel(uint32_t id, std::string_view owner, int64_t now_unix);

  // When the oldest pending message is due; empty when none is pending.
  std::optional<Clock::time_point> next_due() const;

  // Settles up to `limit` messages due at `now`, oldest first: `settle(Message&)` is called for
  // each one still enroute and must give it its final state; cancelled ones are only moved. Each
  // becomes finished. Returns how many left the pending FIFO.
  template <class F>
  std::size_t settle_due(Clock::time_point now, F&& settle,
                         std::size_t limit = std::numeric_limits<std::size_t>::max());

  std::size_t pending() const { return due_order_.size(); }
  std::size_t finished() const { return finished_order_.size(); }

 private:
  void keep_finished(uint32_t id);

  std::size_t max_pending_;
  std::size_t max_finished_;
  std::unordered_map<uint32_t, Message> messages_;
  std::deque<uint32_t> due_order_;
  std::deque<uint32_t> finished_order_;
  Clock::time_point last_due_{};
};

template <class F>
std::size_t MessageTable::settle_due(Clock::time_point now, F&& settle, std::size_t limit) {
  std::size_t n = 0;
  while (n < limit && !due_order_.empty()) {
    const uint32_t id = due_order_.front();
    auto it = messages_.find(id);
    if (it != messages_.end() && it->second.due > now) break;
    due_order_.pop_front();
    ++n;
    if (it == messages_.end()) continue;
    if (it->second.pending()) settle(it->second);
    keep_finished(id);
  }
  return n;
}

}  // namespace smppd::sim
