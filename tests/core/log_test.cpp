// JSON logs stay one valid JSON object per line, whatever a message carries.
#include "core/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace smppd::log {
namespace {

TEST(Log, JsonMessagesAreEscaped) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("smppd-log-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Settings s;
  s.format = Format::json;
  s.output = Output::file;
  s.file_path = (dir / "smppd.log").string();
  setup(s);
  // A system_id or message id from a peer may hold any of these.
  info("client {}: bound", std::string("a\"b\\c\nd\te\x01"
                                       "f"));
  spdlog::default_logger()->flush();
  spdlog::drop_all();
  std::ifstream in(s.file_path);
  std::string line, extra;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_FALSE(std::getline(in, extra)) << "one line per message: " << extra;
  EXPECT_NE(line.find(R"("msg":"client a\"b\\c\nd\te\u0001f: bound"})"), std::string::npos) << line;
  EXPECT_EQ(line.rfind(R"({"time":")", 0), 0u) << line;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace smppd::log
