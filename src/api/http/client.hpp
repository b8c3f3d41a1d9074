// One HTTP/1.1 request and its answer, synchronously, on Boost.Beast: for the command line
// (`smppd status` and friends talking to the management API). Plain or TLS; every failure is
// a message, never an exception.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace smppd::http {

struct ClientRequest {
  std::string host = "127.0.0.1";
  uint16_t port = 80;
  bool tls = false;
  std::string ca_file;      // TLS: trust this CA (else the system's)
  bool verify = true;       // TLS: check the certificate and the host name
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
};

struct ClientAnswer {
  unsigned status = 0;
  std::string body;
  std::string content_type;
};

struct ClientResult {
  std::optional<ClientAnswer> answer;
  // Why there is none: "connection refused", "timed out after 10000 ms", "TLS: certificate
  // verify failed"...
  std::string error;
  bool refused = false;  // nothing listens there (the daemon is not running)
};

ClientResult fetch(const ClientRequest& request);

}  // namespace smppd::http
