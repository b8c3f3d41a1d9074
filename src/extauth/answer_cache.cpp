#include "extauth/answer_cache.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace smppd::extauth {

AnswerCache::AnswerCache(std::size_t max_entries) : max_(max_entries == 0 ? 1 : max_entries) {
  if (RAND_bytes(secret_.data(), static_cast<int>(secret_.size())) != 1) {
    throw std::runtime_error("extauth: no random bytes for the cache's key");
  }
}

AnswerCache::Key AnswerCache::key(std::string_view system_id, std::string_view password,
                                  std::span<const uint8_t> peer,
                                  config::BindType bind_type) const {
  // Lengths first, so that no two inputs are written the same way.
  std::string input;
  input.reserve(8 + system_id.size() + password.size() + peer.size());
  input.push_back(static_cast<char>(system_id.size() & 0xFF));
  input.push_back(static_cast<char>(system_id.size() >> 8));
  input.append(system_id);
  input.push_back(static_cast<char>(password.size() & 0xFF));
  input.push_back(static_cast<char>(password.size() >> 8));
  input.append(password);
  input.push_back(static_cast<char>(peer.size()));
  input.append(reinterpret_cast<const char*>(peer.data()), peer.size());
  input.push_back(static_cast<char>(bind_type));
  Key out{};
  unsigned len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out.data(), &len);
  OPENSSL_cleanse(input.data(), input.size());
  return out;
}

std::optional<AnswerCache::Entry> AnswerCache::find(const Key& key, Clock::time_point now,
                                                    bool stale) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second.entry;
  if (now < e.fresh_until || (stale && now < e.keep_until)) return e;
  return std::nullopt;
}

void AnswerCache::put(const Key& key, Entry entry) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    order_.erase(it->second.at);
    entries_.erase(it);
  }
  while (entries_.size() >= max_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  entries_.emplace(key, Slot{std::move(entry), std::prev(order_.end())});
}

void AnswerCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  order_.clear();
}

void AnswerCache::limit(std::size_t max_entries) {
  std::lock_guard lock(mutex_);
  max_ = max_entries == 0 ? 1 : max_entries;
  while (entries_.size() > max_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

std::size_t AnswerCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace smppd::extauth
