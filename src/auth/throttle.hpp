// Slows password guessing: the reply to a failed bind is delayed longer the more binds from the
// same peer have failed recently. Time is passed in, so tests are deterministic.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <unordered_map>

#include "limits/peer_key.hpp"

namespace smppd::auth {

// Thread safe (one mutex, taken on failed and successful binds only).
//
// A peer is an IPv4 address, or the /64 block of an IPv6 address (limits::PeerKey::block_of):
// one subscriber usually holds a whole /64, and a limit per address would be evaded by changing
// address within it. The table is bounded: when it is full, the peer whose last failure is the
// oldest is forgotten, so a flood of addresses costs a fixed amount of memory.
class AuthFailureThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  struct Settings {
    std::chrono::milliseconds first_delay{250};     // after one recent failure
    std::chrono::milliseconds max_delay{5000};      // each further failure doubles it up to this
    std::chrono::milliseconds forget_after{60000};  // without a failure, a peer starts afresh
    size_t max_peers = 10000;
  };

  AuthFailureThrottle() : AuthFailureThrottle(Settings{}) {}
  explicit AuthFailureThrottle(Settings settings);
  AuthFailureThrottle(const AuthFailureThrottle&) = delete;
  AuthFailureThrottle& operator=(const AuthFailureThrottle&) = delete;

  // How long to hold the reply to a failed bind from `peer` at `now`, given the failures recorded
  // before it: none -> 0, 1 -> 250 ms, 2 -> 500 ms, 3 -> 1 s, 4 -> 2 s, 5 -> 4 s, then 5 s.
  std::chrono::milliseconds delay_before_reply(std::span<const uint8_t> peer,
                                               Clock::time_point now) const;
  // Counts a failed bind from `peer` at `now`, and returns what delay_before_reply gave just
  // before it, read under the same lock: a bind path that calls only this cannot have two
  // concurrent failures from one peer both see the smaller delay.
  std::chrono::milliseconds record_failure(std::span<const uint8_t> peer, Clock::time_point now);
  // A successful bind forgets the peer's failures.
  void record_success(std::span<const uint8_t> peer);

  // Failures counted for `peer` at `now` (0 once forgotten).
  uint32_t failures(std::span<const uint8_t> peer, Clock::time_point now) const;
  size_t tracked_peers() const;

 private:
  struct Failures {
    limits::PeerKey peer;
    uint32_t count = 0;
    Clock::time_point last;
  };
  // Oldest last failure first: record_failure moves a peer to the back.
  using Order = std::list<Failures>;

  bool expired(const Failures& f, Clock::time_point now) const;
  std::chrono::milliseconds delay_after(uint32_t failures) const;
  const Failures* find(const limits::PeerKey& key, Clock::time_point now) const;

  const Settings settings_;
  mutable std::mutex mutex_;
  Order order_;
  std::unordered_map<limits::PeerKey, Order::iterator, limits::PeerKey::Hash> index_;
};

}  // namespace smppd::auth
