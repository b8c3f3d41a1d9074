#include "sim/outcomes.hpp"

#include <cmath>
#include <stdexcept>

#include "smpp/status.hpp"

namespace smppd::sim {

SmoothWeightedRoundRobin::SmoothWeightedRoundRobin(std::initializer_list<uint64_t> weights)
    : SmoothWeightedRoundRobin(std::vector<uint64_t>(weights)) {}

SmoothWeightedRoundRobin::SmoothWeightedRoundRobin(std::vector<uint64_t> weights)
    : scores_(weights.size(), 0) {
  weights_.reserve(weights.size());
  for (const uint64_t w : weights) {
    // Weights are percentages or millionths: far below the range where the scores could overflow.
    weights_.push_back(static_cast<int64_t>(w));
    total_ += w;
  }
}

std::size_t SmoothWeightedRoundRobin::next() {
  if (total_ == 0) return 0;
  std::size_t best = 0;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    scores_[i] += weights_[i];
    if (scores_[i] > scores_[best]) best = i;
  }
  scores_[best] -= static_cast<int64_t>(total_);
  return best;
}

OutcomeMix::OutcomeMix(uint32_t delivered, uint32_t undeliverable, uint32_t expired)
    : wrr_{delivered, undeliverable, expired} {}

smpp::MessageState OutcomeMix::next() {
  switch (wrr_.next()) {
    case 1:
      return smpp::MessageState::undeliverable;
    case 2:
      return smpp::MessageState::expired;
    default:
      return smpp::MessageState::delivered;
  }
}

namespace {

int64_t millionths(double percent, const char* what) {
  if (!(percent >= 0 && percent <= 100)) {
    throw std::invalid_argument(std::string(what) + " must be between 0 and 100 (percent)");
  }
  return std::llround(percent * 10'000);
}

}  // namespace

FaultInjector::FaultInjector(double throttle_percent, double error_percent)
    : which_{static_cast<uint64_t>(millionths(throttle_percent, "throttle_rate")),
             static_cast<uint64_t>(millionths(error_percent, "error_rate"))} {
  rate_ = static_cast<int64_t>(which_.total());
  if (rate_ > kOne) {
    throw std::invalid_argument("throttle_rate and error_rate add up to more than 100 (percent)");
  }
}

uint32_t FaultInjector::next() {
  if (rate_ == 0) return smpp::status::ESME_ROK;
  accumulated_ += rate_;
  if (accumulated_ < kOne) return smpp::status::ESME_ROK;
  accumulated_ -= kOne;
  return which_.next() == 0 ? smpp::status::ESME_RTHROTTLED : smpp::status::ESME_RSYSERR;
}

bool receipt_requested(uint8_t registered_delivery, smpp::MessageState state) {
  const bool delivered = state == smpp::MessageState::delivered;
  switch (registered_delivery & 0x03) {
    case 1:
      return true;
    case 2:
      return !delivered;
    case 3:
      return delivered;
    default:
      return false;
  }
}

uint8_t error_code_for(smpp::MessageState state) {
  return state == smpp::MessageState::delivered ? 0 : 1;
}

}  // namespace smppd::sim
