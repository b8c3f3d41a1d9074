// A message's state as the APIs show it (GET /v1/messages/{id}, GET /api/messages/{id}): from
// the store with its history when storage is on, else what the in-memory id map still holds.
#pragma once

#include <optional>
#include <string_view>

#include "api/http/server.hpp"
#include "gateway/gateway.hpp"
#include "store/store.hpp"

namespace smppd::rest {

// `text`: the id as its client was given it (hex, or base 62 for a 3.3 client). 400 for an id
// that is neither; 404 when unknown — and when `only_client` is given and the message is
// another client's (its existence is not told).
http::Response message_view(std::string_view text, store::Store* store, gateway::Gateway& gateway,
                            std::optional<std::string_view> only_client = std::nullopt);

}  // namespace smppd::rest
