// A load client for smppd's gRPC face (bench/grpc_api.sh): smppd.v1.Messaging over one channel.
//
//   --mode stream   one SendStream, `--window` messages in flight, as fast as answered
//   --mode unary    `--concurrency` Send calls at once, each followed by the next
//   --mode rate     one SendStream at `--rate` messages a second: the latency from the write to
//                   its answer (p50, p99, p99.9, max)
// Prints one line: `result mode=... sent=N ok=N refused=N seconds=S rate=R [p50_us=...]`.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "smppd/v1/smppd.grpc.pb.h"

namespace {

namespace v1 = smppd::v1;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string target = "127.0.0.1:9090";
  std::string mode = "stream";
  std::string auth = "bench:bench-pw";
  double seconds = 5;
  int window = 2000;
  int concurrency = 50;
  double rate = 10000;
};

std::string base64(const std::string& in) {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 | static_cast<unsigned char>(in[i + 2]);
    out += {kChars[n >> 18], kChars[(n >> 12) & 63], kChars[(n >> 6) & 63], kChars[n & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += {kChars[n >> 18], kChars[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
    out += {kChars[n >> 18], kChars[(n >> 12) & 63], kChars[(n >> 6) & 63], '='};
  }
  return out;
}

v1::SendRequest message(uint64_t id) {
  v1::SendRequest r;
  r.add_to("+258841234567");
  r.set_from("MYAPP");
  r.set_text("Hello");
  r.set_request_id(id);
  return r;
}

// One SendStream: writes while fewer than `window` are unanswered (or at the pace `rate` sets),
// reads answers, ends after `seconds`.
class Stream : public grpc::ClientBidiReactor<v1::SendRequest, v1::SendResponse> {
 public:
  Stream(v1::Messaging::Stub& stub, const Options& o, bool paced) : o_(o), paced_(paced) {
    ctx_.AddMetadata("authorization", "Basic " + base64(o.auth));
    stub.async()->SendStream(&ctx_, this);
    if (paced_) sent_at_.resize(static_cast<std::size_t>(o.rate * o.seconds) + 16);
    start_ = Clock::now();
    StartRead(&answer_);
    StartCall();
    std::lock_guard lock(mutex_);
    write_locked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!ok) return;
    write_locked();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    bool all = false;
    {
      std::lock_guard lock(mutex_);
      ++answered_;
      if (answer_.code() == 0) ++ok_; else ++refused_;
      if (paced_) {
        const uint64_t id = answer_.request_id();
        if (id < sent_at_.size()) {
          latencies_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent_at_[id]).count());
        }
      }
      write_locked();
      if (closed_ && answered_ == sent_) done_all_ = true;
      all = done_all_;
    }
    if (all) {
      cv_.notify_all();
      return;
    }
    StartRead(&answer_);
  }

  void OnDone(const grpc::Status& s) override {
    std::lock_guard lock(mutex_);
    status_ = s;
    finished_ = true;
    done_all_ = true;
    cv_.notify_all();
  }

  // Runs until `seconds` have passed and every message is answered; prints the result.
  void run() {
    std::unique_lock lock(mutex_);
    const auto end = start_ + std::chrono::duration<double>(o_.seconds);
    while (Clock::now() < end && !finished_) {
      if (paced_) write_locked();
      cv_.wait_for(lock, paced_ ? std::chrono::microseconds(500) : std::chrono::milliseconds(50));
    }
    closed_ = true;
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    const uint64_t ok_at_end = ok_;
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return done_all_ || answered_ == sent_; });
    if (!writing_ && !finished_) {
      writing_ = true;
      StartWritesDone();
    }
    std::printf("result mode=%s sent=%llu ok=%llu refused=%llu seconds=%.3f rate=%.0f",
                o_.mode.c_str(), static_cast<unsigned long long>(sent_),
                static_cast<unsigned long long>(ok_), static_cast<unsigned long long>(refused_),
                seconds, static_cast<double>(ok_at_end) / seconds);
    if (paced_ && !latencies_.empty()) {
      std::sort(latencies_.begin(), latencies_.end());
      auto at = [this](double q) {
        return latencies_[std::min(latencies_.size() - 1,
                                   static_cast<std::size_t>(q * static_cast<double>(latencies_.size())))];
      };
      std::printf(" p50_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f", at(0.5), at(0.99),
                  at(0.999), latencies_.back());
    }
    if (!status_.ok()) std::printf(" status=%d:%s", status_.error_code(), status_.error_message().c_str());
    std::printf("\n");
    std::fflush(stdout);
    cv_.wait_for(lock, std::chrono::seconds(5), [this] { return finished_; });
  }

 private:
  void write_locked() {
    if (writing_ || closed_) return;
    if (paced_) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
      if (static_cast<double>(sent_) >= elapsed * o_.rate || sent_ + 1 >= sent_at_.size()) return;
    } else if (sent_ - answered_ >= static_cast<uint64_t>(o_.window)) {
      return;
    }
    writing_ = true;
    request_ = message(sent_);
    if (paced_) sent_at_[sent_] = Clock::now();
    ++sent_;
    StartWrite(&request_);
  }

  const Options& o_;
  const bool paced_;
  grpc::ClientContext ctx_;
  v1::SendRequest request_;
  v1::SendResponse answer_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Clock::time_point start_;
  std::vector<Clock::time_point> sent_at_;
  std::vector<double> latencies_;
  uint64_t sent_ = 0, answered_ = 0, ok_ = 0, refused_ = 0;
  bool writing_ = false, closed_ = false, finished_ = false, done_all_ = false;
  grpc::Status status_;
};

void unary(v1::Messaging::Stub& stub, const Options& o) {
  std::atomic<uint64_t> sent{0}, ok{0}, refused{0};
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};
  std::mutex m;
  std::condition_variable cv;
  const auto start = Clock::now();
  struct Call {
    grpc::ClientContext ctx;
    v1::SendRequest request;
    v1::SendResponse response;
  };
  std::function<void()> next = [&] {
    auto call = std::make_shared<Call>();
    call->ctx.AddMetadata("authorization", "Basic " + base64(o.auth));
    call->request = message(sent.fetch_add(1));
    stub.async()->Send(&call->ctx, &call->request, &call->response,
                       [&, call](grpc::Status s) {
                         (s.ok() ? ok : refused).fetch_add(1);
                         if (!stop.load()) {
                           next();
                         } else if (running.fetch_sub(1) == 1) {
                           std::lock_guard lock(m);
                           cv.notify_all();
                         }
                       });
  };
  running.store(o.concurrency);
  for (int i = 0; i < o.concurrency; ++i) next();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const uint64_t ok_at_end = ok.load();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop.store(true);
  std::unique_lock lock(m);
  cv.wait_for(lock, std::chrono::seconds(10), [&] { return running.load() == 0; });
  std::printf("result mode=unary concurrency=%d sent=%llu ok=%llu refused=%llu seconds=%.3f rate=%.0f\n",
              o.concurrency, static_cast<unsigned long long>(sent.load()),
              static_cast<unsigned long long>(ok.load()),
              static_cast<unsigned long long>(refused.load()), seconds,
              static_cast<double>(ok_at_end) / seconds);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"smppd gRPC load client"};
  app.add_option("--target", o.target, "host:port of the grpc listener");
  app.add_option("--mode", o.mode, "stream, unary or rate")->check(CLI::IsMember({"stream", "unary", "rate"}));
  app.add_option("--auth", o.auth, "system_id:password");
  app.add_option("--seconds", o.seconds, "how long to send");
  app.add_option("--window", o.window, "stream: messages in flight");
  app.add_option("--concurrency", o.concurrency, "unary: calls at once");
  app.add_option("--rate", o.rate, "rate: messages a second");
  CLI11_PARSE(app, argc, argv);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Messaging::NewStub(channel);
  if (o.mode == "unary") {
    unary(*stub, o);
    return 0;
  }
  Stream s(*stub, o, o.mode == "rate");
  s.run();
  return 0;
}
