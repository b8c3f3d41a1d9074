#include "middleware/protocol.hpp"

#include "smpp/downgrade.hpp"
#include "smpp/status.hpp"

namespace smppd::middleware {

std::size_t Protocol::index(smpp::Version v) {
  switch (v) {
    case smpp::Version::v33:
      return 0;
    case smpp::Version::v34:
      return 1;
    case smpp::Version::v50:
      break;
  }
  return 2;
}

Protocol::Protocol(const std::vector<std::pair<smpp::Version, smpp::Version>>& mapping) {
  for (const auto& [from, to] : mapping) {
    to_[index(from)] = to;
    rule_[index(from)] =
        std::string(smpp::version_name(from)) + ": " + std::string(smpp::version_name(to));
  }
}

bool Protocol::acts() const {
  return to_[1] == smpp::Version::v33 || to_[2] == smpp::Version::v33;
}

std::optional<Rejection> Protocol::apply(smpp::Pdu& request, smpp::Version client_version,
                                         bool parts_allowed, Rewrite& out) const {
  const std::size_t i = index(client_version);
  // To 3.4 or 5.0, or 3.3 to 3.3: the defaults already do it (see the header).
  if (to_[i] != smpp::Version::v33 || client_version == smpp::Version::v33) return std::nullopt;
  auto refuse = [&](uint32_t status) { return Rejection{status, "protocol", rule_[i], {}}; };
  // Parts a transform made are 3.3 already (UDH), or carry SAR TLVs that become a UDH.
  for (smpp::SubmitSm& part : out.more_parts) {
    smpp::Pdu p = smpp::make_pdu(0, std::move(part));
    const smpp::Downgrade d = smpp::express_for_v33(p);
    part = std::move(*p.as<smpp::SubmitSm>());
    if (d.status != smpp::status::ESME_ROK) return refuse(d.status);
  }
  const uint32_t reference = reference_.fetch_add(1, std::memory_order_relaxed) + 1;
  smpp::Downgrade d = smpp::express_for_v33(request, static_cast<uint16_t>(reference));
  if (d.status != smpp::status::ESME_ROK) return refuse(d.status);
  if (!d.more.empty()) {
    // A payload longer than one short_message became parts (nothing else did: a transform's
    // parts carry no payload).
    if (!parts_allowed) return refuse(smpp::status::ESME_RINVMSGLEN);
    out.more_parts.insert(out.more_parts.begin(), std::make_move_iterator(d.more.begin()),
                          std::make_move_iterator(d.more.end()));
  }
  return std::nullopt;
}

}  // namespace smppd::middleware
