// Stops password guessing. Failed binds are counted per peer and per system_id; past a limit,
// further binds are refused before their password is checked, for a lock that doubles each time
// it is imposed again. The reply to a failed bind is also held, longer after each failure. Time
// is passed in, so tests are deterministic.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/string_map.hpp"
#include "limits/peer_key.hpp"

namespace smppd::auth {

// Thread safe (one mutex, taken on binds only).
//
// A peer is an IPv4 address, or the /64 block of an IPv6 address (limits::PeerKey::block_of):
// one subscriber usually holds a whole /64, and a limit per address would be evaded by changing
// address within it.
//
// Two counts, each with its lock:
//  - a peer's failed binds, whatever the system_id. Every failure counts (wrong password,
//    unknown system_id, a peer outside the client's allowed_ips, an attempt on a locked
//    system_id). While the peer is locked every bind from it is refused, even with a right
//    password: the guesser learns nothing. A success as system_id A gives back only A's own
//    failures from that peer, never those for other system_ids.
//  - a system_id's wrong passwords from peers it does not trust: guessing one account from many
//    addresses. A peer is trusted for a system_id once it has bound as it (for `trust_for` after
//    its last successful bind), or when the caller says so (the client's own allowed_ips hold
//    it). The lock of a system_id refuses only untrusted peers, so that a guesser cannot lock a
//    customer out of the addresses it binds from; the price is that while an account is locked
//    it cannot bind from a new address either. Trust is in memory: after a restart only
//    allowed_ips count, until clients bind again.
// Attempts, not only replies, are limited: begin_attempt counts an attempt as a failure before
// its password is checked, and record_success gives it back; so concurrent binds cannot get more
// guesses past a limit than the limit.
//
// Every table is bounded: when one is full the entry touched longest ago is forgotten, so a flood
// of addresses costs a fixed amount of memory.
class AuthFailureThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  using Ms = std::chrono::milliseconds;

  struct Settings {
    Ms first_delay{250};         // reply delay after one recent failure from the peer
    Ms max_delay{5000};          // each further failure doubles it up to this
    uint32_t peer_limit = 10;    // failures from one peer before it is locked
    uint32_t client_limit = 20;  // wrong passwords for one system_id from untrusted peers
    Ms first_lock{std::chrono::minutes(1)};     // after a lock, the next single failure locks again
    Ms max_lock{std::chrono::hours(1)};         // for twice as long, up to this
    Ms forget_after{std::chrono::minutes(15)};  // failures, after this without one or a lock
    Ms forget_locks_after{std::chrono::hours(24)};  // past locks, after this without one
    Ms trust_for{std::chrono::hours(24 * 7)};
    size_t max_peers = 10000;
    size_t max_clients = 10000;
    size_t max_trusted = 10000;
    size_t max_ids_per_peer = 8;  // system_ids a peer's failures are told apart for
  };

  enum class Verdict {
    proceed,        // check the credentials, then call record_success or record_failure
    peer_locked,    // refuse at once; nothing is counted
    client_locked,  // refuse after reply_delay; counted as a failure of the peer already
  };

  struct Attempt {
    Verdict verdict = Verdict::proceed;
    Ms reply_delay{0};  // how long to hold the reply to a failure (client_locked: the refusal)
    bool counted_for_client = false;  // bookkeeping for record_success / record_failure
    bool known_client = false;
    bool proceed() const { return verdict == Verdict::proceed; }
  };

  AuthFailureThrottle() : AuthFailureThrottle(Settings{}) {}
  explicit AuthFailureThrottle(Settings settings);
  AuthFailureThrottle(const AuthFailureThrottle&) = delete;
  AuthFailureThrottle& operator=(const AuthFailureThrottle&) = delete;

  // Before the password of a bind from `peer` (4 or 16 bytes, network order) as `system_id` is
  // checked. `known_client`: system_id is a configured client (only those are counted per
  // system_id, so unknown names cost no memory). `trusted_by_config`: the peer is in the
  // client's own allowed_ips. The peer's lock is checked first, then the system_id's; with
  // `proceed` the attempt is counted as a failure until it is reported.
  Attempt begin_attempt(std::span<const uint8_t> peer, std::string_view system_id,
                        bool known_client, bool trusted_by_config, Clock::time_point now);
  // The password was right (even if the bind is refused later for another reason): gives back
  // the attempt and the peer's earlier failures as this system_id, and trusts the peer for it.
  void record_success(std::span<const uint8_t> peer, std::string_view system_id,
                      const Attempt& attempt, Clock::time_point now);
  // Nobody could check the password (every external backend failed): the attempt is given
  // back and nothing else changes.
  void forget_attempt(std::span<const uint8_t> peer, std::string_view system_id,
                      const Attempt& attempt);
  // The bind failed. `wrong_password`: the password of a known system_id was wrong; otherwise
  // (unknown system_id, peer outside allowed_ips) the failure counts against the peer only.
  void record_failure(std::span<const uint8_t> peer, std::string_view system_id,
                      const Attempt& attempt, bool wrong_password, Clock::time_point now);

  // Failures counted for `peer` since its last lock began (0 once forgotten), and whether it or
  // a system_id (for untrusted peers) is locked at `now`.
  uint32_t failures(std::span<const uint8_t> peer, Clock::time_point now) const;
  bool peer_locked(std::span<const uint8_t> peer, Clock::time_point now) const;
  bool client_locked(std::string_view system_id, Clock::time_point now) const;
  bool trusted(std::span<const uint8_t> peer, std::string_view system_id,
               Clock::time_point now) const;
  size_t tracked_peers() const;
  size_t tracked_clients() const;

 private:
  // Failures towards the next lock, and the locks so far.
  struct Strikes {
    uint32_t count = 0;        // failures (and attempts in flight) since the last lock began
    uint32_t locks = 0;        // each lock lasts twice the one before
    Clock::time_point last{};  // last failure
    Clock::time_point locked_until{};  // in the past when not locked
  };
  // A peer's failures as one system_id, so that a success gives back only its own.
  struct IdFailures {
    std::string system_id;
    uint32_t count = 0;
    uint32_t counted_for_client = 0;  // of which also counted against the system_id
  };
  struct PeerState {
    Strikes strikes;
    std::vector<IdFailures> ids;  // known system_ids only, at most max_ids_per_peer
    // Whose failures the peer's locks came from, kept as long as the locks: while they are all
    // one system_id's, that system_id's success forgets the peer, locks and all.
    std::string sole_id;  // empty until a failure of a known system_id
    bool mixed = false;   // failures of several system_ids, or of unknown ones
  };
  struct TrustKey {
    limits::PeerKey peer;
    std::string system_id;
    bool operator==(const TrustKey&) const = default;
  };
  struct TrustKeyHash {
    size_t operator()(const TrustKey& key) const;
  };

  // A map whose entries are kept in the order they were last touched, bounded by evicting the
  // entry touched longest ago.
  template <class Key, class Value, class Hash, class Equal = std::equal_to<>>
  class RecentTable {
   public:
    template <class K>
    Value* find(const K& key);
    template <class K>
    const Value* find(const K& key) const;
    // The entry of `key`, made (value-initialised) if absent, and moved to the back.
    Value& touch(const Key& key, size_t max_size);
    template <class K>
    void erase(const K& key);
    size_t size() const { return order_.size(); }

   private:
    using Order = std::list<std::pair<Key, Value>>;
    Order order_;
    std::unordered_map<Key, typename Order::iterator, Hash, Equal> index_;
  };

  bool expired(const Strikes& s, Clock::time_point now) const;  // its failures are forgotten
  void forget_old(Strikes& s, Clock::time_point now) const;
  bool locked(const Strikes& s, Clock::time_point now) const { return now < s.locked_until; }
  // Whether one more attempt fits before the lock: `limit` before the first lock, then one.
  static bool has_room(const Strikes& s, uint32_t limit);
  void count_failure(Strikes& s, uint32_t limit, Clock::time_point now) const;
  Ms delay_after(uint32_t failures) const;
  Ms lock_length(uint32_t locks_before) const;
  bool is_trusted(const TrustKey& key, Clock::time_point now) const;
  PeerState& fresh_peer(const limits::PeerKey& key, Clock::time_point now);
  Strikes& fresh_client(std::string_view system_id, Clock::time_point now);
  IdFailures* id_failures(PeerState& peer, std::string_view system_id, bool make);
  static void note_failure(PeerState& peer, std::string_view system_id, bool known_client);

  const Settings settings_;
  mutable std::mutex mutex_;
  RecentTable<limits::PeerKey, PeerState, limits::PeerKey::Hash> peers_;
  RecentTable<std::string, Strikes, StringHash> clients_;
  RecentTable<TrustKey, Clock::time_point, TrustKeyHash> trusted_;  // last successful bind
};

}  // namespace smppd::auth
