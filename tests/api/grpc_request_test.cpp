// The gRPC face's reading of a SendRequest into the request model (api/grpc/request) and its
// table from SMPP outcomes to gRPC statuses (api/grpc/status_map).
#include <gtest/gtest.h>

#include "api/grpc/request.hpp"
#include "api/grpc/status_map.hpp"
#include "google/rpc/status.pb.h"
#include "smpp/status.hpp"

using namespace smppd;
using namespace std::chrono;
namespace st = smpp::status;

namespace {

const sys_seconds kNow = sys_days(year(2026) / June / 1);

v1::SendRequest base() {
  v1::SendRequest r;
  r.add_to("+258841234567");
  r.set_from("SHOP");
  r.set_text("Hello");
  return r;
}

api::FieldError error_of(const api::MessageResult& r) {
  EXPECT_TRUE(std::holds_alternative<api::FieldError>(r));
  return std::holds_alternative<api::FieldError>(r) ? std::get<api::FieldError>(r)
                                                    : api::FieldError{};
}

TEST(GrpcRequest, AMessageReadsAsTheJsonBodySays) {
  v1::SendRequest r = base();
  r.set_registered_delivery(true);
  r.mutable_validity()->set_seconds(3600);
  r.mutable_schedule()->set_seconds(sys_seconds(kNow + hours(2)).time_since_epoch().count());
  r.set_client_ref("ref-1");
  r.set_callback_url("https://example.com/dlr");
  const api::MessageResult out = grpcapi::read_send(r, kNow);
  ASSERT_TRUE(std::holds_alternative<api::MessageRequest>(out)) << error_of(out).detail;
  const auto& m = std::get<api::MessageRequest>(out);
  ASSERT_EQ(m.to.size(), 1u);
  EXPECT_EQ(m.to[0].value, "258841234567");
  EXPECT_EQ(m.to[0].ton, api::ton::kInternational);
  EXPECT_FALSE(m.to_was_list);
  EXPECT_EQ(m.from.ton, api::ton::kAlphanumeric);
  EXPECT_EQ(m.text, "Hello");
  EXPECT_TRUE(m.registered_delivery);
  EXPECT_EQ(m.schedule_at, kNow + hours(2));
  EXPECT_EQ(m.expires_at, kNow + hours(3));  // validity counts from the schedule
  EXPECT_EQ(m.client_ref, "ref-1");
  EXPECT_EQ(m.callback_url, "https://example.com/dlr");
}

TEST(GrpcRequest, BinaryWithAUdhAndSeveralRecipients) {
  v1::SendRequest r = base();
  r.add_to("258841234568");
  r.set_binary(std::string("\x01\x02\x03", 3));
  r.set_udh(std::string("\x05\x00\x03\x01\x02\x01", 6));
  r.set_encoding(v1::ENCODING_BINARY);
  const api::MessageResult out = grpcapi::read_send(r, kNow);
  ASSERT_TRUE(std::holds_alternative<api::MessageRequest>(out)) << error_of(out).detail;
  const auto& m = std::get<api::MessageRequest>(out);
  EXPECT_EQ(m.to.size(), 2u);
  EXPECT_TRUE(m.to_was_list);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(m.udh.size(), 6u);
}

TEST(GrpcRequest, ErrorsNameTheFieldWithThePathOfABatchItem) {
  v1::SendRequest r = base();
  r.clear_to();
  EXPECT_EQ(error_of(grpcapi::read_send(r, kNow, {}, "messages[3]")).field, "messages[3].to");
  r = base();
  r.clear_text();
  EXPECT_EQ(error_of(grpcapi::read_send(r, kNow)).field, "text");
  r = base();
  r.set_encoding(static_cast<v1::Encoding>(42));
  const api::FieldError e = error_of(grpcapi::read_send(r, kNow));
  EXPECT_EQ(e.field, "encoding");
  EXPECT_NE(e.detail.find("unknown value 42"), std::string::npos) << e.detail;
  r = base();
  r.mutable_validity()->set_seconds(10);
  r.mutable_validity()->set_nanos(5);
  EXPECT_EQ(error_of(grpcapi::read_send(r, kNow)).field, "validity");
  r = base();
  r.mutable_schedule()->set_seconds(sys_seconds(kNow - hours(1)).time_since_epoch().count());
  EXPECT_EQ(error_of(grpcapi::read_send(r, kNow)).detail, "is not in the future");
  r = base();
  r.set_text(std::string("\xff\xfe", 2));  // not UTF-8 (a proto3 string should not get here)
  EXPECT_EQ(error_of(grpcapi::read_send(r, kNow)).field, "text");
  r = base();
  r.set_udh(std::string("\x00", 1));
  EXPECT_EQ(error_of(grpcapi::read_send(r, kNow)).field, "udh");
}

TEST(GrpcStatus, TheTableAndTheRichDetails) {
  EXPECT_EQ(grpcapi::code_of(st::ESME_ROK), grpc::StatusCode::OK);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RTHROTTLED), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RMSGQFUL), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RSYSERR), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RINVDSTADR), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RINVSRCADR), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RINVDCS), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RINVPASWD), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RPROHIBITED), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(grpcapi::code_of(st::ESME_RSUBMITFAIL), grpc::StatusCode::FAILED_PRECONDITION);
  const grpc::Status s = grpcapi::status_of(st::ESME_RTHROTTLED, "slow down");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(), "slow down");
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(s.error_details()));
  EXPECT_EQ(rich.code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  ASSERT_EQ(rich.details_size(), 1);
  v1::SmppError e;
  ASSERT_TRUE(rich.details(0).UnpackTo(&e));
  EXPECT_EQ(e.command_status(), st::ESME_RTHROTTLED);
  EXPECT_EQ(e.command_status_name(), "ESME_RTHROTTLED");
}

}  // namespace
