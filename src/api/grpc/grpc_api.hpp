// The gRPC face of smppd (listeners of `type: grpc`): the smppd.v1.Messaging service
// (proto/smppd/v1/smppd.proto) with gRPC's callback API, the standard grpc.health.v1 service and
// server reflection.
//
// A call is authenticated as a configured client by its `authorization` metadata (Basic
// system_id:password, or Bearer with one of the client's api_keys), counted with the SMPP binds'
// and HTTP requests' failures (auth::AuthFailureThrottle: a guesser is answered ever later, then
// its address is locked: PERMISSION_DENIED). Its messages go through the gateway exactly as that
// client's SMPP messages would (rate_limit, window, middleware, routing, the store): each is
// read into the faces' request model (api/message, request.hpp), built into submit_sm parts and
// handed to Gateway::submit on a worker thread — gRPC's threads never wait for the message path,
// and answers come back to the call from the worker. Outcomes map to gRPC codes by one table
// (status_map.hpp); the listener's rate_limit.requests_per_second bounds calls and stream
// messages (RESOURCE_EXHAUSTED).
//
// Events makes the stream a receiver of the client's receipts and MO in the gateway's
// ClientRegistry (gateway::ExternalReceiver): each delivery is written as an Event and held
// until the client acknowledges it (at most the stream's window at once); what is not
// acknowledged when the stream ends goes back to the client's queue, in its place.
//
// SendStream keeps at most kStreamInFlight messages of a stream unanswered: beyond, it stops
// reading until answers drain (the client's writes then wait on HTTP/2 flow control), so a
// client that floods, or never reads its answers, holds bounded memory.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "auth/clients.hpp"
#include "auth/throttle.hpp"
#include "extauth/authenticator.hpp"
#include "config/config.hpp"
#include "core/counters.hpp"
#include "gateway/gateway.hpp"
#include "store/store.hpp"

namespace grpc {
class Server;
}

namespace smppd::grpcapi {

struct GrpcApiParts {
  gateway::Gateway& gateway;
  Counters& counters;
  // The clients in effect (a reload replaces them).
  std::function<std::shared_ptr<const auth::ClientDirectory>()> clients;
  store::Store* store = nullptr;  // with storage
  // Shared with the SMPP and HTTP listeners; null: not counted (tests).
  std::shared_ptr<auth::AuthFailureThrottle> auth_failures;
  // The workers: messages are handed to the gateway there, and answered from there.
  std::vector<boost::asio::any_io_executor> executors;
  // Asked for a system_id not among the clients (the `auth` section); null: none is.
  extauth::Authenticator* external = nullptr;
};

class GrpcApi {
 public:
  // Messages of one SendStream waiting for their answer at most; beyond, reading pauses.
  static constexpr std::size_t kStreamInFlight = 4096;

  GrpcApi(const config::ListenerConfig& listener, GrpcApiParts parts);
  ~GrpcApi();
  GrpcApi(const GrpcApi&) = delete;
  GrpcApi& operator=(const GrpcApi&) = delete;

  // Starts serving; returns the port bound (the configured one, or the one the system chose for
  // port 0). Throws std::runtime_error when it cannot listen or its TLS files do not load.
  uint16_t start();
  // Stops taking calls; calls still running get `grace` to end, then are cancelled.
  void stop(std::chrono::milliseconds grace);

  class Service;  // grpc_api.cpp

 private:
  config::ListenerConfig listener_;
  std::shared_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace smppd::grpcapi
