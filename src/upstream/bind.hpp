// The bind an upstream sends, from its `bind:` section: one definition for the pool's
// connections and for `smppd upstream test` (probe.hpp), so that the probe binds exactly as the
// daemon will.
#pragma once

#include "config/config.hpp"
#include "smpp/pdu.hpp"

namespace smppd::upstream {

// bind_transmitter, bind_receiver or bind_transceiver (bind.type) with system_id, password,
// system_type, interface_version (bind.interface_version, else that of bind.version), addr_ton,
// addr_npi and address_range; sequence number 0 (the sender assigns it).
smpp::Pdu make_bind(const config::UpstreamBind& bind);

}  // namespace smppd::upstream
