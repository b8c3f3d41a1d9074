// The files around a configuration: the configuration file itself (directories, FIFOs, devices,
// over-size files, the OS's reason when it cannot be opened) and the files it names
// (certificates, keys, CAs, scripts, folders), checked as start-up will use them. Certificates are
// made by the openssl command at test time.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "config/loader.hpp"
#include "support/test_certificates.hpp"

using namespace smppd::config;

namespace {

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

// What a load that ran in a child process said: its errors, one a line, or "OK"; "HUNG" when it
// had not finished after three seconds, "CRASHED" when it died otherwise. A child so that a load
// that blocks (a FIFO) or reads without end (/dev/zero) fails the test instead of stalling it, and
// so that it can drop root's privileges. `as_nobody`: run as uid/gid 65534 when root.
std::string load_in_child(const std::function<LoadResult()>& load, bool as_nobody = false) {
  int out[2];
  if (pipe(out) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(out[0]);
    alarm(3);
    if (as_nobody && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(2);
    const LoadResult r = load();
    const std::string text = r.ok() ? "OK" : dump(r);
    const ssize_t written = write(out[1], text.data(), text.size());
    _exit(written == static_cast<ssize_t>(text.size()) ? 0 : 3);
  }
  close(out[1]);
  std::string text;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(out[0], buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) return "HUNG";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "CRASHED";
  return text;
}

// A fresh directory with a CA, a server certificate and key signed by it, and a key of another
// pair, made once per test process; removed afterwards.
class ConfigFiles : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    certs_.emplace("smppd-config-files");
    if (!certs_->error().empty()) return;
    std::filesystem::permissions(certs_->dir(), std::filesystem::perms::owner_all |
                                                    std::filesystem::perms::group_read |
                                                    std::filesystem::perms::group_exec |
                                                    std::filesystem::perms::others_read |
                                                    std::filesystem::perms::others_exec);
    const std::string ec = smppd::testing::TestCertificates::kNewKey;
    certs_->make({
        "openssl req -x509" + ec + " -keyout " + path("ca.key") + " -out " + path("ca.crt") +
            " -subj /CN=smppd-test-ca -addext basicConstraints=critical,CA:TRUE",
        "openssl req -x509" + ec + " -keyout " + path("server.key") + " -out " +
            path("server.crt") + " -subj /CN=localhost -CA " + path("ca.crt") + " -CAkey " +
            path("ca.key"),
        "openssl req -x509" + ec + " -keyout " + path("other.key") + " -out " + path("other.crt") +
            " -subj /CN=other",
        "openssl pkey -in " + path("server.key") + " -aes128 -passout pass:secret -out " +
            path("encrypted.key"),
    });
  }

  static void TearDownTestSuite() { certs_.reset(); }

  static std::string path(const std::string& file) { return certs_->path(file); }

 protected:
  void SetUp() override { ASSERT_TRUE(certs_->error().empty()) << certs_->error(); }

  // A TLS listener with this cert, key and ca (ca omitted when empty). The cert is on line 6.
  static std::string tls_listener(const std::string& cert, const std::string& key,
                                  const std::string& ca = "") {
    std::string yaml =
        "listeners:\n  - type: smpp\n    address: :2775\n    tls:\n"
        "      client_auth: " +
        std::string(ca.empty() ? "none" : "require") + "\n      cert: " + cert +
        "\n      key: " + key + "\n";
    if (!ca.empty()) yaml += "      ca: " + ca + "\n";
    return yaml;
  }

  static LoadResult load(const std::string& yaml) { return load_config_string(yaml, "t.yaml"); }

  static std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }

 private:
  static inline std::optional<smppd::testing::TestCertificates> certs_;
};

}  // namespace

// ---- the configuration file itself ----

TEST_F(ConfigFiles, MissingConfigurationSaysWhy) {
  const LoadResult r = load_config_file(path("absent/smppd.yaml"));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].message,
            "the configuration file cannot be opened: No such file or directory");
}

TEST_F(ConfigFiles, DirectoryIsRefused) {
  const LoadResult r = load_config_file(path(""));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].message, "the configuration file is a directory, not a file");
}

TEST_F(ConfigFiles, FifoIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = path("config.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string said = load_in_child([&] { return load_config_file(fifo); });
  EXPECT_TRUE(has(said, "the configuration file is a FIFO (named pipe), not a regular file"))
      << said;
}

TEST_F(ConfigFiles, DeviceIsRefusedUnread) {
  const std::string said = load_in_child([] { return load_config_file("/dev/zero"); });
  EXPECT_TRUE(has(said, "the configuration file is a character device, not a regular file"))
      << said;
}

TEST_F(ConfigFiles, FileOverTheLimitIsRefusedUnread) {
  const std::string big = path("big.yaml");
  {
    std::ofstream out(big);
    out << "listeners: []\n";
  }
  // Sparse: the size is there without the bytes.
  std::filesystem::resize_file(big, 64 * 1024 * 1024 + 1);
  const std::string said = load_in_child([&] { return load_config_file(big); });
  EXPECT_TRUE(has(said, "the configuration file is 67108865 bytes; the limit is 67108864 (64 MiB)"))
      << said;
  std::filesystem::remove(big);
}

TEST_F(ConfigFiles, RegularFileAtTheLimitIsRead) {
  const std::string file = path("ok.yaml");
  write("ok.yaml", "listeners:\n  - { type: smpp, address: \":2775\" }\n");
  const LoadResult r = load_config_file(file);
  EXPECT_TRUE(r.ok()) << dump(r);
}

// ---- what the configuration names ----

TEST_F(ConfigFiles, MatchingCertificateKeyAndCaPass) {
  const LoadResult r = load(tls_listener(path("server.crt"), path("server.key"), path("ca.crt")));
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST_F(ConfigFiles, MissingCertificateIsReportedAtItsKey) {
  const LoadResult r = load(tls_listener(path("nothere.crt"), path("server.key")));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].line, 6);
  EXPECT_EQ(r.errors[0].column, 13);
  EXPECT_EQ(r.errors[0].message, "tls of listener #1: cert '" + path("nothere.crt") +
                                     "': cannot be opened: No such file or directory");
}

TEST_F(ConfigFiles, UnreadableKeyGivesTheOsReason) {
  const std::string key = path("unreadable.key");
  std::filesystem::copy_file(path("server.key"), key);
  std::filesystem::permissions(key, std::filesystem::perms::none);
  const std::string yaml = tls_listener(path("server.crt"), key);
  // Root reads any file: the load runs as nobody then (the certificates are world-readable).
  std::filesystem::permissions(path("server.crt"), std::filesystem::perms::owner_read |
                                                       std::filesystem::perms::group_read |
                                                       std::filesystem::perms::others_read);
  const std::string said = load_in_child([&] { return load(yaml); }, true);
  EXPECT_TRUE(has(said, "t.yaml:7:12: error: tls of listener #1: key '" + key +
                            "': cannot be opened: Permission denied"))
      << said;
}

TEST_F(ConfigFiles, KeyOfAnotherCertificateIsRefused) {
  const LoadResult r = load(tls_listener(path("server.crt"), path("other.key")));
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].line, 7);
  EXPECT_TRUE(
      has(r.errors[0].message,
          "key '" + path("other.key") + "': does not match the certificate " + path("server.crt")))
      << r.errors[0].message;
}

TEST_F(ConfigFiles, EncryptedKeyAndNonPemFilesAreRefused) {
  const std::string not_pem = write("notpem.crt", "hello\n");
  const LoadResult r = load(tls_listener(not_pem, path("encrypted.key"), path("server.key")));
  ASSERT_EQ(r.errors.size(), 3u) << dump(r);
  EXPECT_TRUE(has(r.errors[0].message, "cert '" + not_pem + "': holds no PEM certificate"));
  EXPECT_TRUE(has(r.errors[1].message, "is encrypted; smppd needs the key without a pass phrase"));
  EXPECT_TRUE(has(r.errors[2].message, "ca '" + path("server.key") + "': holds no PEM certificate"))
      << r.errors[2].message;
}

TEST_F(ConfigFiles, CertificateThatIsADirectoryIsRefused) {
  const LoadResult r = load(tls_listener(path(""), path("server.key")));
  ASSERT_GE(r.errors.size(), 1u) << dump(r);
  EXPECT_TRUE(has(r.errors[0].message, "is a directory, not a file")) << dump(r);
}

TEST_F(ConfigFiles, UpstreamClientCertificateIsChecked) {
  const LoadResult r = load(
      "listeners:\n  - { type: smpp, address: \":2775\" }\n"
      "upstreams:\n  - name: u\n    hosts: [{ address: \"h:1\" }]\n"
      "    bind: { system_id: s }\n    tls:\n      ca: " +
      path("missing-ca.crt") + "\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].line, 8);
  EXPECT_TRUE(has(r.errors[0].message, "tls of upstream 'u': ca '" + path("missing-ca.crt") +
                                           "': cannot be opened: No such file or directory"))
      << r.errors[0].message;
}

TEST_F(ConfigFiles, ScriptStorageAndLogFoldersAreChecked) {
  const std::string yaml =
      "listeners:\n  - { type: smpp, address: \":2775\" }\n"
      "routes:\n  - { name: lua, script: " +
      path("route.lua") + " }\nstorage:\n  sqlite:\n    path: " + path("no-dir/messages.db") +
      "\n  cdr:\n    path: " + path("no-cdr") +
      "\nlogging:\n  output: file\n  file:\n    path: " + path("server.crt/smppd.log") + "\n";
  const LoadResult r = load(yaml);
  ASSERT_EQ(r.errors.size(), 4u) << dump(r);
  EXPECT_TRUE(has(r.errors[0].message, "script '" + path("route.lua") +
                                           "': cannot be opened: No such file or directory"));
  EXPECT_EQ(r.errors[1].line, 7);
  EXPECT_TRUE(has(r.errors[1].message,
                  "folder " + path("no-dir") + ": cannot use folder: No such file or directory"))
      << r.errors[1].message;
  EXPECT_TRUE(has(r.errors[2].message, "storage.cdr: path '" + path("no-cdr") +
                                           "': cannot use folder: No such file or directory"))
      << r.errors[2].message;
  EXPECT_TRUE(has(r.errors[3].message, "folder " + path("server.crt") + ": is not a folder"))
      << r.errors[3].message;

  write("route.lua", "return 'u'\n");
  std::filesystem::create_directory(path("no-dir"));
  std::filesystem::create_directory(path("no-cdr"));
  const std::string fixed = yaml.substr(0, yaml.find("logging:"));
  const LoadResult ok = load(fixed);
  EXPECT_TRUE(ok.ok()) << dump(ok);
}

TEST_F(ConfigFiles, ChecksCanBeTurnedOff) {
  const LoadResult r = load_config_string(tls_listener(path("nothere.crt"), path("nothere.key")),
                                          "t.yaml", process_env, {.check_files = false});
  EXPECT_TRUE(r.ok()) << dump(r);
}
