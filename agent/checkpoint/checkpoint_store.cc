#include "agent/checkpoint/checkpoint_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "agent/core/json_string.h"

namespace logship::checkpoint {
namespace {

constexpr const char* kFileName = "checkpoints.json";
/// The format written. A field added later is optional when read, so an
/// additive change keeps the version; anything else must bump it.
constexpr uint64_t kVersion = 1;
constexpr const char* kStartOver =
    "run once with --reset-checkpoints to move it aside and read every file from the start";

uint64_t fnv1a(const unsigned char* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// FNV-1a of the first `len` bytes of `fd`; nullopt if fewer can be read.
std::optional<uint64_t> fingerprint(int fd, uint32_t len) {
  unsigned char buf[kFingerprintBytes];
  size_t got = 0;
  while (got < len) {
    const ssize_t n = ::pread(fd, buf + got, len - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    got += static_cast<size_t>(n);
  }
  return fnv1a(buf, len);
}

Result<void> write_all(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::kIo, errno_message("write " + path));
    off += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

Result<FileIdentity> identify(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail(Errc::kIo, errno_message("fstat"));
  FileIdentity id;
  id.dev = static_cast<uint64_t>(st.st_dev);
  id.ino = static_cast<uint64_t>(st.st_ino);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  id.fingerprint_len = static_cast<uint32_t>(size < kFingerprintBytes ? size : kFingerprintBytes);
  if (id.fingerprint_len > 0) {
    // The file may shrink between fstat and pread (copytruncate): hash what is there.
    auto fp = fingerprint(fd, id.fingerprint_len);
    if (!fp) {
      id.fingerprint_len = 0;
    } else {
      id.fingerprint = *fp;
    }
  }
  return id;
}

uint64_t resume_offset(const Checkpoint& stored, int fd, const FileIdentity& current,
                       uint64_t file_size) {
  if (stored.identity.dev != current.dev || stored.identity.ino != current.ino) return 0;
  if (stored.offset > file_size) return 0;  // truncated since: start again
  if (stored.identity.fingerprint_len > 0) {
    // Compare over the bytes the stored fingerprint covered; the file may
    // have grown since, which must not count as a change.
    auto fp = fingerprint(fd, stored.identity.fingerprint_len);
    if (!fp || *fp != stored.identity.fingerprint) return 0;
  }
  return stored.offset;
}

CheckpointStore::CheckpointStore(std::string dir, int lock_fd)
    : dir_(std::move(dir)), file_(dir_ + "/" + kFileName), lock_fd_(lock_fd) {}

CheckpointStore::~CheckpointStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(const std::string& dir, bool reset) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Errc::kIo, "create state directory " + dir + ": " + ec.message());
  const std::string lock_path = dir + "/lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Errc::kIo, errno_message("open " + lock_path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const std::string msg = errno == EWOULDBLOCK
                                ? "state directory " + dir + " is in use by another logship process"
                                : errno_message("lock " + lock_path);
    ::close(fd);
    return fail(Errc::kInvalid, msg);
  }
  std::unique_ptr<CheckpointStore> store(new CheckpointStore(dir, fd));
  if (reset) {
    if (auto r = store->move_aside(); !r) return std::unexpected(r.error());
  }
  if (auto r = store->load(); !r) return std::unexpected(r.error());
  if (auto r = store->check_writable(); !r) return std::unexpected(r.error());
  return store;
}

Result<void> CheckpointStore::move_aside() {
  if (::access(file_.c_str(), F_OK) != 0) return {};
  char stamp[32];
  const time_t now = ::time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  // Never overwrite an earlier reset's file: it may be the one being kept
  // for a bug report.
  std::string to = file_ + ".reset-" + stamp;
  for (int n = 1; ::access(to.c_str(), F_OK) == 0; ++n) to = file_ + ".reset-" + stamp + "-" + std::to_string(n);
  if (::rename(file_.c_str(), to.c_str()) != 0) return fail(Errc::kIo, errno_message("move " + file_ + " aside"));
  const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  reset_to_ = std::move(to);
  return {};
}

Result<void> CheckpointStore::check_writable() const {
  // The same steps as flush() on its temp file, so a directory that is
  // read-only, full or otherwise unusable is found before anything ships.
  const std::string probe = file_ + ".tmp";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Errc::kIo, errno_message("cannot write checkpoints: open " + probe));
  auto written = write_all(fd, "{\"version\":1,\"files\":[]}\n", probe);
  if (written && ::fsync(fd) != 0) written = fail(Errc::kIo, errno_message("fsync " + probe));
  ::close(fd);
  ::unlink(probe.c_str());
  if (!written) return fail(Errc::kIo, "cannot write checkpoints: " + written.error().message);
  return {};
}

Result<void> CheckpointStore::load() {
  if (::access(file_.c_str(), F_OK) != 0) return {};
  simdjson::padded_string text;
  if (simdjson::padded_string::load(file_).get(text) != simdjson::SUCCESS) {
    return fail(Errc::kIo, "read " + file_ + ": cannot load");
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array files;
  uint64_t version = 0;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS ||
      doc["files"].get_array().get(files) != simdjson::SUCCESS ||
      doc["version"].get_uint64().get(version) != simdjson::SUCCESS) {
    return fail(Errc::kInvalid, file_ + ": not a logship checkpoint file (" + kStartOver + ")");
  }
  if (version != kVersion) {
    return fail(Errc::kInvalid, file_ + ": checkpoint format version " + std::to_string(version) +
                                    " is not supported by this logship (it reads version " +
                                    std::to_string(kVersion) + "; " + kStartOver + ")");
  }
  for (simdjson::dom::element e : files) {
    Checkpoint cp;
    std::string_view path;
    uint64_t fp_len = 0;
    std::string_view fp_hex;
    if (e["path"].get_string().get(path) || e["dev"].get_uint64().get(cp.identity.dev) ||
        e["ino"].get_uint64().get(cp.identity.ino) ||
        e["fingerprint"].get_string().get(fp_hex) ||
        e["fingerprint_len"].get_uint64().get(fp_len) || e["offset"].get_uint64().get(cp.offset) ||
        fp_len > kFingerprintBytes) {
      return fail(Errc::kInvalid, file_ + ": malformed checkpoint entry (" + kStartOver + ")");
    }
    // "size" came later: files without it read as size unknown.
    if (auto size = e["size"]; size.error() != simdjson::NO_SUCH_FIELD && size.get_uint64().get(cp.size)) {
      return fail(Errc::kInvalid, file_ + ": malformed checkpoint entry (" + kStartOver + ")");
    }
    cp.path = std::string(path);
    cp.identity.fingerprint_len = static_cast<uint32_t>(fp_len);
    cp.identity.fingerprint = std::strtoull(std::string(fp_hex).c_str(), nullptr, 16);
    entries_[{cp.identity.dev, cp.identity.ino}] = std::move(cp);
  }
  return {};
}

std::optional<Checkpoint> CheckpointStore::find(uint64_t dev, uint64_t ino) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find({dev, ino});
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void CheckpointStore::put(const Checkpoint& checkpoint) {
  std::lock_guard lock(mu_);
  Checkpoint& slot = entries_[{checkpoint.identity.dev, checkpoint.identity.ino}];
  if (slot.offset == checkpoint.offset && slot.identity == checkpoint.identity &&
      slot.path == checkpoint.path && slot.size == checkpoint.size) {
    return;
  }
  slot = checkpoint;
  dirty_ = true;
}

void CheckpointStore::erase(uint64_t dev, uint64_t ino) {
  std::lock_guard lock(mu_);
  if (entries_.erase({dev, ino}) > 0) dirty_ = true;
}

std::vector<Checkpoint> CheckpointStore::all() const {
  std::lock_guard lock(mu_);
  std::vector<Checkpoint> out;
  out.reserve(entries_.size());
  for (const auto& [k, v] : entries_) out.push_back(v);
  return out;
}

Result<void> CheckpointStore::flush() {
  std::string text;
  {
    std::lock_guard lock(mu_);
    if (!dirty_) return {};
    text = "{\"version\":" + std::to_string(kVersion) + ",\"files\":[";
    bool first = true;
    for (const auto& [k, cp] : entries_) {
      if (!first) text += ',';
      first = false;
      text += "\n{\"path\":";
      json::append_string(text, cp.path);
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    ",\"dev\":%llu,\"ino\":%llu,\"fingerprint\":\"%016llx\",\"fingerprint_len\":%u,"
                    "\"offset\":%llu,\"size\":%llu}",
                    static_cast<unsigned long long>(cp.identity.dev),
                    static_cast<unsigned long long>(cp.identity.ino),
                    static_cast<unsigned long long>(cp.identity.fingerprint),
                    cp.identity.fingerprint_len, static_cast<unsigned long long>(cp.offset),
                    static_cast<unsigned long long>(cp.size));
      text += buf;
    }
    text += "\n]}\n";
    dirty_ = false;
  }
  // Atomic replace: a crash leaves either the old or the new file, never a torn one.
  const std::string tmp = file_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto mark_dirty = [this] {
    std::lock_guard lock(mu_);
    dirty_ = true;
  };
  if (fd < 0) {
    mark_dirty();
    return fail(Errc::kIo, errno_message("open " + tmp));
  }
  auto written = write_all(fd, text, tmp);
  if (written && ::fsync(fd) != 0) written = fail(Errc::kIo, errno_message("fsync " + tmp));
  ::close(fd);
  if (written && ::rename(tmp.c_str(), file_.c_str()) != 0) {
    written = fail(Errc::kIo, errno_message("rename " + tmp));
  }
  if (written) {
    const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  if (!written) mark_dirty();
  return written;
}

}  // namespace logship::checkpoint
