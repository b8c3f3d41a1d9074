#include "cli/config_load.hpp"

#include <cstdio>

#include "config/loader.hpp"

namespace smppd::cli {

void print_config_errors(const config::LoadResult& result) {
  for (const auto& e : result.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  std::fprintf(stderr, "%zu error%s\n", result.errors.size(), result.errors.size() == 1 ? "" : "s");
}

std::shared_ptr<const config::Config> load_config_for_command(const std::string& path) {
  auto result = config::load_config_file(path, config::process_env, {.check_files = false});
  if (!result.ok()) print_config_errors(result);
  return result.config;
}

}  // namespace smppd::cli
