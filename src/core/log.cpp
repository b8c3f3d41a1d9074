#include "core/log.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <memory>

namespace smppd::log {

void setup(const Settings& s) {
  std::shared_ptr<spdlog::logger> logger;
  switch (s.output) {
    case Output::stdout_:
      logger = spdlog::stdout_logger_mt("smppd-stdout");
      break;
    case Output::stderr_:
      logger = spdlog::stderr_logger_mt("smppd-stderr");
      break;
    case Output::file:
      logger = spdlog::rotating_logger_mt("smppd-file", s.file_path, s.rotation_size,
                                          s.rotation_max_files);
      break;
  }
  if (s.format == Format::json) {
    // The message is not escaped: messages are written by smppd and contain no quotes; peer
    // data in messages is quoted by the caller with escape().
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
  switch (s.level) {
    case Level::debug:
      logger->set_level(spdlog::level::debug);
      break;
    case Level::info:
      logger->set_level(spdlog::level::info);
      break;
    case Level::warn:
      logger->set_level(spdlog::level::warn);
      break;
    case Level::error:
      logger->set_level(spdlog::level::err);
      break;
  }
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace smppd::log
