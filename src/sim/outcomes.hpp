// The simulator's deterministic choices: which final state a message reaches (the configured
// delivered / undeliverable / expired mix), which submits are answered with an injected error,
// and whether a message asked for a receipt for the state it reached. Pure and reproducible, so
// a test that sends N messages can count exactly what comes back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "smpp/receipt.hpp"

namespace smppd::sim {

// Smooth weighted round robin (as nginx balances upstreams): every pick adds each weight to its
// running score and takes the highest score (the first on a tie), which then gives back the sum
// of the weights. Over any run of sum(weights) picks, index i is picked exactly weights[i] times,
// and the picks of one index are spread out rather than bunched.
class SmoothWeightedRoundRobin {
 public:
  SmoothWeightedRoundRobin(std::initializer_list<uint64_t> weights);
  explicit SmoothWeightedRoundRobin(std::vector<uint64_t> weights);

  // The next index; 0 when every weight is 0.
  std::size_t next();
  uint64_t total() const { return total_; }

 private:
  std::vector<int64_t> weights_;
  std::vector<int64_t> scores_;
  uint64_t total_ = 0;
};

// The final state of each message, in the proportions of the configured percentages (weights:
// they need not add up to 100). Every weight 0 means every message is delivered.
class OutcomeMix {
 public:
  OutcomeMix(uint32_t delivered, uint32_t undeliverable, uint32_t expired);
  smpp::MessageState next();

 private:
  SmoothWeightedRoundRobin wrr_;
};

// Injected failures: `throttle_percent` of submits answered ESME_RTHROTTLED and `error_percent`
// ESME_RSYSERR, at fixed places. An accumulator of the two rates together picks the submits that
// fail (with only one rate at 10%, every 10th submit: the 10th, 20th...); a smooth weighted round
// robin over the two rates says which failure each of them gets. Over 100 submits (or any
// multiple of the period the rates imply) the counts are exact. Rates are counted in millionths
// of a submit, so 0.0001% is the finest rate and no floating-point error accumulates.
class FaultInjector {
 public:
  // Throws std::invalid_argument when a rate is outside 0-100 or the two add up to more.
  FaultInjector(double throttle_percent, double error_percent);
  // The command_status to answer this submit with: 0 (go ahead), ESME_RTHROTTLED or ESME_RSYSERR.
  uint32_t next();

 private:
  static constexpr int64_t kOne = 1'000'000;  // a rate of 100%
  int64_t rate_ = 0;                          // both rates together, in millionths
  int64_t accumulated_ = 0;
  SmoothWeightedRoundRobin which_;  // 0: throttle, 1: error
};

// Whether registered_delivery (bits 1-0) asks for a receipt of a message that reached `state`:
// 1 always, 2 on failure only, 3 on success only (5.0 §4.7.21; 3.4 reserves 3), 0 never.
bool receipt_requested(uint8_t registered_delivery, smpp::MessageState state);

// The network error code the simulator gives a final state: 0 when delivered, 1 otherwise
// (written as err:000 / err:001 in the receipt text and error_code in query_sm_resp).
uint8_t error_code_for(smpp::MessageState state);

}  // namespace smppd::sim
