#include "api/message/message_build.hpp"

#include <string>

#include "smpp/text.hpp"
#include "smpp/time.hpp"

namespace smppd::api {

namespace {

std::string content_field(const MessageRequest& m) {
  return m.text ? "text" : "binary";
}

smpp::TimeField absolute_time(std::chrono::sys_seconds t) {
  return smpp::format_time(smpp::SmppTime::from_unix_seconds(t.time_since_epoch().count()));
}

}  // namespace

std::variant<std::size_t, FieldError> count_parts(const MessageRequest& request,
                                                  const BuildOptions& options) {
  if (!request.udh.empty()) return std::size_t{1};
  // SAR and payload parts are sized as with an 8-bit reference, as smpp::segment does.
  const auto ref =
      options.method == smpp::ConcatMethod::udh16 ? smpp::ConcatRef::ref16 : smpp::ConcatRef::ref8;
  const std::size_t parts = smpp::count_encoded(request.payload, request.alphabet, ref).parts;
  if (parts > options.max_parts) {
    return FieldError{
        content_field(request),
        "needs " + std::to_string(parts) + " parts, at most " + std::to_string(options.max_parts)};
  }
  return parts;
}

std::variant<BuiltMessage, FieldError> build_submits(const MessageRequest& request,
                                                     const Address& recipient,
                                                     const BuildOptions& options) {
  const auto counted = count_parts(request, options);
  if (const auto* e = std::get_if<FieldError>(&counted)) return *e;

  smpp::SubmitSm tmpl;
  tmpl.source_addr_ton = request.from.ton;
  tmpl.source_addr_npi = request.from.npi;
  if (!tmpl.source_addr.assign(request.from.value)) {
    return FieldError{"from", "longer than 20 characters"};
  }
  tmpl.dest_addr_ton = recipient.ton;
  tmpl.dest_addr_npi = recipient.npi;
  if (!tmpl.destination_addr.assign(recipient.value)) {
    return FieldError{"to", "longer than 20 characters"};
  }
  tmpl.registered_delivery = request.registered_delivery ? 1 : 0;
  tmpl.priority_flag = request.priority_flag;
  tmpl.protocol_id = request.protocol_id;
  if (request.reply_path) tmpl.esm_class = static_cast<uint8_t>(tmpl.esm_class | 0x80);
  if (!tmpl.service_type.assign(request.service_type)) {
    return FieldError{"service_type", "longer than 5 characters"};
  }
  if (request.schedule_at) tmpl.schedule_delivery_time = absolute_time(*request.schedule_at);
  if (request.expires_at) tmpl.validity_period = absolute_time(*request.expires_at);

  BuiltMessage built;
  built.parts = std::get<std::size_t>(counted);
  const auto add = [&built](smpp::SubmitSm&& sm) {
    smpp::Pdu pdu;
    pdu.body = std::move(sm);
    built.pdus.push_back(std::move(pdu));
  };

  if (!request.udh.empty()) {
    std::vector<uint8_t> bytes = request.udh;
    bytes.insert(bytes.end(), request.payload.begin(), request.payload.end());
    tmpl.esm_class = static_cast<uint8_t>(tmpl.esm_class | smpp::esm_class::kUdhi);
    tmpl.data_coding = request.data_coding;
    if (!tmpl.short_message.assign(std::span<const uint8_t>(bytes))) {
      return FieldError{"binary", "udh and binary longer than one short_message"};
    }
    add(std::move(tmpl));
    return built;
  }

  smpp::SegmentOptions segment_options;
  segment_options.method = options.method;
  segment_options.reference = options.method == smpp::ConcatMethod::udh8
                                  ? static_cast<uint16_t>(options.reference & 0xFF)
                                  : options.reference;
  segment_options.max_parts = options.max_parts;
  const smpp::Segmented segmented =
      smpp::segment(request.payload, request.alphabet, segment_options);
  if (!segmented.ok()) {
    return FieldError{content_field(request), std::string(smpp::to_string(segmented.error))};
  }
  for (smpp::SubmitSm& sm : smpp::make_submits(segmented, tmpl, request.data_coding)) {
    add(std::move(sm));
  }
  return built;
}

}  // namespace smppd::api
