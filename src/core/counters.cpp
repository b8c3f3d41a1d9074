#include "core/counters.hpp"

namespace smppd {

std::string Counters::key(std::string_view name, std::initializer_list<Label> labels) {
  std::string k(name);
  if (labels.size() == 0) return k;
  k += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) k += ',';
    first = false;
    k += label;
    k += "=\"";
    for (char c : value) {
      if (c == '"' || c == '\\') k += '\\';
      k += c;
    }
    k += '"';
  }
  k += '}';
  return k;
}

void Counters::add(std::string_view name, std::initializer_list<Label> labels, uint64_t n) {
  std::string k = key(name, labels);
  std::lock_guard lock(mutex_);
  values_[std::move(k)] += n;
}

uint64_t Counters::get(std::string_view name, std::initializer_list<Label> labels) const {
  const std::string k = key(name, labels);
  std::lock_guard lock(mutex_);
  auto it = values_.find(k);
  return it == values_.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, uint64_t>> Counters::snapshot() const {
  std::lock_guard lock(mutex_);
  return {values_.begin(), values_.end()};
}

}  // namespace smppd
