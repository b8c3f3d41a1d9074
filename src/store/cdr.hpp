// Call detail records: one line per message whose outcome became final, in JSON (one object a
// line) or CSV (RFC 4180, a header at the top of each file). The formatters serve both the
// CdrWriter (files written by the running daemon) and `smppd cdr export` (from the database),
// so the two always agree.
//
// CdrWriter takes records from any thread and never waits for the disk: write() copies the
// record into a bounded lock-free ring and returns; the writer's own thread formats and writes
// them to files under one folder, named for the instant each was opened
// (cdr-20261207T100000.123Z.jsonl / .csv) and closed (a new one opened with the next record)
// once a file reaches rotation_size bytes or has been open rotation_time. When the ring is full
// the record is dropped, counted and said in the log (once per 10 s). When the folder or the
// disk refuses to write, the error is logged with the path and counted; what could not be
// written is kept (up to max_unwritten_bytes, after which the ring fills and new records are
// dropped) and tried again every retry_interval, so writing resumes by itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/instant.hpp"
#include "core/log_aggregate.hpp"
#include "core/mpsc_ring.hpp"

namespace smppd::store {

// An upstream's tags (upstreams[].tags: cost_per_sms, region...), in the configuration's order.
using UpstreamTags = std::vector<std::pair<std::string, std::string>>;
// Fills `out` with the tags of `upstream` as configured now (cleared first; none: empty).
using UpstreamTagsLookup = std::function<void(std::string_view upstream, UpstreamTags& out)>;

struct CdrRecord {
  std::string message_id;  // smppd's id as the client was given it (3.3: 8 base-62 characters)
  std::string client_ref;  // the client's own reference (HTTP/gRPC); empty when none
  std::string smsc_id;     // the SMSC's id; empty when no SMSC took the message
  std::string client;      // the client's system_id
  std::string upstream;    // where it was routed (or last sent)
  std::string route;
  std::string source;       // source_addr
  std::string destination;  // destination_addr
  uint32_t parts = 1;       // 1, or the number of parts of a long message
  uint8_t data_coding = 0;
  int64_t submit_at_ms = 0;  // when smppd accepted the client's request; ms since the epoch, UTC
  int64_t done_at_ms = 0;    // when its outcome became final; 0 in either: unknown
  std::string state;         // store::state_name() of its final MessageState
  uint32_t error = 0;        // the SMPP command_status of a refusal, or the receipt's err; 0 none
  // The upstream's tags when the CDR was written: JSON "upstream_tags":{"k":"v"} (left out when
  // there are none); CSV the last column, "k=v;k=v".
  UpstreamTags upstream_tags;
};

// Appends one line (ending in '\n') holding one JSON object: strings escaped (quotes,
// backslashes, control characters; UTF-8 passed as it is, a byte that is not valid UTF-8
// becomes U+FFFD), times "2026-12-07T10:00:00.123Z", absent ids and times null.
void format_cdr_json(const CdrRecord& record, std::string& out);
// Appends one CSV record (ending in "\r\n"): a field holding a comma, a quote, CR or LF is
// quoted, its quotes doubled (RFC 4180); times as in JSON, absent ones empty.
void format_cdr_csv(const CdrRecord& record, std::string& out);
// The CSV header line, "message_id,client_ref,...\r\n".
std::string_view cdr_csv_header();
void format_cdr(config::CdrFormat format, const CdrRecord& record, std::string& out);
// ".jsonl" or ".csv".
std::string_view cdr_file_extension(config::CdrFormat format);

struct CdrWriterOptions {
  std::string folder;
  config::CdrFormat format = config::CdrFormat::json;
  uint64_t rotation_size = 100ull * 1024 * 1024;
  std::chrono::milliseconds rotation_time{std::chrono::hours(1)};
  // Records waiting for the writer's thread (rounded up to a power of two). A slot is about
  // 330 bytes plus the strings that do not fit in it: 16,384 slots are about 5.5 MiB.
  std::size_t buffer_records = 16384;
  // Formatted bytes the writer's thread holds that are not written yet (while the disk refuses
  // them, beyond this it stops taking records from the ring).
  std::size_t max_unwritten_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds flush_interval{1000};  // the longest a record waits in memory
  std::chrono::milliseconds retry_interval{1000};  // after a failed open or write

  // folder, format and rotation from the `storage.cdr` section.
  static CdrWriterOptions from_config(const config::StorageConfig& storage);
};

struct CdrWriterStats {
  uint64_t written = 0;  // records handed to the operating system (in a file)
  uint64_t dropped = 0;  // records lost: the ring was full, the writer stopped, or stop() could
                         // not write them
  uint64_t errors = 0;   // failed opens and writes (each try counted)
  uint64_t files = 0;    // files opened
};

class CdrWriter {
 public:
  // Starts the writer's thread. Opens no file until the first record.
  explicit CdrWriter(CdrWriterOptions options);
  // stop().
  ~CdrWriter();
  CdrWriter(const CdrWriter&) = delete;
  CdrWriter& operator=(const CdrWriter&) = delete;

  // Thread safe, never blocks on I/O nor waits for the writer's thread: copies the record into
  // the ring (the slot's strings keep their capacity, so steady traffic allocates nothing) and
  // returns true, or counts it as dropped and returns false when the ring is full or the writer
  // is stopped.
  bool write(const CdrRecord& record);

  // Writes what is taken (one more try when writing fails; what still cannot be written is
  // counted as dropped and said in the log), closes the file and joins the thread. Idempotent.
  // Records written after stop() are dropped.
  void stop();

  CdrWriterStats stats() const;
  const CdrWriterOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  void take(const CdrRecord& record);
  bool flush();
  bool open_file();
  void close_file();
  void fail(const char* what, int error);
  void wait_until(Clock::time_point deadline, bool want_records);

  const CdrWriterOptions options_;
  MpscRing<CdrRecord> ring_;  // consumed by the writer's thread only

  std::atomic<bool> stopping_{false};
  std::atomic<bool> sleeping_{false};  // the writer's thread waits for records
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool woken_ = false;  // under wake_mutex_

  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> files_{0};
  log::Aggregated drop_log_;
  log::Aggregated error_log_;

  // The writer's thread only.
  int fd_ = -1;
  std::string path_;
  Clock::time_point opened_at_{};
  UtcMillis last_name_time_{};
  uint64_t file_bytes_ = 0;    // written and formatted for the current file
  uint64_t file_written_ = 0;  // written to it
  bool file_started_ = false;  // records (or the CSV header) are formatted for a file
  bool rotate_ = false;        // close the file once `out_` is written
  std::string out_;            // formatted, not written yet
  uint64_t records_in_out_ = 0;
  Clock::time_point first_unflushed_at_{};
  Clock::time_point retry_at_{};
  bool failing_ = false;
  uint64_t failures_ = 0;  // since the last success, for the line that says writing resumed

  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace smppd::store
