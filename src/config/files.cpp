#include "config/files.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>

namespace smppd::config {

namespace {

// The limit for a certificate, key or CA file: a CA bundle of every public root is about 200 KB.
constexpr uint64_t kMaxPemBytes = 16 * kMiB;

std::string os_reason(int error) {
  return std::system_category().message(error);
}

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory, not a file";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe), not a regular file";
  if (S_ISCHR(mode)) return "is a character device, not a regular file";
  if (S_ISBLK(mode)) return "is a block device, not a regular file";
  if (S_ISSOCK(mode)) return "is a socket, not a regular file";
  return "is not a regular file";
}

std::string in_mib(uint64_t bytes) {
  return std::to_string(bytes / kMiB) + " MiB";
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// ---- PEM, through OpenSSL ----

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bio memory_bio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
}

// OpenSSL's reason for the earliest error in its queue, which it leaves empty.
std::string openssl_reason() {
  const unsigned long error = ERR_get_error();
  ERR_clear_error();
  if (error == 0) return "unknown error";
  if (const char* reason = ERR_reason_error_string(error)) return reason;
  return "error " + std::to_string(error);
}

// Whether OpenSSL stopped at the end of the PEM blocks (PEM_R_NO_START_LINE) rather than at a
// broken one. Leaves the queue empty.
bool clean_end_of_pem() {
  const unsigned long error = ERR_peek_last_error();
  const bool clean = error == 0 || (ERR_GET_LIB(error) == ERR_LIB_PEM &&
                                    ERR_GET_REASON(error) == PEM_R_NO_START_LINE);
  ERR_clear_error();
  return clean;
}

// A key that needs a pass phrase is an error, never a prompt.
int refuse_pass_phrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return 0;
}

// The leaf certificate of a chain, or the reason there is none.
X509Ptr read_chain(const std::string& text, std::string& problem) {
  ERR_clear_error();
  Bio bio = memory_bio(text);
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!leaf) {
    problem = clean_end_of_pem() ? "holds no PEM certificate"
                                 : "is not a readable PEM certificate: " + openssl_reason();
    return leaf;
  }
  int index = 1;
  while (X509Ptr next{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free}) ++index;
  if (!clean_end_of_pem()) {
    problem = "certificate #" + std::to_string(index + 1) + " of the chain cannot be read";
    return X509Ptr(nullptr, X509_free);
  }
  return leaf;
}

KeyPtr read_key(const std::string& text, std::string& problem) {
  ERR_clear_error();
  Bio bio = memory_bio(text);
  bool asked = false;
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_pass_phrase, &asked),
             EVP_PKEY_free);
  if (!key) {
    if (asked) {
      problem = "is encrypted; smppd needs the key without a pass phrase";
      ERR_clear_error();
    } else {
      problem = clean_end_of_pem() ? "holds no PEM private key"
                                   : "is not a readable PEM private key: " + openssl_reason();
    }
  }
  return key;
}

std::string check_ca(const std::string& text) {
  ERR_clear_error();
  Bio bio = memory_bio(text);
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr);
  if (infos == nullptr) return "is not a readable PEM file: " + openssl_reason();
  int certificates = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
    if (sk_X509_INFO_value(infos, i)->x509 != nullptr) ++certificates;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  ERR_clear_error();
  return certificates == 0 ? "holds no PEM certificate" : "";
}

// ---- folders ----

std::string check_writable_folder(const std::filesystem::path& folder) {
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) return "cannot use folder: " + os_reason(errno);
  if (!S_ISDIR(st.st_mode)) return "is not a folder";
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    return "cannot write in the folder: " + os_reason(errno);
  return "";
}

std::string check_file_in_folder(const std::filesystem::path& file) {
  std::filesystem::path folder = file.parent_path();
  if (folder.empty()) folder = ".";
  if (std::string problem = check_writable_folder(folder); !problem.empty())
    return "folder " + folder.string() + ": " + problem;
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) return "";  // created at start-up
    return "cannot use: " + os_reason(errno);
  }
  if (S_ISDIR(st.st_mode)) return "is a directory, not a file";
  if (::access(file.c_str(), W_OK) != 0) return "cannot write: " + os_reason(errno);
  return "";
}

}  // namespace

std::string read_regular_file(const std::filesystem::path& path, uint64_t max_bytes,
                              std::string& text) {
  text.clear();
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    const int error = errno;
    struct stat st {};
    if (error == ENXIO && ::stat(path.c_str(), &st) == 0) return kind_of(st.st_mode);
    return "cannot be opened: " + os_reason(error);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return "cannot be read: " + os_reason(errno);
  if (!S_ISREG(st.st_mode)) return kind_of(st.st_mode);
  const auto too_large = [&](uint64_t size) {
    return "is " + std::to_string(size) + " bytes; the limit is " + std::to_string(max_bytes) +
           " (" + in_mib(max_bytes) + ")";
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return too_large(st.st_size);
  // Read to the end rather than trusting st_size: a file may grow, and /proc files say 0.
  text.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t total = 0;
  for (;;) {
    if (total == text.size()) {
      if (total > max_bytes) {
        text.clear();
        return too_large(total);
      }
      text.resize(std::min<uint64_t>(max_bytes + 1, 2 * text.size() + 4096));
    }
    const ssize_t n = ::read(fd.get(), text.data() + total, text.size() - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      text.clear();
      return "cannot be read: " + os_reason(error);
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  text.resize(total);
  return "";
}

std::vector<ConfigError> check_named_files(const std::vector<NamedFile>& files,
                                           const std::string& config_file,
                                           ScriptCheck check_script) {
  std::vector<ConfigError> errors;
  std::vector<X509Ptr> certificates;  // by index in `files`, for the keys that follow
  certificates.reserve(files.size());
  for (const NamedFile& f : files) {
    certificates.emplace_back(nullptr, X509_free);
    std::string problem;
    std::string text;
    switch (f.use) {
      case FileUse::certificate:
      case FileUse::private_key:
      case FileUse::ca:
      case FileUse::script:
        problem = read_regular_file(
            f.path, f.use == FileUse::script ? kMaxConfigFileBytes : kMaxPemBytes, text);
        break;
      case FileUse::file_in_folder:
        problem = check_file_in_folder(f.path);
        break;
      case FileUse::folder:
        problem = check_writable_folder(f.path);
        break;
    }
    if (problem.empty()) {
      if (f.use == FileUse::certificate) {
        certificates.back() = read_chain(text, problem);
      } else if (f.use == FileUse::ca) {
        problem = check_ca(text);
      } else if (f.use == FileUse::script && check_script != nullptr) {
        if (auto error = check_script(f.path, text)) problem = "does not serve: " + *error;
      } else if (f.use == FileUse::private_key) {
        KeyPtr key = read_key(text, problem);
        const X509* certificate =
            f.certificate >= 0 && static_cast<std::size_t>(f.certificate) < certificates.size()
                ? certificates[static_cast<std::size_t>(f.certificate)].get()
                : nullptr;
        if (key && certificate != nullptr && X509_check_private_key(certificate, key.get()) != 1) {
          problem = "does not match the certificate " + files[f.certificate].path;
          ERR_clear_error();
        }
      }
    }
    if (!problem.empty())
      errors.push_back({config_file, f.line, f.column, f.what + " '" + f.path + "': " + problem});
  }
  return errors;
}

}  // namespace smppd::config
