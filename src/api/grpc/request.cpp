#include "api/grpc/request.hpp"

#include <utility>

namespace smppd::grpcapi {

namespace {

api::FieldError error(const std::string& path, std::string_view field, std::string detail) {
  std::string name = path;
  if (!name.empty()) name += '.';
  name += field;
  return {std::move(name), std::move(detail)};
}

}  // namespace

api::MessageResult read_send(const smppd::v1::SendRequest& r, std::chrono::sys_seconds now,
                             const api::MessageLimits& limits, std::string path) {
  api::MessageFields f;
  f.to.assign(r.to().begin(), r.to().end());
  // A repeated field cannot say "one" from "a list of one": more than one is a list.
  f.to_was_list = r.to_size() != 1;
  if (r.to_size() == 0) return error(path, "to", "required");
  f.from = r.from();
  if (f.from.empty()) return error(path, "from", "required");
  switch (r.content_case()) {
    case smppd::v1::SendRequest::kText:
      f.text = r.text();
      break;
    case smppd::v1::SendRequest::kBinary:
      f.binary = std::vector<uint8_t>(r.binary().begin(), r.binary().end());
      break;
    case smppd::v1::SendRequest::CONTENT_NOT_SET:
      break;
  }
  f.udh.assign(r.udh().begin(), r.udh().end());
  switch (r.encoding()) {
    case smppd::v1::ENCODING_AUTO:
      break;
    case smppd::v1::ENCODING_GSM7:
      f.encoding = "gsm7";
      break;
    case smppd::v1::ENCODING_UCS2:
      f.encoding = "ucs2";
      break;
    case smppd::v1::ENCODING_LATIN1:
      f.encoding = "latin1";
      break;
    case smppd::v1::ENCODING_BINARY:
      f.encoding = "binary";
      break;
    default:
      return error(path, "encoding",
                   "unknown value " + std::to_string(static_cast<int>(r.encoding())) +
                       " (ENCODING_AUTO, GSM7, UCS2, LATIN1 or BINARY)");
  }
  f.registered_delivery = r.registered_delivery();
  if (r.has_validity()) {
    const auto& d = r.validity();
    if (d.nanos() != 0) return error(path, "validity", "whole seconds only");
    f.validity_seconds = d.seconds();
  }
  if (r.has_schedule()) {
    const auto& t = r.schedule();
    if (t.nanos() < 0 || t.nanos() > 999'999'999) {
      return error(path, "schedule", "nanos out of range");
    }
    // Whole seconds: a schedule is kept to the second (the SMPP time format's tenths aside).
    f.schedule = std::chrono::sys_seconds(std::chrono::seconds(t.seconds()));
  }
  f.callback_url = r.callback_url();
  f.client_ref = r.client_ref();
  return api::message_from_fields(f, now, limits, std::move(path));
}

}  // namespace smppd::grpcapi
