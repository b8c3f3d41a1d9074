// The store: what smppd has accepted and must not lose — messages and their history, the SMSC
// ids that receipts name, and the deliveries (receipts, MO) waiting for a client. The message
// path writes through a WriteBatch that one thread commits as one durable transaction (see
// group_commit.hpp); reads may come from any thread.
//
// The interface is what the message path needs and nothing of SQLite shows through it, so a
// shared store for a cluster can stand behind it later. Knows no sockets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/message_state.hpp"

namespace smppd::store {

using Millis = int64_t;  // milliseconds since the Unix epoch (UTC)

Millis now_millis();

// A message accepted from a client, as it is first written.
struct NewMessage {
  uint64_t id = 0;  // smppd's id
  std::string_view client;
  uint8_t client_version = 0x34;
  std::string_view client_ref;
  uint32_t command_id = 0;
  Millis accepted_at = 0;
  Millis not_before = 0;  // 0: at once
  Millis expires_at = 0;  // 0: never (the SMSC's default)
  uint8_t registered_delivery = 0;
  std::string_view route;
  std::string_view upstream;
  std::string_view source;
  std::string_view destination;
  uint8_t data_coding = 0;
  uint16_t parts = 1;
  std::span<const uint8_t> pdu;  // the client's request, encoded
  MessageState state = MessageState::queued;
  std::string_view callback;  // its HTTP callback (gateway::CallbackSpec::encode), if any
};

// A stored message (the row), with its history when asked for.
struct Event {
  Millis at = 0;
  MessageState state = MessageState::queued;
  std::string upstream;
  std::string smsc_id;
  uint32_t error = 0;
  std::string detail;
};

struct StoredMessage {
  uint64_t id = 0;
  std::string client;
  uint8_t client_version = 0x34;
  std::string client_ref;
  uint32_t command_id = 0;
  Millis accepted_at = 0;
  Millis not_before = 0;
  Millis expires_at = 0;
  uint8_t registered_delivery = 0;
  std::string route;
  std::string upstream;
  std::string source;
  std::string destination;
  uint8_t data_coding = 0;
  uint16_t parts = 1;
  std::vector<uint8_t> pdu;
  MessageState state = MessageState::queued;
  uint32_t attempts = 0;
  Millis submitted_at = 0;
  std::string smsc_id;
  Millis done_at = 0;
  uint32_t error = 0;
  Millis receipt_at = 0;
  // The whole story, oldest first: accepted, then the events, then the row's own steps
  // (submitted, done, receipt sent) — filled by Store::message(id, true).
  std::vector<Event> history;
};

// A delivery (receipt or MO) kept for a client until it acknowledges it.
struct StoredDelivery {
  uint64_t seq = 0;
  std::string client;
  Millis at = 0;
  uint64_t message_id = 0;  // the message a receipt is for; 0 for MO
  std::vector<uint8_t> pdu;
};

// Writes, recorded by the message path and applied together, in order, in one transaction.
// Strings and bytes are copied into the batch. clear() keeps the memory for the next batch: no
// allocation per message once warm.
class WriteBatch {
 public:
  void add_message(const NewMessage& m);
  // Handed to `upstream` (attempts + 1).
  void dispatched(uint64_t id, std::string_view upstream, Millis at);
  // The SMSC accepted it; its id is recorded for receipts (as is each extra part's, with
  // add_smsc_id). `done`: no receipt was asked for, so this is its outcome (done_at set).
  void submitted(uint64_t id, std::string_view upstream, std::string_view smsc_id, Millis at,
                 bool done);
  void add_smsc_id(uint64_t id, std::string_view upstream, std::string_view smsc_id, Millis at);
  // A new state with its reason, recorded in the history too: a requeue, a refusal, a final
  // outcome (done_at set when `state` is final).
  void set_state(uint64_t id, MessageState state, Millis at, uint32_t error = 0,
                 std::string_view upstream = {}, std::string_view detail = {});
  // Its receipt (from the SMSC or made by smppd) was handed to the client.
  void receipt_sent(uint64_t id, Millis at);
  // Scheduled messages whose time has come become queued.
  void release_scheduled(Millis now);
  // Deliveries for clients.
  void add_delivery(uint64_t seq, std::string_view client, Millis at, uint64_t message_id,
                    std::span<const uint8_t> pdu);
  // The client acknowledged it (the receipt's message, if any, records when).
  void remove_delivery(uint64_t seq, Millis at);
  // Deletes at most `limit` messages accepted before `messages_before` that are not to be sent
  // any more (with their events; SMSC ids recorded before it), and deliveries older than
  // `deliveries_before`. Only ids below `below_id` are looked at (every message accepted
  // before `messages_before` is below it: the scan stops there, however large the table).
  void purge(Millis messages_before, Millis deliveries_before, uint32_t limit, uint64_t below_id);

  // The messages whose outcome becomes final (done) with these writes, in order.
  void done_ids(std::vector<uint64_t>& out) const;

  bool empty() const { return ops_.empty(); }
  std::size_t size() const { return ops_.size(); }
  std::size_t new_messages() const { return new_messages_; }
  void clear();
  // Keeps everything but the new messages (whose clients were refused when a commit failed):
  // the rest is tried again with the next commit.
  void drop_new_messages();
  // Appends `other`'s writes after this batch's.
  void append(const WriteBatch& other);

  enum class Op : uint8_t {
    add_message,
    dispatched,
    submitted,
    add_smsc_id,
    set_state,
    receipt_sent,
    release_scheduled,
    add_delivery,
    remove_delivery,
    purge,
  };
  struct Slice {
    uint32_t offset = 0;
    uint32_t size = 0;
  };
  // One write; its strings are slices of bytes().
  struct Entry {
    Op op{};
    MessageState state = MessageState::queued;
    uint8_t u8a = 0;  // client_version / data_coding / done flag
    uint8_t u8b = 0;  // registered_delivery
    uint32_t u32 = 0;  // command_id / error / parts / limit
    uint64_t id = 0;
    Millis at = 0;
    Millis t1 = 0;  // not_before / second time
    Millis t2 = 0;  // expires_at
    std::array<Slice, 9> s{};  // add_message: s[7] holds numbers, s[8] the callback
  };
  std::span<const Entry> entries() const { return ops_; }
  std::string_view text(Slice s) const { return {bytes_.data() + s.offset, s.size}; }
  std::span<const uint8_t> blob(Slice s) const {
    return {reinterpret_cast<const uint8_t*>(bytes_.data()) + s.offset, s.size};
  }

 private:
  Slice put(std::string_view v);
  Slice put(std::span<const uint8_t> v);
  void copy_entry(const WriteBatch& from, const Entry& e);
  std::vector<Entry> ops_;
  std::string bytes_;
  std::size_t new_messages_ = 0;
};

// Why a commit failed.
struct WriteFailure {
  enum class Kind : uint8_t {
    full,         // no space left (SQLITE_FULL, ENOSPC): retried; new messages refused meanwhile
    io,           // an I/O error or a read-only file: retried likewise
    busy,         // another process holds the database
    corrupt,      // the file is damaged
  };
  Kind kind = Kind::io;
  std::string what;  // names the file and SQLite's reason
};

// What a restart found.
struct Recovery {
  uint64_t queued = 0;      // to send
  uint64_t scheduled = 0;   // to send at their time
  uint64_t in_flight = 0;   // handed to an upstream without an answer: sent again (maybe twice)
  std::vector<uint64_t> in_flight_sample;  // the first ids of those, for the log
  uint64_t deliveries = 0;  // receipts and MO waiting for clients
  std::vector<std::string> delivery_clients;  // the clients they wait for
  std::vector<std::string> upstreams;  // with messages to send
  uint64_t max_id = 0;      // the highest message id stored: new ids go above it
  // The HTTP callbacks of messages that may still be told something (not final, or with a
  // delivery waiting): id and spec line.
  std::vector<std::pair<uint64_t, std::string>> callbacks;
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies the batches, in order, in one durable transaction. One thread at a time (the group
  // commit).
  virtual std::optional<WriteFailure> write(std::span<const WriteBatch* const> batches) = 0;
  std::optional<WriteFailure> write(const WriteBatch& batch) {
    const WriteBatch* one[] = {&batch};
    return write(one);
  }

  // At start, before any write: messages left `dispatched` by a crash become `queued` again
  // (counted: they may reach the SMSC twice); says what is waiting.
  virtual Recovery recover() = 0;

  // Reads, from any thread.
  virtual std::optional<StoredMessage> message(uint64_t id, bool with_history = false) = 0;
  // The message an SMSC id of `upstream` names (exactly as written, then in its hex/decimal
  // forms).
  virtual std::optional<uint64_t> find_by_smsc_id(std::string_view upstream,
                                                  std::string_view smsc_id) = 0;
  // Queued messages routed to `upstream` with an id above `after`, in id order (= the order
  // they were accepted), at most `limit`.
  virtual std::vector<StoredMessage> to_send(std::string_view upstream, uint64_t after,
                                             std::size_t limit) = 0;
  // The earliest not_before of a scheduled message, 0 when none.
  virtual Millis next_scheduled() = 0;
  // Deliveries waiting for `client` with seq above `after`, in order, at most `limit`.
  virtual std::vector<StoredDelivery> deliveries(std::string_view client, uint64_t after,
                                                 std::size_t limit) = 0;
  // The highest delivery seq stored (new ones continue from it).
  virtual uint64_t last_delivery_seq() = 0;

  // For the operator: what the store holds, in rough numbers. `all_messages`: count every
  // message kept (a scan of the whole table: not for every scrape); else `messages` is 0.
  struct Stats {
    uint64_t messages = 0;
    uint64_t to_send = 0;
    uint64_t deliveries = 0;
    uint64_t file_bytes = 0;
  };
  virtual Stats stats(bool all_messages = true) = 0;
};

}  // namespace smppd::store
