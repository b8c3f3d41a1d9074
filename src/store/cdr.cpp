#include "store/cdr.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "core/log.hpp"
#include "core/utf8.hpp"

namespace smppd::store {

namespace {

using namespace std::chrono;

void append_json_string(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  utf8::append_replacing_invalid(text, out, [](char c, std::string& o) {
    switch (c) {
      case '"':
        o.append("\\\"");
        break;
      case '\\':
        o.append("\\\\");
        break;
      case '\n':
        o.append("\\n");
        break;
      case '\r':
        o.append("\\r");
        break;
      case '\t':
        o.append("\\t");
        break;
      default:
        if (const auto u = static_cast<unsigned char>(c); u < 0x20 || u == 0x7f) {
          const char escaped[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xf]};
          o.append(escaped, sizeof escaped);
        } else {
          o.push_back(c);
        }
    }
  });
  out.push_back('"');
}

// A string, or null when empty.
void append_json_optional(std::string_view text, std::string& out) {
  if (text.empty()) {
    out.append("null");
  } else {
    append_json_string(text, out);
  }
}

template <class T>
void append_number(T value, std::string& out) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  out.append(text, end);
}

void append_time(int64_t ms, std::string& out) {
  append_instant(UtcMillis(milliseconds(ms)), true, out);
}

void append_json_time(int64_t ms, std::string& out) {
  if (ms == 0) {
    out.append("null");
    return;
  }
  out.push_back('"');
  append_time(ms, out);
  out.push_back('"');
}

void append_csv_field(std::string_view text, std::string& out) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos;
  if (quote) out.push_back('"');
  utf8::append_replacing_invalid(text, out, [](char c, std::string& o) {
    if (c == '"') o.push_back('"');
    o.push_back(c);
  });
  if (quote) out.push_back('"');
}

// "cdr-20261207T100000.123Z": ISO 8601's basic form, which sorts as it reads and holds no ':'.
std::string file_stem(UtcMillis t) {
  std::string text = "cdr-";
  std::string iso;
  append_instant(t, true, iso);
  for (char c : iso) {
    if (c != '-' && c != ':') text.push_back(c);
  }
  return text;
}

constexpr std::size_t kFlushBytes = 64 * 1024;  // a write(2) once this much is formatted

}  // namespace

void format_cdr_json(const CdrRecord& r, std::string& out) {
  out.append("{\"message_id\":");
  append_json_string(r.message_id, out);
  out.append(",\"client_ref\":");
  append_json_optional(r.client_ref, out);
  out.append(",\"smsc_id\":");
  append_json_optional(r.smsc_id, out);
  out.append(",\"client\":");
  append_json_string(r.client, out);
  out.append(",\"upstream\":");
  append_json_string(r.upstream, out);
  if (!r.upstream_tags.empty()) {
    out.append(",\"upstream_tags\":{");
    bool first = true;
    for (const auto& [key, value] : r.upstream_tags) {
      if (!first) out.push_back(',');
      first = false;
      append_json_string(key, out);
      out.push_back(':');
      append_json_string(value, out);
    }
    out.push_back('}');
  }
  out.append(",\"route\":");
  append_json_string(r.route, out);
  out.append(",\"source\":");
  append_json_string(r.source, out);
  out.append(",\"destination\":");
  append_json_string(r.destination, out);
  out.append(",\"parts\":");
  append_number(r.parts, out);
  out.append(",\"data_coding\":");
  append_number(static_cast<unsigned>(r.data_coding), out);
  out.append(",\"submit_at\":");
  append_json_time(r.submit_at_ms, out);
  out.append(",\"done_at\":");
  append_json_time(r.done_at_ms, out);
  out.append(",\"state\":");
  append_json_string(r.state, out);
  out.append(",\"error\":");
  append_number(r.error, out);
  out.append("}\n");
}

std::string_view cdr_csv_header() {
  return "message_id,client_ref,smsc_id,client,upstream,route,source,destination,parts,"
         "data_coding,submit_at,done_at,state,error,upstream_tags\r\n";
}

void format_cdr_csv(const CdrRecord& r, std::string& out) {
  for (std::string_view field :
       {std::string_view(r.message_id), std::string_view(r.client_ref), std::string_view(r.smsc_id),
        std::string_view(r.client), std::string_view(r.upstream), std::string_view(r.route),
        std::string_view(r.source), std::string_view(r.destination)}) {
    append_csv_field(field, out);
    out.push_back(',');
  }
  append_number(r.parts, out);
  out.push_back(',');
  append_number(static_cast<unsigned>(r.data_coding), out);
  out.push_back(',');
  if (r.submit_at_ms != 0) append_time(r.submit_at_ms, out);
  out.push_back(',');
  if (r.done_at_ms != 0) append_time(r.done_at_ms, out);
  out.push_back(',');
  append_csv_field(r.state, out);
  out.push_back(',');
  append_number(r.error, out);
  out.push_back(',');
  std::string tags;
  for (const auto& [key, value] : r.upstream_tags) {
    if (!tags.empty()) tags.push_back(';');
    tags += key;
    tags.push_back('=');
    tags += value;
  }
  append_csv_field(tags, out);
  out.append("\r\n");
}

void format_cdr(config::CdrFormat format, const CdrRecord& record, std::string& out) {
  if (format == config::CdrFormat::csv) {
    format_cdr_csv(record, out);
  } else {
    format_cdr_json(record, out);
  }
}

std::string_view cdr_file_extension(config::CdrFormat format) {
  return format == config::CdrFormat::csv ? ".csv" : ".jsonl";
}

CdrWriterOptions CdrWriterOptions::from_config(const config::StorageConfig& storage) {
  CdrWriterOptions o;
  o.folder = storage.cdr_path;
  o.format = storage.cdr_format;
  o.rotation_size = storage.cdr_rotation_size;
  o.rotation_time = storage.cdr_rotation_time;
  return o;
}

CdrWriter::CdrWriter(CdrWriterOptions options)
    : options_(std::move(options)),
      ring_(options_.buffer_records),
      drop_log_(log::Level::error, "CDRs dropped"),
      error_log_(log::Level::error, "CDR write errors") {
  thread_ = std::thread([this] { run(); });
}

CdrWriter::~CdrWriter() {
  stop();
}

bool CdrWriter::write(const CdrRecord& record) {
  if (stopping_.load(std::memory_order_acquire)) {
    const uint64_t dropped = dropped_.fetch_add(1, std::memory_order_relaxed) + 1;
    drop_log_("CDR writer for {} is stopped: CDR of message {} dropped ({} dropped in all)",
              options_.folder, record.message_id, dropped);
    return false;
  }
  if (!ring_.try_push([&](CdrRecord& slot) { slot = record; })) {
    const uint64_t dropped = dropped_.fetch_add(1, std::memory_order_relaxed) + 1;
    drop_log_(
        "CDR buffer full ({} records not yet written to {}): CDR of message {} dropped ({} "
        "dropped in all)",
        ring_.capacity(), options_.folder, record.message_id, dropped);
    return false;
  }
  // Pairs with the fence in wait_until(): either the writer's thread sees this record before it
  // sleeps, or this sees it asleep and wakes it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_relaxed)) {
    {
      std::lock_guard lock(wake_mutex_);
      woken_ = true;
    }
    wake_.notify_one();
  }
  return true;
}

void CdrWriter::stop() {
  std::lock_guard guard(stop_mutex_);
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(wake_mutex_);
    stopping_.store(true, std::memory_order_release);
    woken_ = true;
  }
  wake_.notify_one();
  thread_.join();
  // Records of a write() that raced with stop().
  for (; ring_.front() != nullptr; ring_.pop()) dropped_.fetch_add(1, std::memory_order_relaxed);
}

CdrWriterStats CdrWriter::stats() const {
  return {written_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
          errors_.load(std::memory_order_relaxed), files_.load(std::memory_order_relaxed)};
}

void CdrWriter::take(const CdrRecord& record) {
  if (out_.empty()) first_unflushed_at_ = Clock::now();
  const std::size_t before = out_.size();
  if (!file_started_) {
    file_started_ = true;
    file_bytes_ = 0;
    if (options_.format == config::CdrFormat::csv) out_.append(cdr_csv_header());
  }
  format_cdr(options_.format, record, out_);
  file_bytes_ += out_.size() - before;
  ++records_in_out_;
  if (options_.rotation_size != 0 && file_bytes_ >= options_.rotation_size) rotate_ = true;
}

void CdrWriter::fail(const char* what, int error) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  failing_ = true;
  ++failures_;
  retry_at_ = Clock::now() + options_.retry_interval;
  error_log_(
      "CDR file {}: cannot {}: {}; {} CDR(s) ({} bytes) held in memory and tried again every {} "
      "ms (past {} bytes new CDRs are dropped)",
      path_, what, std::strerror(error), records_in_out_, out_.size(),
      options_.retry_interval.count(), options_.max_unwritten_bytes);
}

bool CdrWriter::open_file() {
  UtcMillis name_time =
      std::max(floor<milliseconds>(system_clock::now()), last_name_time_ + milliseconds(1));
  const std::filesystem::path folder(options_.folder);
  for (int tries = 0;; ++tries) {
    path_ = (folder / (file_stem(name_time) + std::string(cdr_file_extension(options_.format))))
                .string();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ >= 0) break;
    // A name taken (by a file of an earlier run, or a clock set back): the next millisecond.
    if (errno == EEXIST && tries < 1000) {
      name_time += milliseconds(1);
      continue;
    }
    fail("create it", errno);
    return false;
  }
  last_name_time_ = name_time;
  opened_at_ = Clock::now();
  file_written_ = 0;
  files_.fetch_add(1, std::memory_order_relaxed);
  log::debug("CDR file {} opened", path_);
  return true;
}

bool CdrWriter::flush() {
  if (fd_ < 0 && !open_file()) return false;
  std::size_t done = 0;
  while (done < out_.size()) {
    const ssize_t n = ::write(fd_, out_.data() + done, out_.size() - done);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    const int error = errno;
    // Take back the part written, so that the file holds whole records only and the retry
    // writes them whole; if the file cannot be cut, keep only what is not in it yet.
    if (done > 0) {
      if (::ftruncate(fd_, static_cast<off_t>(file_written_)) != 0) {
        out_.erase(0, done);
        file_written_ += done;
      }
    }
    fail("write to it", error);
    return false;
  }
  file_written_ += done;
  written_.fetch_add(records_in_out_, std::memory_order_relaxed);
  records_in_out_ = 0;
  out_.clear();
  if (failing_) {
    log::info("CDR file {}: writing again after {} failed tries", path_, failures_);
    failing_ = false;
    failures_ = 0;
  }
  return true;
}

void CdrWriter::close_file() {
  if (fd_ >= 0) {
    // CDRs are billing records: a closed file is on disk, not only in the page cache.
    if (::fsync(fd_) != 0) {
      log::warn("CDR file {}: fsync: {}", path_, std::strerror(errno));
    }
    ::close(fd_);
    log::debug("CDR file {} closed ({} bytes)", path_, file_written_);
  }
  fd_ = -1;
  file_started_ = false;
  rotate_ = false;
  file_bytes_ = 0;
}

void CdrWriter::wait_until(Clock::time_point deadline, bool want_records) {
  std::unique_lock lock(wake_mutex_);
  if (want_records) {
    sleeping_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (ring_.front() != nullptr) {
      sleeping_.store(false, std::memory_order_relaxed);
      return;
    }
  }
  wake_.wait_until(lock, deadline,
                   [this] { return woken_ || stopping_.load(std::memory_order_relaxed); });
  woken_ = false;
  sleeping_.store(false, std::memory_order_relaxed);
}

void CdrWriter::run() {
  for (;;) {
    const bool stopping = stopping_.load(std::memory_order_acquire);
    while (!rotate_ && out_.size() < options_.max_unwritten_bytes) {
      const CdrRecord* record = ring_.front();
      if (record == nullptr) break;
      take(*record);
      ring_.pop();
    }
    auto now = Clock::now();
    const bool may_try = !failing_ || now >= retry_at_ || stopping;
    // Open the file with its first record, so that its name is the time of that record.
    bool open_failed = false;
    if (file_started_ && fd_ < 0 && may_try) open_failed = !open_file();
    if (fd_ >= 0 && !rotate_ && options_.rotation_time.count() > 0 &&
        now - opened_at_ >= options_.rotation_time)
      rotate_ = true;
    // While failing, each try is a flush: what is held is late already.
    const bool flush_due =
        !out_.empty() && (failing_ || rotate_ || stopping ||
                          out_.size() >= std::min(kFlushBytes, options_.max_unwritten_bytes) ||
                          now - first_unflushed_at_ >= options_.flush_interval);
    bool flushed = !open_failed;
    if (flush_due && flushed && may_try) flushed = flush();
    if (rotate_ && out_.empty()) close_file();

    const bool more = ring_.front() != nullptr;
    if (stopping) {
      if (out_.empty() && !more) break;
      if (!flushed) {
        uint64_t lost = records_in_out_;
        for (; ring_.front() != nullptr; ring_.pop()) ++lost;
        dropped_.fetch_add(lost, std::memory_order_relaxed);
        log::error("CDR writer stopping: {} CDR(s) could not be written to {} and are lost", lost,
                   path_.empty() ? options_.folder : path_);
        break;
      }
      continue;
    }

    const bool want_records = !rotate_ && out_.size() < options_.max_unwritten_bytes;
    if (want_records && more) continue;
    now = Clock::now();
    Clock::time_point deadline = now + std::chrono::hours(1);
    if (!out_.empty()) {
      deadline =
          std::min(deadline, failing_ ? retry_at_ : first_unflushed_at_ + options_.flush_interval);
    }
    if (fd_ >= 0 && !rotate_ && options_.rotation_time.count() > 0)
      deadline = std::min(deadline, opened_at_ + options_.rotation_time);
    wait_until(deadline, want_records);
  }
  close_file();
}

}  // namespace smppd::store
