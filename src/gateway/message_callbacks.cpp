#include "gateway/message_callbacks.hpp"

#include <charconv>

namespace smppd::gateway {

bool CallbackSpec::wants_submit_outcome(bool accepted) const {
  switch (style) {
    case Style::json:
      return false;  // the client had the SMSC's answer in its own response
    case Style::kannel:
      return (mask & (accepted ? 8 : 16)) != 0;
    case Style::jasmin:
      return (mask & 1) != 0 || !accepted;
  }
  return false;
}

bool CallbackSpec::wants_receipt(bool final, bool delivered) const {
  switch (style) {
    case Style::json:
      return true;
    case Style::kannel:
      if (!final) return (mask & 4) != 0;
      return (mask & (delivered ? 1 : 2)) != 0;
    case Style::jasmin:
      return (mask & 2) != 0;
  }
  return false;
}

namespace {

// Fields are separated by tabs; '%', tab and newline inside a field are %25, %09, %0A.
void put_field(std::string& out, std::string_view v) {
  out.push_back('\t');
  for (char c : v) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\t') {
      out += "%09";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out.push_back(c);
    }
  }
}

std::string unescape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      const std::string_view code = v.substr(i + 1, 2);
      const char c = code == "25" ? '%' : code == "09" ? '\t' : code == "0A" ? '\n' : '\0';
      if (c != '\0') {
        out.push_back(c);
        i += 2;
        continue;
      }
    }
    out.push_back(v[i]);
  }
  return out;
}

}  // namespace

std::string CallbackSpec::encode() const {
  std::string out = "1";
  put_field(out, std::to_string(static_cast<int>(style)));
  put_field(out, std::to_string(mask));
  put_field(out, post ? "1" : "0");
  put_field(out, url);
  put_field(out, client_ref);
  put_field(out, meta);
  put_field(out, to);
  put_field(out, from);
  return out;
}

std::optional<CallbackSpec> CallbackSpec::decode(std::string_view text) {
  std::vector<std::string_view> f;
  std::size_t start = 0;
  while (true) {
    const std::size_t tab = text.find('\t', start);
    f.push_back(text.substr(start, tab == std::string_view::npos ? std::string_view::npos
                                                                 : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (f.size() < 9 || f[0] != "1") return std::nullopt;
  auto number = [](std::string_view v, int max) -> std::optional<int> {
    int n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < 0 || n > max) return std::nullopt;
    return n;
  };
  const auto style = number(f[1], 2);
  const auto mask = number(f[2], 255);
  if (!style || !mask || (f[3] != "0" && f[3] != "1")) return std::nullopt;
  CallbackSpec s;
  s.style = static_cast<Style>(*style);
  s.mask = static_cast<uint8_t>(*mask);
  s.post = f[3] == "1";
  s.url = unescape(f[4]);
  s.client_ref = unescape(f[5]);
  s.meta = unescape(f[6]);
  s.to = unescape(f[7]);
  s.from = unescape(f[8]);
  if (s.url.empty()) return std::nullopt;
  return s;
}

MessageCallbacks::MessageCallbacks(std::size_t max_messages)
    : per_shard_(std::max<std::size_t>(1, max_messages / kShards)) {}

void MessageCallbacks::put(uint64_t id, std::shared_ptr<const CallbackSpec> spec) {
  Shard& s = shard(id);
  std::lock_guard lock(s.mutex);
  auto [it, added] = s.specs.insert_or_assign(id, std::move(spec));
  if (!added) return;
  count_.fetch_add(1, std::memory_order_relaxed);
  s.order.push_back(id);
  // The order keeps erased ids too: it is trimmed of those, and of the oldest beyond the bound.
  while (s.specs.size() > per_shard_ || s.order.size() > 2 * per_shard_) {
    const uint64_t oldest = s.order.front();
    s.order.pop_front();
    if (s.specs.erase(oldest) != 0) {
      count_.fetch_sub(1, std::memory_order_relaxed);
      if (s.specs.size() >= per_shard_) evicted_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

std::shared_ptr<const CallbackSpec> MessageCallbacks::find(uint64_t id) const {
  if (empty()) return nullptr;
  Shard& s = shard(id);
  std::lock_guard lock(s.mutex);
  auto it = s.specs.find(id);
  return it == s.specs.end() ? nullptr : it->second;
}

void MessageCallbacks::erase(uint64_t id) {
  Shard& s = shard(id);
  std::lock_guard lock(s.mutex);
  if (s.specs.erase(id) != 0) count_.fetch_sub(1, std::memory_order_relaxed);
}

void MessageCallbacks::record_attempt(uint64_t id, CallbackAttempt attempt) {
  Shard& s = shard(id);
  std::lock_guard lock(s.mutex);
  auto [it, added] = s.attempts.try_emplace(id);
  if (added) {
    s.attempt_order.push_back(id);
    if (s.attempt_order.size() > per_shard_) {
      s.attempts.erase(s.attempt_order.front());
      s.attempt_order.pop_front();
    }
  }
  // `it` may have been the oldest only if the map held one shard's worth with this new one:
  // look it up again.
  auto at = s.attempts.find(id);
  if (at == s.attempts.end()) return;
  std::vector<CallbackAttempt>& list = at->second;
  if (list.size() >= kAttemptsPerMessage) list.erase(list.begin() + 1);  // keep the first
  list.push_back(std::move(attempt));
  (void)it;
}

std::vector<CallbackAttempt> MessageCallbacks::attempts(uint64_t id) const {
  Shard& s = shard(id);
  std::lock_guard lock(s.mutex);
  auto it = s.attempts.find(id);
  return it == s.attempts.end() ? std::vector<CallbackAttempt>{} : it->second;
}

}  // namespace smppd::gateway
