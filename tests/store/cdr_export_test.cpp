// `smppd cdr export`: the CDRs of a period from a real SQLite file made with the store's schema,
// through export_cdrs() and through the smppd command line.
#include "store/cdr_export.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/instant.hpp"
#include "store/cdr.hpp"
#include "store/schema.hpp"

namespace smppd::store {
namespace {

namespace fs = std::filesystem;

int64_t ms(const char* iso) {
  auto t = parse_instant(iso);
  EXPECT_TRUE(t) << iso;
  return t ? t->time_since_epoch().count() : 0;
}

// What the CLI passes is gateway::render_message_id; here both arguments are made visible.
std::string render(uint64_t id, uint8_t version) {
  char text[32];
  std::snprintf(text, sizeof text, "%llu@%02x", static_cast<unsigned long long>(id), version);
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

class Db {
 public:
  explicit Db(const fs::path& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK); }
  ~Db() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "") << "\n"
        << sql;
    sqlite3_free(error);
  }
  // A message whose outcome became final at `done` (NULL: not final).
  void message(int64_t id, const char* client, int version, const char* done, int state,
               const char* error = "NULL", const char* client_ref = "NULL",
               const char* smsc_id = "'smsc-1'") {
    exec(
        "INSERT INTO messages (id, client, client_version, client_ref, command_id, accepted_at,"
        " registered_delivery, route, upstream, source, destination, data_coding, parts, pdu,"
        " state, submitted_at, smsc_id, done_at, error) VALUES (" +
        std::to_string(id) + ", '" + client + "', " + std::to_string(version) + ", " + client_ref +
        ", 4, " + std::to_string(ms("2025-12-01T00:00:00.000Z") - 1000) +
        ", 1, 'mz', 'carrier-a', 'ACME', '+258841234567', 0, 1, x'00', " + std::to_string(state) +
        ", NULL, " + smsc_id + ", " + (done ? std::to_string(ms(done)) : std::string("NULL")) +
        ", " + error + ")");
  }
  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class CdrExport : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("smppd-cdr-export-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    database_ = dir_ / "messages.db";
    Db db(database_);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec(kSchema);
    db.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
    db.message(4095, "alice", 0x34, "2025-11-30T23:59:59.999Z", 10);  // before the period
    db.message(4096, "alice", 0x34, "2025-12-01T00:00:00.000Z", 10);  // its first instant
    db.message(4098, "bob", 0x33, "2025-12-15T12:00:00.500Z", 13, "69", "'ref,\"1\"'", "NULL");
    db.message(4097, "alice", 0x50, "2025-12-15T12:00:00.500Z", 12);       // same done_at, lower id
    db.message(4099, "alice", 0x34, "2025-12-27T23:59:59.999Z", 11, "1");  // the last day, whole
    db.message(4100, "alice", 0x34, "2025-12-28T00:00:00.000Z", 10);       // after
    db.message(4101, "bob", 0x34, nullptr, 1);                             // not final
  }
  void TearDown() override { fs::remove_all(dir_); }

  CdrExportRequest request(const char* from = "2025-12-01", const char* to = "2025-12-27") {
    CdrExportRequest r;
    r.database = database_.string();
    r.from_ms = *parse_period_start(from);
    r.to_ms = *parse_period_end(to);
    return r;
  }

  CdrExportResult run(const CdrExportRequest& r, std::string& text) {
    std::ostringstream out;
    auto result = export_cdrs(r, render, out);
    text = out.str();
    return result;
  }

  fs::path dir_;
  fs::path database_;
};

TEST_F(CdrExport, ThePeriodInDoneOrderAsJson) {
  std::string text;
  const auto result = run(request(), text);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.records, 4u);
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 4u) << text;
  EXPECT_EQ(lines[0],
            R"({"message_id":"4096@34","client_ref":null,"smsc_id":"smsc-1","client":"alice",)"
            R"("upstream":"carrier-a","route":"mz","source":"ACME","destination":"+258841234567",)"
            R"("parts":1,"data_coding":0,"submit_at":"2025-11-30T23:59:59.000Z",)"
            R"("done_at":"2025-12-01T00:00:00.000Z","state":"delivered","error":0})");
  EXPECT_NE(lines[1].find(R"("message_id":"4097@50")"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(R"("state":"expired")"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(R"("message_id":"4098@33","client_ref":"ref,\"1\"","smsc_id":null,)"
                          R"("client":"bob")"),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[2].find(R"("done_at":"2025-12-15T12:00:00.500Z","state":"rejected","error":69})"),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find(R"("message_id":"4099@34")"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find(R"("state":"undeliverable","error":1})"), std::string::npos);
}

TEST_F(CdrExport, InstantsBoundThePeriodExactly) {
  std::string text;
  auto result =
      run(request("2025-12-15T12:00:00.500Z", "2025-12-27T23:59:59.999Z"), text);  // [from, to)
  ASSERT_TRUE(result.ok()) << result.message;
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 2u) << text;
  EXPECT_NE(lines[0].find("4097@50"), std::string::npos);
  EXPECT_NE(lines[1].find("4098@33"), std::string::npos);
}

TEST_F(CdrExport, OneClient) {
  auto r = request();
  r.client = "bob";
  std::string text;
  const auto result = run(r, text);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.records, 1u);
  ASSERT_EQ(lines_of(text).size(), 1u);
  EXPECT_NE(text.find("4098@33"), std::string::npos);
  r.client = "nobody";
  EXPECT_TRUE(run(r, text).ok());
  EXPECT_EQ(text, "");
}

TEST_F(CdrExport, Csv) {
  auto r = request();
  r.format = config::CdrFormat::csv;
  r.client = "bob";
  // The upstreams' tags as the configuration has them now.
  r.upstream_tags = [](std::string_view upstream, UpstreamTags& out) {
    if (upstream == "carrier-a") out = {{"cost_per_sms", "0.01"}, {"region", "mz"}};
  };
  std::string text;
  ASSERT_TRUE(run(r, text).ok());
  EXPECT_EQ(text,
            "message_id,client_ref,smsc_id,client,upstream,route,source,destination,parts,"
            "data_coding,submit_at,done_at,state,error,upstream_tags\r\n"
            "4098@33,\"ref,\"\"1\"\"\",,bob,carrier-a,mz,ACME,+258841234567,1,0,"
            "2025-11-30T23:59:59.000Z,2025-12-15T12:00:00.500Z,rejected,69,"
            "cost_per_sms=0.01;region=mz\r\n");
}

TEST_F(CdrExport, AnEmptyPeriod) {
  std::string text;
  auto result = run(request("2024-01-01", "2024-01-31"), text);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.records, 0u);
  EXPECT_EQ(text, "");
  auto r = request("2024-01-01", "2024-01-31");
  r.format = config::CdrFormat::csv;
  ASSERT_TRUE(run(r, text).ok());
  EXPECT_EQ(text, cdr_csv_header()) << "a CSV file has its header, rows or not";
}

TEST_F(CdrExport, ReadsBesideAWriterInWalMode) {
  // A running smppd: its last commits still in the WAL, a write transaction open.
  Db writer(database_);
  writer.exec("PRAGMA wal_autocheckpoint=0");
  writer.message(5000, "carol", 0x34, "2025-12-20T00:00:00.000Z", 10);  // committed, in the WAL
  writer.exec("BEGIN IMMEDIATE");
  writer.message(5001, "carol", 0x34, "2025-12-20T00:00:01.000Z", 10);  // not committed
  ASSERT_TRUE(fs::exists(dir_ / "messages.db-wal"));
  auto r = request();
  r.client = "carol";
  std::string text;
  const auto start = std::chrono::steady_clock::now();
  const auto result = run(r, text);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "not blocked";
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.records, 1u);
  EXPECT_NE(text.find("5000@34"), std::string::npos);
  EXPECT_EQ(text.find("5001@34"), std::string::npos) << "uncommitted";
  writer.exec("COMMIT");
}

TEST_F(CdrExport, StreamsThroughTheDoneIndexWithoutASort) {
  Db db(database_);
  sqlite3_stmt* plan = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(),
                               ("EXPLAIN QUERY PLAN " + std::string(cdr_export_query())).c_str(),
                               -1, &plan, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db.get());
  std::string details;
  while (sqlite3_step(plan) == SQLITE_ROW) {
    details += reinterpret_cast<const char*>(sqlite3_column_text(plan, 3));
    details += "\n";
  }
  sqlite3_finalize(plan);
  EXPECT_NE(details.find("USING INDEX messages_done"), std::string::npos) << details;
  EXPECT_EQ(details.find("TEMP B-TREE"), std::string::npos) << details;
}

TEST_F(CdrExport, WhatIsNotAnSmppdDatabase) {
  std::string text;
  auto r = request();
  r.database = (dir_ / "missing.db").string();
  auto result = run(r, text);
  EXPECT_EQ(result.error, CdrExportError::no_database);
  EXPECT_EQ(result.message, "no such database: " + r.database);

  r.database = dir_.string();
  EXPECT_EQ(run(r, text).error, CdrExportError::no_database);

  r.database = (dir_ / "notes.txt").string();
  std::ofstream(r.database) << "these are not the messages you are looking for\n";
  result = run(r, text);
  EXPECT_EQ(result.error, CdrExportError::not_smppd_database);
  EXPECT_EQ(result.message, r.database + " is not an smppd database: file is not a database");

  r.database = (dir_ / "other.db").string();
  {
    Db other(r.database);
    other.exec("CREATE TABLE t (x)");
  }
  result = run(r, text);
  EXPECT_EQ(result.error, CdrExportError::not_smppd_database);
  EXPECT_EQ(result.message, r.database + " is not an smppd database: no such table: messages");

  r.database = (dir_ / "later.db").string();
  {
    Db later(r.database);
    later.exec(kSchema);
    later.exec("PRAGMA user_version=99");
  }
  result = run(r, text);
  EXPECT_EQ(result.error, CdrExportError::newer_schema);
  EXPECT_NE(result.message.find("later smppd (schema version 99"), std::string::npos)
      << result.message;
  EXPECT_EQ(text, "");
}

TEST(CdrExportPeriod, DatesAndInstants) {
  // A date starts at its UTC midnight; as the end it takes its whole day.
  EXPECT_EQ(parse_period_start("2025-12-01"), ms("2025-12-01T00:00:00Z"));
  EXPECT_EQ(parse_period_end("2025-12-27"), ms("2025-12-28T00:00:00Z"));
  EXPECT_EQ(parse_period_end("2025-12-31"), ms("2026-01-01T00:00:00Z"));
  EXPECT_EQ(parse_period_end("2024-02-28"), ms("2024-02-29T00:00:00Z"));
  // An instant is itself, either way.
  EXPECT_EQ(parse_period_start("2025-12-01T10:00:00.250Z"), ms("2025-12-01T10:00:00.250Z"));
  EXPECT_EQ(parse_period_end("2025-12-27T18:00:00+02:00"), ms("2025-12-27T16:00:00Z"));
  for (const char* bad : {"", "today", "2025-12-32", "2025-13-01", "2025-2-1", "20251201",
                          "2025-12-01T25:00:00Z", "2025-12-01T10:00:00"}) {
    EXPECT_FALSE(parse_period_start(bad)) << bad;
    EXPECT_FALSE(parse_period_end(bad)) << bad;
  }
}

// ---- the command line ----

struct Run {
  int exit_code = -1;
  std::string output;  // standard output and error
};

Run smppd(const std::string& arguments) {
  Run r;
  const std::string command = std::string(SMPPD_BINARY) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CdrExportCli : public CdrExport {
 protected:
  // A configuration whose storage.sqlite.path is `database`.
  std::string config(const fs::path& database, const char* format = "json") {
    const fs::path path = dir_ / "smppd.yaml";
    std::ofstream(path) << "listeners:\n"
                           "  - name: smpp\n"
                           "    type: smpp\n"
                           "    address: :2775\n"
                           "storage:\n"
                           "  enabled: true\n"
                           "  sqlite:\n"
                           "    path: "
                        << database.string()
                        << "\n"
                           "  cdr:\n"
                           "    format: "
                        << format << "\n";
    return path.string();
  }
};

TEST_F(CdrExportCli, WritesThePeriodToAFile) {
  const fs::path out = dir_ / "december.csv";
  const auto r = smppd("cdr export --config " + config(database_) +
                       " --from 2025-12-01 --to 2025-12-27 --format csv --client bob --output " +
                       out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 CDR(s) done from 2025-12-01T00:00:00.000Z to "
                          "2025-12-28T00:00:00.000Z (excluded) of client bob from " +
                          database_.string()),
            std::string::npos)
      << r.output;
  std::ifstream in(out, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const auto lines = lines_of(text.str());
  ASSERT_EQ(lines.size(), 2u) << text.str();
  EXPECT_EQ(lines[0].rfind("message_id,client_ref,", 0), 0u);
  // The real rendering: a 3.3 client was given 8 base-62 characters.
  EXPECT_EQ(lines[1].rfind("00000146,\"ref,\"\"1\"\"\",,bob,", 0), 0u) << lines[1];
}

TEST_F(CdrExportCli, StandardOutputInTheConfiguredFormat) {
  const auto r = smppd("cdr export -c " + config(database_, "json") +
                       " --from 2025-12-01 --to 2025-12-27T00:00:00Z");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // 4096 = 0x1000 for a 3.4 client: 12 hex digits.
  EXPECT_NE(r.output.find(R"({"message_id":"000000001000","client_ref":null,)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("3 CDR(s) done"), std::string::npos) << r.output;
}

TEST_F(CdrExportCli, UsageErrorsExitTwo) {
  const std::string c = config(database_);
  auto r = smppd("cdr export --config " + c + " --from 2025-12-32 --to 2025-12-27");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--from: invalid date '2025-12-32'"), std::string::npos) << r.output;
  r = smppd("cdr export --config " + c + " --from 2025-12-01 --to tomorrow");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--to: invalid date 'tomorrow'"), std::string::npos) << r.output;
  r = smppd("cdr export --config " + c + " --to 2025-12-27");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--from is required"), std::string::npos) << r.output;
  r = smppd("cdr export --config " + c + " --from 2025-12-27 --to 2025-12-01");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("the period is empty"), std::string::npos) << r.output;
  r = smppd("cdr export --config " + c + " --from 2025-12-01 --to 2025-12-27 --format xml");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--format: 'xml' is neither json nor csv"), std::string::npos);
}

TEST_F(CdrExportCli, FailuresExitOne) {
  auto r = smppd("cdr export --config " + config(dir_ / "nothing.db") +
                 " --from 2025-12-01 --to 2025-12-27");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no such database: " + (dir_ / "nothing.db").string() +
                          " (storage.sqlite.path in "),
            std::string::npos)
      << r.output;
  const fs::path text = dir_ / "notes.txt";
  std::ofstream(text) << "not a database\n";
  const fs::path out = dir_ / "out.jsonl";
  r = smppd("cdr export --config " + config(text) + " --from 2025-12-01 --to 2025-12-27 -o " +
            out.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(text.string() + " is not an smppd database: file is not a database"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(out)) << "no partial output left";
}

}  // namespace
}  // namespace smppd::store
