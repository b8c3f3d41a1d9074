#include "upstream/bind.hpp"

#include "smpp/version.hpp"

namespace smppd::upstream {

namespace {

template <class B>
smpp::Pdu bind_pdu(const config::UpstreamBind& b) {
  B body;
  body.system_id.assign(b.system_id);
  body.password.assign(b.password);
  body.system_type.assign(b.system_type);
  body.interface_version = b.interface_version.value_or(smpp::interface_version_of(b.version));
  body.addr_ton = b.addr_ton;
  body.addr_npi = b.addr_npi;
  body.address_range.assign(b.address_range);
  return smpp::make_pdu(0, std::move(body));
}

}  // namespace

smpp::Pdu make_bind(const config::UpstreamBind& b) {
  switch (b.type) {
    case config::BindType::transmitter:
      return bind_pdu<smpp::BindTransmitter>(b);
    case config::BindType::receiver:
      return bind_pdu<smpp::BindReceiver>(b);
    case config::BindType::transceiver:
      break;
  }
  return bind_pdu<smpp::BindTransceiver>(b);
}

}  // namespace smppd::upstream
