// CDR lines (JSON and CSV) and the CdrWriter: files, rotation, a folder it cannot write, a full
// disk, a full buffer. Real files in a temporary folder.
#include "store/cdr.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace smppd::store {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

CdrRecord sample() {
  CdrRecord r;
  r.message_id = "0000000004d2";
  r.client_ref = "order-17";
  r.smsc_id = "a1b2c3";
  r.client = "client-a";
  r.upstream = "carrier-a";
  r.route = "mozambique";
  r.source = "ACME";
  r.destination = "+258841234567";
  r.parts = 2;
  r.data_coding = 8;
  r.submit_at_ms = 1796637600123;  // 2026-12-07T10:00:00.123Z
  r.done_at_ms = 1796637605004;    // 2026-12-07T10:00:05.004Z
  r.state = "delivered";
  r.error = 0;
  return r;
}

std::string json(const CdrRecord& r) {
  std::string out;
  format_cdr_json(r, out);
  return out;
}

std::string csv(const CdrRecord& r) {
  std::string out;
  format_cdr_csv(r, out);
  return out;
}

TEST(CdrFormat, JsonLine) {
  EXPECT_EQ(json(sample()),
            R"({"message_id":"0000000004d2","client_ref":"order-17","smsc_id":"a1b2c3",)"
            R"("client":"client-a","upstream":"carrier-a","route":"mozambique","source":"ACME",)"
            R"("destination":"+258841234567","parts":2,"data_coding":8,)"
            R"("submit_at":"2026-12-07T10:00:00.123Z","done_at":"2026-12-07T10:00:05.004Z",)"
            R"("state":"delivered","error":0})"
            "\n");
}

TEST(CdrFormat, JsonAbsentIdsAndTimesAreNull) {
  CdrRecord r = sample();
  r.client_ref.clear();
  r.smsc_id.clear();
  r.submit_at_ms = 0;
  r.state = "rejected";
  r.error = 0x45;
  const std::string line = json(r);
  EXPECT_NE(line.find(R"("client_ref":null,"smsc_id":null,)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("submit_at":null,"done_at":"2026-12-07T10:00:05.004Z")"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(R"("state":"rejected","error":69})"), std::string::npos) << line;
}

TEST(CdrFormat, JsonEscapesWhatAPeerMaySend) {
  CdrRecord r = sample();
  // An alphanumeric source or a client reference may hold anything.
  r.source = std::string("a\"b\\c\nd\re\tf\x01g\x1f") + "h\x7f";
  r.client_ref = "Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80";  // UTF-8 passes as it is
  r.smsc_id = "x\xFFy\xC3z\xED\xA0\x80!";  // not UTF-8: each bad byte becomes U+FFFD
  const std::string line = json(r);
  EXPECT_NE(line.find(R"("source":"a\"b\\c\nd\re\tf\u0001g\u001fh\u007f")"), std::string::npos)
      << line;
  EXPECT_NE(line.find("\"client_ref\":\"Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"smsc_id\":\"x\xEF\xBF\xBDy\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF"
                      "\xBD!\""),
            std::string::npos)
      << line;
  // One line: the only newline is the last character, and no raw control character is left.
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_TRUE(std::none_of(line.begin(), line.end() - 1, [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  }));
}

TEST(CdrFormat, CsvHeaderAndRecord) {
  EXPECT_EQ(cdr_csv_header(),
            "message_id,client_ref,smsc_id,client,upstream,route,source,destination,parts,"
            "data_coding,submit_at,done_at,state,error,upstream_tags\r\n");
  EXPECT_EQ(csv(sample()),
            "0000000004d2,order-17,a1b2c3,client-a,carrier-a,mozambique,ACME,+258841234567,2,8,"
            "2026-12-07T10:00:00.123Z,2026-12-07T10:00:05.004Z,delivered,0,\r\n");
}

TEST(CdrFormat, UpstreamTagsInJsonAndCsv) {
  CdrRecord r = sample();
  r.upstream_tags = {{"cost_per_sms", "0.012"}, {"region", "a\"b"}};
  EXPECT_NE(json(r).find(R"("upstream":"carrier-a","upstream_tags":{"cost_per_sms":"0.012",)"
                         R"("region":"a\"b"},"route":)"),
            std::string::npos)
      << json(r);
  EXPECT_NE(csv(r).find(",delivered,0,\"cost_per_sms=0.012;region=a\"\"b\"\r\n"),
            std::string::npos)
      << csv(r);
  // None: no key in JSON, an empty last column in CSV.
  r.upstream_tags.clear();
  EXPECT_EQ(json(r).find("upstream_tags"), std::string::npos);
  EXPECT_NE(csv(r).find(",delivered,0,\r\n"), std::string::npos);
}

TEST(CdrFormat, CsvQuotesPerRfc4180) {
  CdrRecord r = sample();
  r.client_ref = "a,b";
  r.smsc_id = "say \"hi\"";
  r.source = "line1\r\nline2";
  r.route = "plain";
  r.client = "new\nline";
  r.submit_at_ms = 0;
  r.destination = "Zo\xC3\xAB\xFF";
  EXPECT_EQ(
      csv(r),
      "0000000004d2,\"a,b\",\"say \"\"hi\"\"\",\"new\nline\",carrier-a,plain,"
      "\"line1\r\nline2\",Zo\xC3\xAB\xEF\xBF\xBD,2,8,,2026-12-07T10:00:05.004Z,delivered,0,\r\n");
}

TEST(CdrFormat, FileExtensions) {
  EXPECT_EQ(cdr_file_extension(config::CdrFormat::json), ".jsonl");
  EXPECT_EQ(cdr_file_extension(config::CdrFormat::csv), ".csv");
}

TEST(CdrFormat, OptionsFromConfig) {
  config::StorageConfig s;
  s.cdr_path = "/data/cdr";
  s.cdr_format = config::CdrFormat::csv;
  s.cdr_rotation_size = 12345;
  s.cdr_rotation_time = 30min;
  const auto o = CdrWriterOptions::from_config(s);
  EXPECT_EQ(o.folder, "/data/cdr");
  EXPECT_EQ(o.format, config::CdrFormat::csv);
  EXPECT_EQ(o.rotation_size, 12345u);
  EXPECT_EQ(o.rotation_time, 30min);
}

// ---- the writer ----

// The log as text; read while the writer's thread may be logging.
class CapturedLog : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    text_.append(line.data(), line.size());
  }
  void flush_() override {}

 private:
  std::string text_;
};

class CdrWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("smppd-cdr-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_ = std::make_shared<CapturedLog>();
    log_->set_pattern("%l %v");
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("cdr-test", log_));
  }
  void TearDown() override {
    spdlog::set_default_logger(previous_);
    if (!mounted_.empty()) ::umount2(mounted_.c_str(), MNT_DETACH);
    fs::remove_all(dir_);
  }

  CdrWriterOptions options(const fs::path& folder) {
    CdrWriterOptions o;
    o.folder = folder.string();
    o.retry_interval = 50ms;
    return o;
  }

  static CdrRecord record(int n) {
    CdrRecord r = sample();
    r.message_id = "m" + std::to_string(n);
    return r;
  }

  // The files of a folder, oldest first (their names sort as their times).
  static std::vector<fs::path> files(const fs::path& folder) {
    std::vector<fs::path> v;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(folder, ec)) v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
  }

  static std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static std::vector<std::string> lines(const fs::path& file) {
    std::vector<std::string> v;
    std::istringstream in(read(file));
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }

  // The message ids in the JSON lines of every file, in file order.
  static std::vector<std::string> ids(const fs::path& folder) {
    static const std::regex id(R"re("message_id":"([^"]*)")re");
    std::vector<std::string> v;
    for (const auto& f : files(folder)) {
      for (const auto& l : lines(f)) {
        std::smatch m;
        if (std::regex_search(l, m, id)) v.push_back(m[1]);
      }
    }
    return v;
  }

  // Polls `done` until it holds or `limit` passes.
  static bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  std::string log() const { return log_->text(); }

  fs::path dir_;
  std::string mounted_;
  std::shared_ptr<CapturedLog> log_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(CdrWriterTest, WritesJsonLinesFlushedWithinASecond) {
  CdrWriter writer(options(dir_));
  EXPECT_TRUE(files(dir_).empty()) << "no file before the first record";
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer.write(record(i)));
  // On disk without stop(): the writer flushes at least every second.
  ASSERT_TRUE(eventually([&] { return ids(dir_).size() == 3; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  EXPECT_EQ(writer.stats().written, 3u);
  writer.stop();
  const auto f = files(dir_);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(
      std::regex_match(f[0].filename().string(), std::regex(R"(cdr-\d{8}T\d{6}\.\d{3}Z\.jsonl)")))
      << f[0];
  EXPECT_EQ(ids(dir_), (std::vector<std::string>{"m0", "m1", "m2"}));
  EXPECT_EQ(lines(f[0])[0], json(record(0)).substr(0, json(record(0)).size() - 1));
  const auto s = writer.stats();
  EXPECT_EQ(s.written, 3u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(s.files, 1u);
}

TEST_F(CdrWriterTest, RotatesBySize) {
  auto o = options(dir_);
  const std::size_t line = json(record(10)).size();
  o.rotation_size = 2 * line + 1;  // a file is closed once its third record is in
  CdrWriter writer(o);
  for (int i = 10; i < 40; ++i) ASSERT_TRUE(writer.write(record(i)));
  writer.stop();
  const auto f = files(dir_);
  ASSERT_EQ(f.size(), 10u);
  for (const auto& file : f) {
    EXPECT_EQ(fs::file_size(file), 3 * line) << file;
    EXPECT_TRUE(
        std::regex_match(file.filename().string(), std::regex(R"(cdr-\d{8}T\d{6}\.\d{3}Z\.jsonl)")))
        << file;
  }
  std::vector<std::string> expected;
  for (int i = 10; i < 40; ++i) expected.push_back("m" + std::to_string(i));
  EXPECT_EQ(ids(dir_), expected) << "every record, in order, across the files";
  EXPECT_EQ(writer.stats().files, 10u);
}

TEST_F(CdrWriterTest, CsvFilesEachStartWithTheHeader) {
  auto o = options(dir_);
  o.format = config::CdrFormat::csv;
  o.rotation_size = 300;
  CdrWriter writer(o);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(writer.write(record(i)));
  writer.stop();
  const auto f = files(dir_);
  ASSERT_EQ(f.size(), 2u);
  for (int k = 0; k < 2; ++k) {
    EXPECT_TRUE(
        std::regex_match(f[k].filename().string(), std::regex(R"(cdr-\d{8}T\d{6}\.\d{3}Z\.csv)")));
    EXPECT_EQ(read(f[k]),
              std::string(cdr_csv_header()) + csv(record(2 * k)) + csv(record(2 * k + 1)));
  }
}

TEST_F(CdrWriterTest, RotatesByTime) {
  auto o = options(dir_);
  o.rotation_time = 200ms;
  CdrWriter writer(o);
  // A record every 20 ms until the second file appears.
  int n = 0;
  ASSERT_TRUE(eventually(
      [&] {
        writer.write(record(n++));
        std::this_thread::sleep_for(20ms);
        return files(dir_).size() >= 2;
      },
      10s));
  writer.stop();
  const auto f = files(dir_);
  ASSERT_GE(f.size(), 2u);
  // Each file was open about rotation_time: its name's time is at least that after the last.
  const auto name_time = [](const fs::path& p) {
    const std::string s = p.filename().string();  // cdr-20261207T100000.123Z.jsonl
    const int h = std::stoi(s.substr(13, 2)), m = std::stoi(s.substr(15, 2)),
              sec = std::stoi(s.substr(17, 2)), ms = std::stoi(s.substr(20, 3));
    return ((h * 60 + m) * 60 + sec) * 1000 + ms;
  };
  for (std::size_t i = 1; i < f.size(); ++i) {
    EXPECT_GE((name_time(f[i]) - name_time(f[i - 1]) + 86400000) % 86400000, 200)
        << f[i - 1] << " " << f[i];
  }
  std::vector<std::string> expected;
  for (int i = 0; i < n; ++i) expected.push_back("m" + std::to_string(i));
  EXPECT_EQ(ids(dir_), expected);
  for (const auto& file : f) EXPECT_GT(fs::file_size(file), 0u) << "no empty file: " << file;
}

TEST_F(CdrWriterTest, AFolderItCannotWriteIsLoggedAndCounted) {
  // A folder under a regular file cannot be written by anyone, root included.
  std::ofstream(dir_ / "plain-file") << "x";
  const fs::path folder = dir_ / "plain-file" / "cdr";
  CdrWriter writer(options(folder));
  EXPECT_TRUE(writer.write(record(1)));
  EXPECT_TRUE(writer.write(record(2)));
  ASSERT_TRUE(eventually([&] { return writer.stats().errors >= 2; }));  // tried again
  writer.stop();
  const auto s = writer.stats();
  EXPECT_EQ(s.written, 0u);
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(s.files, 0u);
  const std::string text = log();
  EXPECT_NE(text.find("error CDR file " + folder.string() + "/cdr-"), std::string::npos) << text;
  EXPECT_NE(text.find("cannot create it: Not a directory"), std::string::npos) << text;
  EXPECT_NE(text.find("2 CDR(s) could not be written"), std::string::npos) << text;
}

TEST_F(CdrWriterTest, WritingResumesWhenTheFolderAppears) {
  const fs::path folder = dir_ / "later";
  CdrWriter writer(options(folder));
  ASSERT_TRUE(writer.write(record(1)));
  ASSERT_TRUE(writer.write(record(2)));
  ASSERT_TRUE(eventually([&] { return writer.stats().errors >= 1; }));
  EXPECT_NE(log().find("No such file or directory"), std::string::npos) << log();
  fs::create_directories(folder);
  ASSERT_TRUE(eventually([&] { return writer.stats().written == 2; }));
  ASSERT_TRUE(writer.write(record(3)));
  writer.stop();
  EXPECT_EQ(ids(folder), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(writer.stats().dropped, 0u);
  EXPECT_NE(log().find("writing again after"), std::string::npos) << log();
}

TEST_F(CdrWriterTest, AFullBufferDropsAndNeverBlocks) {
  // The writer's thread cannot write (and holds one record at most): the ring fills.
  std::ofstream(dir_ / "plain-file") << "x";
  auto o = options(dir_ / "plain-file" / "cdr");
  o.buffer_records = 4;
  o.max_unwritten_bytes = 1;
  o.retry_interval = 1h;
  CdrWriter writer(o);
  int accepted = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) accepted += writer.write(record(i)) ? 1 : 0;
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 2s) << "write() waits for nothing";
  EXPECT_LE(accepted, 5);
  EXPECT_GE(accepted, 4);
  EXPECT_EQ(writer.stats().dropped, static_cast<uint64_t>(10000 - accepted));
  // Said once, not 10,000 times (log::Aggregated: one line per 10 s with the count).
  const std::string text = log();
  std::size_t said = 0;
  for (std::size_t at = text.find("CDR buffer full"); at != std::string::npos;
       at = text.find("CDR buffer full", at + 1))
    ++said;
  EXPECT_EQ(said, 1u) << text;
  EXPECT_NE(text.find("CDR buffer full (4 records not yet written to " + o.folder +
                      "): CDR of message m"),
            std::string::npos)
      << text;
  writer.stop();
  EXPECT_EQ(writer.stats().dropped, 10000u);
  EXPECT_FALSE(writer.write(record(0))) << "stopped";
  EXPECT_EQ(writer.stats().dropped, 10001u);
}

TEST_F(CdrWriterTest, ManyThreadsWriteEveryRecordOnce) {
  auto o = options(dir_);
  o.buffer_records = 1 << 16;
  o.rotation_size = 64 * 1024;
  CdrWriter writer(o);
  constexpr int kThreads = 4, kEach = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) writer.write(record(t * kEach + i));
    });
  }
  for (auto& t : threads) t.join();
  writer.stop();
  auto got = ids(dir_);
  EXPECT_EQ(writer.stats().written + writer.stats().dropped,
            static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(got.size(), writer.stats().written);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "no record twice";
  EXPECT_GT(writer.stats().files, 1u);
}

TEST_F(CdrWriterTest, ADiskFullKeepsWholeLinesAndResumes) {
  // A small tmpfs, most of it taken by a ballast file; needs the right to mount (root).
  const fs::path mount = dir_ / "small";
  fs::create_directories(mount);
  if (::mount("tmpfs", mount.c_str(), "tmpfs", 0, "size=256k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "): the disk-full case needs root";
  }
  mounted_ = mount.string();
  {
    std::ofstream ballast(mount / "ballast", std::ios::binary);
    const std::string block(4096, 'b');
    for (int i = 0; i < 200 * 1024 / 4096; ++i) ballast << block;
  }
  const fs::path folder = mount / "cdr";
  fs::create_directories(folder);
  auto o = options(folder);
  o.flush_interval = 20ms;
  CdrWriter writer(o);
  constexpr int kRecords = 400;  // about 100 KB; about 56 KB are free
  for (int i = 0; i < kRecords; ++i) ASSERT_TRUE(writer.write(record(i)));
  ASSERT_TRUE(eventually([&] { return writer.stats().errors >= 1; }));
  EXPECT_NE(log().find("No space left on device"), std::string::npos) << log();
  // What is on disk meanwhile is whole lines only.
  for (const auto& f : files(folder)) {
    const std::string text = read(f);
    EXPECT_TRUE(text.empty() || text.back() == '\n') << f;
  }
  EXPECT_LT(writer.stats().written, static_cast<uint64_t>(kRecords));
  fs::remove(mount / "ballast");
  ASSERT_TRUE(eventually([&] { return writer.stats().written == kRecords; }));
  writer.stop();
  std::vector<std::string> expected;
  for (int i = 0; i < kRecords; ++i) expected.push_back("m" + std::to_string(i));
  EXPECT_EQ(ids(folder), expected);
  EXPECT_EQ(writer.stats().dropped, 0u);
}

}  // namespace
}  // namespace smppd::store
