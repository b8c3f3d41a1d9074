// Certificates made at test time by the openssl command (tests use real TLS with their own
// certificates, never files checked in), in a fresh folder under /tmp removed with the object.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace smppd::testing {

class TestCertificates {
 public:
  // For `openssl req`: a new P-256 key without a pass phrase, valid for two days.
  static constexpr const char* kNewKey =
      " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2";

  // Makes the folder /tmp/<prefix>-XXXXXX; error() says why when it could not.
  explicit TestCertificates(const std::string& prefix) {
    std::string dir = "/tmp/" + prefix + "-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = dir;
  }
  ~TestCertificates() {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  // Runs each command in order, their output kept in openssl.log; stops at the first that fails
  // (error() then names it, with the log).
  bool make(const std::vector<std::string>& commands) {
    if (!error_.empty()) return false;
    for (const std::string& command : commands) {
      const std::string quiet = command + " >>" + path("openssl.log") + " 2>&1";
      if (std::system(quiet.c_str()) != 0) {
        std::ifstream log(path("openssl.log"));
        std::stringstream text;
        text << log.rdbuf();
        error_ = "failed: " + command + "\n" + text.str();
        return false;
      }
    }
    return true;
  }

  std::string path(const std::string& file) const { return (dir_ / file).string(); }
  const std::filesystem::path& dir() const { return dir_; }
  // Empty while everything went well.
  const std::string& error() const { return error_; }

 private:
  std::filesystem::path dir_;
  std::string error_;
};

}  // namespace smppd::testing
