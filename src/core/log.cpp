#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <memory>

namespace smppd::log {

namespace {

// %* in the JSON pattern: the message as a JSON string body. Messages carry peer data (system
// ids, message ids, addresses), which may hold quotes, backslashes or control characters.
class JsonMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char c : msg.payload) {
      const auto u = static_cast<unsigned char>(c);
      switch (c) {
        case '"':
          dest.append(std::string_view("\\\""));
          break;
        case '\\':
          dest.append(std::string_view("\\\\"));
          break;
        case '\n':
          dest.append(std::string_view("\\n"));
          break;
        case '\r':
          dest.append(std::string_view("\\r"));
          break;
        case '\t':
          dest.append(std::string_view("\\t"));
          break;
        default:
          if (u < 0x20 || u == 0x7f) {
            const char escaped[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xf]};
            dest.append(escaped, escaped + sizeof escaped);
          } else {
            dest.push_back(c);  // UTF-8 passes as it is
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

}  // namespace

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
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessage>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%*"})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
  set_level(s.level);
}

void set_level(Level level) {
  switch (level) {
    case Level::debug:
      spdlog::set_level(spdlog::level::debug);
      break;
    case Level::info:
      spdlog::set_level(spdlog::level::info);
      break;
    case Level::warn:
      spdlog::set_level(spdlog::level::warn);
      break;
    case Level::error:
      spdlog::set_level(spdlog::level::err);
      break;
  }
}

}  // namespace smppd::log
