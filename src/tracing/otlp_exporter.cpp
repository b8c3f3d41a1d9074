#include "tracing/otlp_exporter.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/log_aggregate.hpp"

namespace smppd::tracing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// The outcome of one POST.
struct Attempt {
  bool ok = false;
  bool retryable = false;
  uint64_t rejected = 0;                 // a partial success's rejectedSpans
  std::optional<milliseconds> retry_after;  // the collector's Retry-After, in seconds
  std::string reason;                    // why it failed, for the log
};

bool retryable_status(unsigned status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// A partial success (`{"partialSuccess":{"rejectedSpans":"3","errorMessage":"..."}}`): the
// collector took the request but refused some spans; they are not sent again (OTLP says so).
uint64_t rejected_spans(std::string_view body, std::string& message) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return 0;
  const auto* partial = v.as_object().if_contains("partialSuccess");
  if (partial == nullptr || !partial->is_object()) return 0;
  const auto& p = partial->as_object();
  if (const auto* m = p.if_contains("errorMessage"); m != nullptr && m->is_string())
    message = std::string(m->as_string().subview(0, 200));
  const auto* count = p.if_contains("rejectedSpans");
  if (count == nullptr) return 0;
  if (count->is_int64()) return static_cast<uint64_t>(std::max<int64_t>(count->as_int64(), 0));
  if (count->is_uint64()) return count->as_uint64();
  uint64_t n = 0;
  if (count->is_string()) {
    const auto& s = count->as_string();
    std::from_chars(s.data(), s.data() + s.size(), n);
  }
  return n;
}

std::optional<milliseconds> retry_after(std::string_view value) {
  unsigned seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;  // a date
  return milliseconds(int64_t{seconds} * 1000);
}

// 50-100 % of `d`: exporters that lost the same collector do not all come back at once.
milliseconds jittered(milliseconds d) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> half(d.count() / 2, std::max<int64_t>(d.count(), 1));
  return milliseconds(half(rng));
}

}  // namespace

OtlpExporterOptions OtlpExporterOptions::from_config(const config::TracingConfig& tracing) {
  OtlpExporterOptions options;
  options.endpoint = tracing.otlp;
  return options;
}

class OtlpExporter::Impl {
 public:
  Impl(Tracer& tracer, OtlpExporterOptions options)
      : tracer_(tracer),
        options_(std::move(options)),
        resource_(complete(options_.resource)),
        host_header_(options_.endpoint.address.to_string()),
        url_("http://" + host_header_ + options_.endpoint.path),
        failure_log_(log::Level::warn, "trace batches dropped") {
    options_.max_batch = std::max<std::size_t>(options_.max_batch, 1);
    options_.max_attempts = std::max(options_.max_attempts, 1);
    batch_.reserve(options_.max_batch);
    asio::co_spawn(io_, run(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop(milliseconds deadline) {
    std::lock_guard guard(stop_mutex_);
    if (!thread_.joinable()) return;
    const Clock::time_point when = Clock::now() + deadline;
    asio::post(io_, [this, when] {
      stopping_ = true;
      stop_at_ = when;
      wake_.cancel();  // a drain interval or a retry delay ends now
      shutdown_.expires_at(when);
      shutdown_.async_wait([this](boost::system::error_code ec) {
        if (!ec) close();  // cuts an exchange still in progress
      });
    });
    thread_.join();
  }

  OtlpExporterStats stats() const {
    OtlpExporterStats s;
    s.exported = exported_.load(std::memory_order_relaxed);
    s.rejected = rejected_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.failed_batches = failed_batches_.load(std::memory_order_relaxed);
    s.failed_requests = failed_requests_.load(std::memory_order_relaxed);
    s.tracer = tracer_.stats();
    return s;
  }

  const std::string& url() const { return url_; }

 private:
  bool past_deadline() const { return stopping_ && Clock::now() >= stop_at_; }

  asio::awaitable<void> run() {
    Clock::time_point batch_since{};
    for (;;) {
      const bool was_empty = batch_.empty();
      tracer_.take(batch_, options_.max_batch - batch_.size());
      if (was_empty && !batch_.empty()) batch_since = Clock::now();
      if (past_deadline()) break;
      const bool due = batch_.size() >= options_.max_batch ||
                       (!batch_.empty() &&
                        (stopping_ || Clock::now() - batch_since >= options_.flush_interval));
      if (due) {
        co_await send_batch();
        continue;
      }
      if (stopping_ && batch_.empty()) break;
      wake_.expires_after(options_.drain_interval);
      co_await wake_.async_wait(nothrow);
    }
    // The deadline passed: what is in hand and in the ring is given up.
    uint64_t lost = batch_.size();
    batch_.clear();
    while (tracer_.take(batch_, options_.max_batch) > 0) {
      lost += batch_.size();
      batch_.clear();
    }
    if (lost > 0) {
      dropped_.fetch_add(lost, std::memory_order_relaxed);
      log::warn("trace export to {}: stopping: {} span(s) not sent within the deadline", url_,
                lost);
    }
    close();
    shutdown_.cancel();
  }

  asio::awaitable<void> send_batch() {
    http::request<http::string_body> request{http::verb::post, options_.endpoint.path, 11};
    request.set(http::field::host, host_header_);
    request.set(http::field::user_agent, "smppd/" + resource_.service_version);
    request.set(http::field::content_type, "application/json");
    request.keep_alive(true);
    request.body() = encode_otlp_json(resource_, batch_);
    request.prepare_payload();

    const uint64_t spans = batch_.size();
    Attempt attempt;
    int tries = 0;
    milliseconds delay = options_.retry_delay;
    while (tries < options_.max_attempts) {
      if (past_deadline()) {
        attempt.reason = "smppd is stopping";
        break;
      }
      ++tries;
      attempt = co_await post(request);
      if (attempt.ok) break;
      failed_requests_.fetch_add(1, std::memory_order_relaxed);
      if (!attempt.retryable || tries == options_.max_attempts) break;
      milliseconds wait = attempt.retry_after ? *attempt.retry_after : jittered(delay);
      wait = std::min(wait, options_.max_retry_delay);
      delay = std::min(delay * 2, options_.max_retry_delay);
      if (stopping_) {
        wait = std::min(wait, std::chrono::duration_cast<milliseconds>(
                                  std::max(stop_at_ - Clock::now(), Clock::duration::zero())));
      }
      wake_.expires_after(wait);
      co_await wake_.async_wait(nothrow);  // stop() ends it early
    }
    batch_.clear();
    if (attempt.ok) {
      exported_.fetch_add(spans - std::min(attempt.rejected, spans), std::memory_order_relaxed);
      rejected_.fetch_add(std::min(attempt.rejected, spans), std::memory_order_relaxed);
      if (failing_) {
        log::info("trace export to {}: spans are taken again", url_);
        failing_ = false;
      }
      if (attempt.rejected > 0) {
        failure_log_("trace export to {}: the collector refused {} of {} span(s): {}", url_,
                     attempt.rejected, spans, attempt.reason);
      }
      co_return;
    }
    failing_ = true;
    dropped_.fetch_add(spans, std::memory_order_relaxed);
    failed_batches_.fetch_add(1, std::memory_order_relaxed);
    failure_log_("trace export to {}: {} span(s) dropped after {} attempt(s): {}", url_, spans,
                 tries, attempt.reason);
  }

  // One POST on the kept connection (made first when there is none). A kept connection that
  // the collector closed while idle fails before any answer: then the request goes once more
  // on a new connection at once, not counted as an attempt.
  asio::awaitable<Attempt> post(http::request<http::string_body>& request) {
    for (int fresh_try = 0;; ++fresh_try) {
      const bool reused = connected_;
      Clock::time_point deadline = Clock::now() + options_.request_timeout;
      if (stopping_) deadline = std::min(deadline, stop_at_);
      if (!connected_) {
        if (auto failed = co_await connect(deadline)) co_return *failed;
      }
      stream_.expires_at(deadline);
      auto [write_error, written] = co_await http::async_write(stream_, request, nothrow);
      http::response_parser<http::string_body> parser;
      parser.body_limit(options_.max_response_bytes);
      beast::flat_buffer buffer;
      boost::system::error_code error = write_error;
      if (!error) {
        auto [read_error, read] = co_await http::async_read(stream_, buffer, parser, nothrow);
        error = read_error;
      }
      if (error) {
        close();
        const bool before_answer = !parser.got_some();
        if (reused && before_answer && fresh_try == 0 && error != beast::error::timeout &&
            !past_deadline())
          continue;
        co_return Attempt{false, true, 0, std::nullopt,
                          error == beast::error::timeout ? "no answer within the request timeout"
                                                         : "the exchange failed: " +
                                                               error.message()};
      }
      const auto& response = parser.get();
      if (!response.keep_alive()) close();
      const unsigned status = response.result_int();
      Attempt out;
      if (status >= 200 && status < 300) {
        out.ok = true;
        out.rejected = rejected_spans(response.body(), out.reason);
        co_return out;
      }
      out.retryable = retryable_status(status);
      if (out.retryable) out.retry_after = retry_after(response[http::field::retry_after]);
      const std::string_view body = response.body();
      out.reason = "HTTP " + std::to_string(status) +
                   (body.empty() ? "" : ": " + std::string(body.substr(0, 200)));
      co_return out;
    }
  }

  // An Attempt when the connection cannot be made.
  asio::awaitable<std::optional<Attempt>> connect(Clock::time_point deadline) {
    tcp::resolver resolver(io_);
    const config::HostPort& address = options_.endpoint.address;
    auto [resolve_error, endpoints] =
        co_await resolver.async_resolve(address.host, std::to_string(address.port), nothrow);
    if (resolve_error) {
      co_return Attempt{false, true, 0, std::nullopt,
                        "cannot resolve " + address.host + ": " + resolve_error.message()};
    }
    stream_.expires_at(deadline);
    auto [connect_error, endpoint] = co_await stream_.async_connect(endpoints, nothrow);
    if (connect_error) {
      close();
      co_return Attempt{false, true, 0, std::nullopt,
                        connect_error == beast::error::timeout
                            ? "cannot connect within the request timeout"
                            : "cannot connect: " + connect_error.message()};
    }
    boost::system::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    connected_ = true;
    co_return std::nullopt;
  }

  void close() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
  }

  Tracer& tracer_;
  OtlpExporterOptions options_;
  const Resource resource_;
  const std::string host_header_;
  const std::string url_;

  asio::io_context io_{1};
  beast::tcp_stream stream_{io_};
  asio::steady_timer wake_{io_};      // the drain interval, a retry's delay
  asio::steady_timer shutdown_{io_};  // the stop deadline
  bool connected_ = false;
  bool stopping_ = false;
  bool failing_ = false;
  Clock::time_point stop_at_ = Clock::time_point::max();
  std::vector<Span> batch_;

  std::atomic<uint64_t> exported_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_batches_{0};
  std::atomic<uint64_t> failed_requests_{0};
  log::Aggregated failure_log_;

  std::mutex stop_mutex_;
  std::thread thread_;
};

OtlpExporter::OtlpExporter(Tracer& tracer, OtlpExporterOptions options)
    : impl_(std::make_unique<Impl>(tracer, std::move(options))) {}

OtlpExporter::~OtlpExporter() {
  stop();
}

void OtlpExporter::stop(milliseconds deadline) {
  impl_->stop(deadline);
}

OtlpExporterStats OtlpExporter::stats() const {
  return impl_->stats();
}

const std::string& OtlpExporter::url() const {
  return impl_->url();
}

}  // namespace smppd::tracing
