// The key registry (config/keys.hpp) against the loader and the code: every key the loader
// takes is classified; every key said to be used is read outside src/config; every key whose
// feature is not built gets a warning at its file:line.
#include "config/keys.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace smppd::config {
namespace {

// Every ${VAR} of configs/full.yaml reads "x".
std::optional<std::string> any_env(std::string_view) {
  return std::string("x");
}

LoadResult load(std::string_view yaml, KeyAudit* audit = nullptr) {
  LoadOptions options;
  options.check_files = false;
  options.audit = audit;
  return load_config_string(yaml, "test.yaml", any_env, options);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// configs/full.yaml writes every key of the design: the loader takes every key of the registry
// on its way through it (sections absent from the file are still looked up key by key).
TEST(Keys, EveryKeyTheLoaderTakesIsClassifiedAndEveryEntryIsTaken) {
  KeyAudit audit;
  const auto result =
      load(read_file(std::filesystem::path(SMPPD_SOURCE_DIR) / "configs/full.yaml"), &audit);
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  for (const auto& key : audit.unclassified) {
    ADD_FAILURE() << "the loader accepts '" << key
                  << "', which src/config/keys.cpp does not classify (used or not built)";
  }
  for (const auto& spec : key_specs()) {
    EXPECT_TRUE(audit.taken.contains(std::string(spec.path)))
        << "src/config/keys.cpp lists '" << spec.path << "', which the loader never takes";
  }
}

// A hand-kept link from each key said to be used to the code that reads it: the text given in
// keys.cpp must appear in a source file of the module named there. It does not prove the key
// has an effect (the tests of each module do); it fails when the last reader of a field goes.
TEST(Keys, EveryUsedKeyIsReadOutsideTheConfigModule) {
  const std::filesystem::path src = std::filesystem::path(SMPPD_SOURCE_DIR) / "src";
  std::map<std::string, std::string> module_text;
  for (const auto& spec : key_specs()) {
    if (spec.use != KeyUse::used) continue;
    const std::string module(spec.module);
    ASSERT_NE(module, "config") << spec.path;
    auto [it, first] = module_text.try_emplace(module);
    if (first) {
      ASSERT_TRUE(std::filesystem::is_directory(src / module)) << spec.path << ": " << module;
      for (const auto& f : std::filesystem::directory_iterator(src / module)) {
        if (f.path().extension() == ".cpp" || f.path().extension() == ".hpp")
          it->second += read_file(f.path());
      }
    }
    EXPECT_NE(it->second.find(spec.detail), std::string::npos)
        << spec.path << " is said to be used, but src/" << module << " never mentions '"
        << spec.detail << "'";
  }
}

std::vector<std::string> warnings_of(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& w : r.warnings) out.push_back(w.to_string());
  return out;
}

TEST(Keys, KeysThatAreNotBuiltAreWarnedAboutAtTheirLine) {
  const auto r = load(R"(listeners:
  - type: smpp
    address: :2775
  - name: rpc
    type: grpc
    address: :9090
upstreams:
  - name: a
    hosts: [{address: "127.0.0.1:2776"}]
    bind: {system_id: x}
    timeouts:
      submit: 5s
    protocol:
      auto_respond_unbind: false
    message:
      default_service_type: X
routes:
  - match: {service_type: X}
    upstream: a
storage:
  submit_sm: {enabled: true}
mnp: {enabled: false}
)");
  ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  const std::vector<std::string> expected = {
      "test.yaml:12:7: warning: timeouts of upstream 'a': submit: not built yet: accepted and "
      "ignored (a session has one response timeout for every request: timeouts.response "
      "applies)",
      "test.yaml:14:7: warning: protocol of upstream 'a': auto_respond_unbind: not built yet: "
      "accepted and ignored (smppd always answers an SMSC's unbind)",
      "test.yaml:16:7: warning: message options of upstream 'a': default_service_type: not built "
      "yet: accepted and ignored (no defaults are applied to messages towards the SMSC yet)",
      "test.yaml:21:15: warning: storage.submit_sm: enabled: not built yet: accepted and "
      "ignored (with storage on, every message is stored (store and forward); this switch is "
      "not read)",
  };
  EXPECT_EQ(warnings_of(r), expected);
}

TEST(Keys, AConfigurationOfBuiltKeysHasNoWarnings) {
  const auto r = load(read_file(std::filesystem::path(SMPPD_SOURCE_DIR) / "configs/demo.yaml"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(warnings_of(r), std::vector<std::string>{});
}

constexpr std::string_view kUpstreamHead = R"(listeners: [{type: smpp, address: ":2775"}]
upstreams:
  - name: a
    hosts: [{address: "127.0.0.1:2776"}]
)";

TEST(Keys, TimeoutsEnquireLinkIsTheEnquireLinkTimeoutUnlessThatIsWritten) {
  auto r = load(std::string(kUpstreamHead) + R"(    bind: {system_id: x}
    timeouts: {enquire_link: 250ms}
)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->upstreams[0].enquire_link.timeout, Duration(250));
  EXPECT_TRUE(r.warnings.empty());

  r = load(std::string(kUpstreamHead) + R"(    bind: {system_id: x}
    timeouts: {enquire_link: 250ms}
    enquire_link: {timeout: 3s}
)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->upstreams[0].enquire_link.timeout, Duration(3000));
  EXPECT_EQ(warnings_of(r),
            std::vector<std::string>{"test.yaml:6:30: warning: timeouts of upstream 'a': "
                                     "enquire_link (250 ms) is ignored: enquire_link.timeout "
                                     "(3000 ms, line 7) applies"});
}

TEST(Keys, ProtocolVersionIsTheBindVersionUnlessThatIsWritten) {
  auto r = load(std::string(kUpstreamHead) + R"(    bind: {system_id: x}
    protocol: {version: "3.3"}
)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->upstreams[0].bind.version, smpp::Version::v33);
  EXPECT_TRUE(r.config->upstreams[0].bind.version_given);

  r = load(std::string(kUpstreamHead) + R"(    bind: {system_id: x, version: "5.0"}
    protocol: {version: "3.3"}
)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].to_string(),
            "test.yaml:6:25: error: protocol.version of upstream 'a' differs from its "
            "bind.version; write one of them");
}

}  // namespace
}  // namespace smppd::config
