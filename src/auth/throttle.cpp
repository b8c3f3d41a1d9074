#include "auth/throttle.hpp"

#include <algorithm>
#include <cstdint>

namespace smppd::auth {

AuthFailureThrottle::AuthFailureThrottle(Settings settings) : settings_(settings) {}

bool AuthFailureThrottle::expired(const Failures& f, Clock::time_point now) const {
  return now - f.last >= settings_.forget_after;
}

const AuthFailureThrottle::Failures* AuthFailureThrottle::find(const limits::PeerKey& key,
                                                               Clock::time_point now) const {
  auto it = index_.find(key);
  if (it == index_.end() || expired(*it->second, now)) return nullptr;
  return &*it->second;
}

std::chrono::milliseconds AuthFailureThrottle::delay_after(uint32_t failures) const {
  if (failures == 0) return std::chrono::milliseconds{0};
  std::chrono::milliseconds delay = settings_.first_delay;
  for (uint32_t i = 1; i < failures && delay.count() > 0 && delay < settings_.max_delay; ++i) {
    delay *= 2;
  }
  return std::min(delay, settings_.max_delay);
}

std::chrono::milliseconds AuthFailureThrottle::delay_before_reply(std::span<const uint8_t> peer,
                                                                  Clock::time_point now) const {
  return delay_after(failures(peer, now));
}

std::chrono::milliseconds AuthFailureThrottle::record_failure(std::span<const uint8_t> peer,
                                                              Clock::time_point now) {
  const limits::PeerKey key = limits::PeerKey::block_of(peer);
  std::lock_guard lock(mutex_);
  // Forget peers quiet for long enough; they are at the front.
  while (!order_.empty() && expired(order_.front(), now)) {
    index_.erase(order_.front().peer);
    order_.pop_front();
  }
  if (auto it = index_.find(key); it != index_.end()) {
    Failures& f = *it->second;
    // Times may arrive slightly out of order (the clock is read before the lock), so the front
    // is not always the oldest: this one may have expired behind a fresher one.
    const uint32_t before = expired(f, now) ? 0 : f.count;
    f.count = before == UINT32_MAX ? before : before + 1;
    f.last = std::max(f.last, now);
    order_.splice(order_.end(), order_, it->second);
    return delay_after(before);
  }
  if (settings_.max_peers == 0) return delay_after(0);
  while (order_.size() >= settings_.max_peers) {
    index_.erase(order_.front().peer);
    order_.pop_front();
  }
  order_.push_back({key, 1, now});
  index_.emplace(key, std::prev(order_.end()));
  return delay_after(0);
}

void AuthFailureThrottle::record_success(std::span<const uint8_t> peer) {
  const limits::PeerKey key = limits::PeerKey::block_of(peer);
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    order_.erase(it->second);
    index_.erase(it);
  }
}

uint32_t AuthFailureThrottle::failures(std::span<const uint8_t> peer, Clock::time_point now) const {
  const limits::PeerKey key = limits::PeerKey::block_of(peer);
  std::lock_guard lock(mutex_);
  const Failures* f = find(key, now);
  return f ? f->count : 0;
}

size_t AuthFailureThrottle::tracked_peers() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

}  // namespace smppd::auth
