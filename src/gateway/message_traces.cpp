#include "gateway/message_traces.hpp"

namespace smppd::gateway {

void MessageTraces::put(uint64_t message_id, const tracing::SpanContext& trace) {
  std::lock_guard lock(mutex_);
  if (!traces_.emplace(message_id, trace).second) return;
  order_.push_back(message_id);
  while (traces_.size() > kMax || order_.size() > 2 * kMax) {
    traces_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<tracing::SpanContext> MessageTraces::find(uint64_t message_id, bool final) {
  std::lock_guard lock(mutex_);
  auto it = traces_.find(message_id);
  if (it == traces_.end()) return std::nullopt;
  const tracing::SpanContext trace = it->second;
  if (final) traces_.erase(it);
  return trace;
}

}  // namespace smppd::gateway
