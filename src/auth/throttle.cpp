#include "auth/throttle.hpp"

#include <algorithm>
#include <cstdint>

namespace smppd::auth {

// ---- RecentTable ----

template <class Key, class Value, class Hash, class Equal>
template <class K>
Value* AuthFailureThrottle::RecentTable<Key, Value, Hash, Equal>::find(const K& key) {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &it->second->second;
}

template <class Key, class Value, class Hash, class Equal>
template <class K>
const Value* AuthFailureThrottle::RecentTable<Key, Value, Hash, Equal>::find(const K& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &it->second->second;
}

template <class Key, class Value, class Hash, class Equal>
Value& AuthFailureThrottle::RecentTable<Key, Value, Hash, Equal>::touch(const Key& key,
                                                                        size_t max_size) {
  if (auto it = index_.find(key); it != index_.end()) {
    order_.splice(order_.end(), order_, it->second);
    return it->second->second;
  }
  while (!order_.empty() && order_.size() >= std::max<size_t>(max_size, 1)) {
    index_.erase(order_.front().first);
    order_.pop_front();
  }
  order_.emplace_back(key, Value{});
  index_.emplace(key, std::prev(order_.end()));
  return order_.back().second;
}

template <class Key, class Value, class Hash, class Equal>
template <class K>
void AuthFailureThrottle::RecentTable<Key, Value, Hash, Equal>::erase(const K& key) {
  if (auto it = index_.find(key); it != index_.end()) {
    order_.erase(it->second);
    index_.erase(it);
  }
}

// ---- AuthFailureThrottle ----

size_t AuthFailureThrottle::TrustKeyHash::operator()(const TrustKey& key) const {
  return limits::PeerKey::Hash{}(key.peer) * 31 + std::hash<std::string>{}(key.system_id);
}

AuthFailureThrottle::AuthFailureThrottle(Settings settings) : settings_(std::move(settings)) {}

bool AuthFailureThrottle::expired(const Strikes& s, Clock::time_point now) const {
  return now - std::max(s.last, s.locked_until) >= settings_.forget_after;
}

// Failures are forgotten after forget_after without one; the locks, which make the next lock
// come after a single failure, only after forget_locks_after without a lock. Otherwise a patient
// guesser would get peer_limit tries every quarter of an hour.
void AuthFailureThrottle::forget_old(Strikes& s, Clock::time_point now) const {
  if (!expired(s, now)) return;
  s.count = 0;
  if (now - s.locked_until >= settings_.forget_locks_after) s = Strikes{};
}

bool AuthFailureThrottle::has_room(const Strikes& s, uint32_t limit) {
  return s.count < (s.locks == 0 ? limit : 1);
}

AuthFailureThrottle::Ms AuthFailureThrottle::lock_length(uint32_t locks_before) const {
  Ms length = settings_.first_lock;
  for (uint32_t i = 0; i < locks_before && length.count() > 0 && length < settings_.max_lock; ++i) {
    length *= 2;
  }
  return std::min(length, settings_.max_lock);
}

// `s.count` already holds this failure (counted when the attempt began).
void AuthFailureThrottle::count_failure(Strikes& s, uint32_t limit, Clock::time_point now) const {
  s.last = std::max(s.last, now);
  if (limit == 0 || locked(s, now) || has_room(s, limit)) return;
  s.locked_until = now + lock_length(s.locks);
  s.locks = s.locks == UINT32_MAX ? s.locks : s.locks + 1;
  s.count = 0;
}

AuthFailureThrottle::Ms AuthFailureThrottle::delay_after(uint32_t failures) const {
  if (failures == 0) return Ms{0};
  Ms delay = settings_.first_delay;
  for (uint32_t i = 1; i < failures && delay.count() > 0 && delay < settings_.max_delay; ++i) {
    delay *= 2;
  }
  return std::min(delay, settings_.max_delay);
}

bool AuthFailureThrottle::is_trusted(const TrustKey& key, Clock::time_point now) const {
  const Clock::time_point* last = trusted_.find(key);
  return last && now - *last < settings_.trust_for;
}

AuthFailureThrottle::PeerState& AuthFailureThrottle::fresh_peer(const limits::PeerKey& key,
                                                                Clock::time_point now) {
  PeerState& peer = peers_.touch(key, settings_.max_peers);
  if (expired(peer.strikes, now)) {
    forget_old(peer.strikes, now);
    peer.ids.clear();
    if (peer.strikes.locks == 0) peer = PeerState{};
  }
  return peer;
}

void AuthFailureThrottle::note_failure(PeerState& peer, std::string_view system_id,
                                       bool known_client) {
  if (!known_client) {
    peer.mixed = true;
  } else if (peer.sole_id.empty()) {
    peer.sole_id = system_id;
  } else if (peer.sole_id != system_id) {
    peer.mixed = true;
  }
}

AuthFailureThrottle::Strikes& AuthFailureThrottle::fresh_client(std::string_view system_id,
                                                                Clock::time_point now) {
  Strikes& client = clients_.touch(std::string(system_id), settings_.max_clients);
  forget_old(client, now);
  return client;
}

AuthFailureThrottle::IdFailures* AuthFailureThrottle::id_failures(PeerState& peer,
                                                                  std::string_view system_id,
                                                                  bool make) {
  for (auto& f : peer.ids) {
    if (f.system_id == system_id) return &f;
  }
  if (!make || peer.ids.size() >= settings_.max_ids_per_peer) return nullptr;
  peer.ids.push_back({std::string(system_id), 0, 0});
  return &peer.ids.back();
}

AuthFailureThrottle::Attempt AuthFailureThrottle::begin_attempt(std::span<const uint8_t> peer,
                                                                std::string_view system_id,
                                                                bool known_client,
                                                                bool trusted_by_config,
                                                                Clock::time_point now) {
  const limits::PeerKey key = limits::PeerKey::block_of(peer);
  std::lock_guard lock(mutex_);
  PeerState& p = fresh_peer(key, now);
  Attempt attempt;
  attempt.known_client = known_client;
  // A peer whose room is taken by attempts still in flight is refused too: their outcome decides.
  if (locked(p.strikes, now) ||
      (settings_.peer_limit != 0 && !has_room(p.strikes, settings_.peer_limit))) {
    attempt.verdict = Verdict::peer_locked;
    return attempt;
  }
  // Held after the failures before this one: none -> 0, 1 -> first_delay, then doubling; once the
  // peer has been locked, max_delay.
  attempt.reply_delay = delay_after(p.strikes.locks > 0 ? UINT32_MAX : p.strikes.count);
  ++p.strikes.count;
  p.strikes.last = std::max(p.strikes.last, now);
  IdFailures* mine = known_client ? id_failures(p, system_id, true) : nullptr;
  if (mine) ++mine->count;

  const bool trusted =
      trusted_by_config || (known_client && is_trusted({key, std::string(system_id)}, now));
  if (known_client && !trusted && settings_.client_limit != 0) {
    Strikes& client = fresh_client(system_id, now);
    if (locked(client, now) || !has_room(client, settings_.client_limit)) {
      // An attempt on a locked account is a failure of the peer, answered like one: the peer
      // cannot tell a locked system_id from a wrong password by the time it waits.
      attempt.verdict = Verdict::client_locked;
      note_failure(p, system_id, true);
      count_failure(p.strikes, settings_.peer_limit, now);
      return attempt;
    }
    ++client.count;
    client.last = std::max(client.last, now);
    if (mine) ++mine->counted_for_client;
    attempt.counted_for_client = true;
  }
  return attempt;
}

void AuthFailureThrottle::record_success(std::span<const uint8_t> peer, std::string_view system_id,
                                         const Attempt& attempt, Clock::time_point now) {
  if (!attempt.proceed()) return;
  const limits::PeerKey key = limits::PeerKey::block_of(peer);
  std::lock_guard lock(mutex_);
  trusted_.touch({key, std::string(system_id)}, settings_.max_trusted) = now;
  uint32_t give_back = 1;  // the attempt itself
  uint32_t client_give_back = attempt.counted_for_client ? 1 : 0;
  if (PeerState* p = peers_.find(key)) {
    auto mine = std::find_if(p->ids.begin(), p->ids.end(),
                             [&](const IdFailures& f) { return f.system_id == system_id; });
    if (mine != p->ids.end()) {
      give_back = std::max(give_back, mine->count);
      client_give_back = std::max(client_give_back, mine->counted_for_client);
      p->ids.erase(mine);
    }
    p->strikes.count -= std::min(p->strikes.count, give_back);
    // Nothing left against the peer but this system_id's own failures: it starts afresh, its
    // past locks forgotten. Another system_id's success never does that.
    const bool only_mine = !p->mixed && (p->sole_id.empty() || p->sole_id == system_id);
    if (only_mine && p->ids.empty() && p->strikes.count == 0 && !locked(p->strikes, now)) {
      peers_.erase(key);
    }
  }
  if (client_give_back > 0) {
    if (Strikes* client = clients_.find(system_id)) {
      client->count -= std::min(client->count, client_give_back);
    }
  }
}

void AuthFailureThrottle::forget_attempt(std::span<const uint8_t> peer,
                                         std::string_view system_id, const Attempt& attempt) {
  if (!attempt.proceed()) return;
  const limits::PeerKey key = limits::PeerKey::block_of(peer);
  std::lock_guard lock(mutex_);
  // The exact inverse of begin_attempt: the peer's strike, the system_id's share of the peer's
  // failures, and the system_id's own strike.
  if (PeerState* p = peers_.find(key)) {
    p->strikes.count -= std::min(p->strikes.count, 1u);
    if (IdFailures* mine = attempt.known_client ? id_failures(*p, system_id, false) : nullptr) {
      mine->count -= std::min(mine->count, 1u);
      if (attempt.counted_for_client) {
        mine->counted_for_client -= std::min(mine->counted_for_client, 1u);
      }
      if (mine->count == 0) {
        // The entry begin_attempt made: gone again, its slot free.
        std::erase_if(p->ids, [&](const IdFailures& f) { return f.system_id == system_id; });
      }
    }
  }
  if (attempt.counted_for_client) {
    if (Strikes* client = clients_.find(system_id)) client->count -= std::min(client->count, 1u);
  }
}

void AuthFailureThrottle::record_failure(std::span<const uint8_t> peer, std::string_view system_id,
                                         const Attempt& attempt, bool wrong_password,
                                         Clock::time_point now) {
  if (!attempt.proceed()) return;
  const limits::PeerKey key = limits::PeerKey::block_of(peer);
  std::lock_guard lock(mutex_);
  PeerState* p = peers_.find(key);
  if (p) {
    note_failure(*p, system_id, attempt.known_client);
    count_failure(p->strikes, settings_.peer_limit, now);
  }
  if (!attempt.counted_for_client) return;
  Strikes* client = clients_.find(system_id);
  if (!client) return;
  if (wrong_password) {
    count_failure(*client, settings_.client_limit, now);
    return;
  }
  // Not a guess at this system_id's password: it counts against the peer only.
  client->count -= std::min(client->count, 1u);
  if (p) {
    if (IdFailures* mine = id_failures(*p, system_id, false)) {
      mine->counted_for_client -= std::min(mine->counted_for_client, 1u);
    }
  }
}

uint32_t AuthFailureThrottle::failures(std::span<const uint8_t> peer, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const PeerState* p = peers_.find(limits::PeerKey::block_of(peer));
  return p && !expired(p->strikes, now) ? p->strikes.count : 0;
}

bool AuthFailureThrottle::peer_locked(std::span<const uint8_t> peer, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const PeerState* p = peers_.find(limits::PeerKey::block_of(peer));
  return p && locked(p->strikes, now);
}

bool AuthFailureThrottle::client_locked(std::string_view system_id, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const Strikes* client = clients_.find(system_id);
  return client && locked(*client, now);
}

bool AuthFailureThrottle::trusted(std::span<const uint8_t> peer, std::string_view system_id,
                                  Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return is_trusted({limits::PeerKey::block_of(peer), std::string(system_id)}, now);
}

size_t AuthFailureThrottle::tracked_peers() const {
  std::lock_guard lock(mutex_);
  return peers_.size();
}

size_t AuthFailureThrottle::tracked_clients() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

}  // namespace smppd::auth
