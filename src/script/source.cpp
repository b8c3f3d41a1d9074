#include "script/source.hpp"

#include <atomic>
#include <utility>

#include "config/files.hpp"

namespace smppd::script {

namespace {

std::atomic<uint64_t> next_generation{1};

}  // namespace

ScriptSource::ScriptSource(std::string name, std::string code)
    : name_(std::move(name)),
      code_(std::move(code)),
      generation_(next_generation.fetch_add(1, std::memory_order_relaxed)) {}

ScriptSource::ReadResult ScriptSource::read(const std::string& path) {
  std::string code;
  if (std::string problem = config::read_regular_file(path, kMaxBytes, code); !problem.empty())
    return {nullptr, path + ": " + problem};
  return {from_string(path, std::move(code)), {}};
}

std::shared_ptr<const ScriptSource> ScriptSource::from_string(std::string name, std::string code) {
  return std::shared_ptr<const ScriptSource>(new ScriptSource(std::move(name), std::move(code)));
}

}  // namespace smppd::script
