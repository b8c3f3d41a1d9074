#pragma once

// A Redis client on Asio, for the cluster's shared state: pipelined (every command queued while
// a write is out goes in the next write), over TCP or TLS (Debian 12's hiredis 0.14 has no TLS,
// so the connection is ours), with AUTH (Redis 6 ACL user or the default user) and SELECT sent
// first on each connection. hiredis's reader parses the replies.
//
// One connection; it is made when a command is sent and none is up. A connection that fails, a
// refused AUTH or an answer later than `timeout` fails every request written or waiting with
// the reason, and the next send() connects again: the caller decides when to retry.
// send() may be called from any thread; callbacks run on the client's executor.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace smppd::cluster {

struct RedisReply {
  enum class Type { nil, status, error, integer, string, array };
  Type type = Type::nil;
  int64_t integer = 0;
  std::string text;  // status, error or string
  std::vector<RedisReply> items;

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
};

using RedisCommand = std::vector<std::string>;

struct RedisOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string username;  // empty: AUTH <password> (the default user)
  std::string password;  // empty: no AUTH
  int db = 0;
  // TLS when set (net::make_client_tls_context); tls_config for the peer name check.
  std::shared_ptr<boost::asio::ssl::context> tls;
  config::TlsConfig tls_config;
  std::chrono::milliseconds timeout{2000};

  // "redis://host:port" or "rediss://host:port", for logs.
  std::string url() const;
};

class RedisClient : public std::enable_shared_from_this<RedisClient> {
 public:
  // The replies in order, one per command; or `error` ("connection refused", "no answer within
  // 2000 ms", "AUTH refused: WRONGPASS ...") and none. An error reply to one command (WRONGTYPE)
  // is a reply, not an `error`.
  using Done = std::function<void(const std::string& error, std::vector<RedisReply> replies)>;

  static std::shared_ptr<RedisClient> create(const boost::asio::any_io_executor& executor,
                                             RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void send(std::vector<RedisCommand> pipeline, Done done);
  // Closes the connection; what waits fails with "closed". Later sends connect again. Call it
  // before the client is destroyed, while its executor runs: the destructor does not close.
  void close();

  bool connected() const;
  // Commands and writes so far: commands per round trip, for the figures.
  uint64_t commands_sent() const;
  uint64_t writes() const;
  // The local address of the last connection ("10.1.2.3"), empty before the first: the address
  // other nodes reach this one on, as far as Redis's network is concerned.
  std::string local_address() const;
  std::string url() const { return url_; }

 private:
  struct Impl;
  RedisClient(const boost::asio::any_io_executor& executor, RedisOptions options);

  std::shared_ptr<Impl> impl_;
  std::string url_;
};

// The options of cluster.redis (a TLS context made from its tls section; its error thrown as
// std::runtime_error).
RedisOptions redis_options(const config::ClusterConfig& c);

}  // namespace smppd::cluster
