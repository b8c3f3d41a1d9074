// libFuzzer target for the configuration loader: YAML text -> Config or errors.
//
// Any text must give either a configuration and no errors or errors and no configuration,
// without crashing or leaking, and every error must have a message. The files a configuration
// names are not checked (LoadOptions::check_files is off): the fuzzer touches no file but the
// time zone database, which schedules name. ${VAR} is answered from a fixed table, not the
// environment, so that a finding replays anywhere.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "config_fuzz: %s\n", what);
  std::abort();
}

std::optional<std::string> fixed_env(std::string_view name) {
  if (name == "USER" || name == "PASS") return std::string("v");
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace smppd::config;
  static const EnvLookup env = fixed_env;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult r = load_config_string(text, "fuzz.yaml", env, {.check_files = false});
  if (r.ok() != r.errors.empty()) fail("a configuration with errors, or neither");
  for (const auto& e : r.errors) {
    if (e.message.empty()) fail("an error without a message");
    if (e.line < 0 || e.column < 0) fail("an error at a negative position");
  }
  return 0;
}
