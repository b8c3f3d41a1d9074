// Where the message path gets a destination's number portability (MNP) answer, for the routes
// by mcc, mnc or is_ported. The gateway knows no HTTP: the server wires an implementation over
// the MNP client (mnp/mnp_client.hpp) in here, as it wires DeliveryDivert (clients.hpp).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace smppd::gateway {

// The network that serves a number now; empty mcc and mnc when it is not known (the lookup fell
// back to "not ported": the provider was slow, down or said nothing useful).
struct NumberAnswer {
  std::string mcc;
  std::string mnc;
  bool is_ported = false;
};

// Contract: thread safe; `e164` is an optional '+' and 1 to 15 digits (the gateway asks for no
// other). lookup() never blocks and calls `done` exactly once, on any thread, never inside
// lookup(), by the lookup's timeout at the latest (with the fallback when it must).
class NumberLookup {
 public:
  virtual ~NumberLookup() = default;
  // The answer there is without asking anyone (remembered, or lookups are off); std::nullopt
  // when it takes lookup().
  virtual std::optional<NumberAnswer> cached(std::string_view e164) = 0;
  virtual void lookup(std::string_view e164, std::function<void(NumberAnswer)> done) = 0;
};

}  // namespace smppd::gateway
