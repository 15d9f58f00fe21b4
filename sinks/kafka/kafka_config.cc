#include "sinks/kafka/kafka_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace logship::sinks::kafka {
namespace {

constexpr std::string_view kOptPrefix = "LOGSHIP_KAFKA_OPT_";
constexpr std::string_view kFileSuffix = "_FILE";

bool ends_with_file(std::string_view suffix) {
  if (suffix.size() <= kFileSuffix.size()) return false;
  const std::string_view tail = suffix.substr(suffix.size() - kFileSuffix.size());
  for (size_t i = 0; i < tail.size(); ++i) {
    const char c = tail[i];
    if ((c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c) != kFileSuffix[i]) return false;
  }
  return true;
}

}  // namespace

std::string property_name(std::string_view suffix) {
  std::string name;
  name.reserve(suffix.size());
  for (char c : suffix) name += c == '_' ? '.' : (c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
  return name;
}

Result<std::string> read_secret_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno("cannot read " + path);
  std::string content;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = fail_errno("cannot read " + path);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    // Secrets are small; a huge file is a wrong path, not a password.
    if (content.size() > (size_t{1} << 20)) {
      ::close(fd);
      return fail(Errc::kInvalid, path + " is larger than 1 MiB; expected a secret value");
    }
  }
  ::close(fd);
  if (content.ends_with("\r\n")) content.resize(content.size() - 2);
  else if (content.ends_with('\n')) content.pop_back();
  return content;
}

Result<KafkaSinkOptions> options_from_config(const config::Config& config, const SecretReader& read) {
  KafkaSinkOptions o;
  for (const auto& b : config.kafka_brokers) {
    if (!o.brokers.empty()) o.brokers += ',';
    o.brokers += b;
  }
  auto parts = config::parse_topic_template(config.kafka_topic, /*allow_placeholders=*/true);
  if (!parts) return fail(Errc::kInvalid, "LOGSHIP_KAFKA_TOPIC: \"" + config.kafka_topic + "\" " + parts.error());
  o.topic = std::move(*parts);
  o.topic_text = config.kafka_topic;
  o.topic_fallback = config.kafka_topic_fallback;
  o.key = config.kafka_key;
  o.compression = std::string(config::to_string(config::effective_compression(config)));
  o.memory_limit = config.memory_limit;
  o.max_record_bytes = config.max_record_bytes;
  // Oneshot must end: failed batches go back to the pipeline, whose retry
  // policy gives up after a few attempts. Follow mode waits it out in the
  // sink, where only the failed messages are produced again.
  o.redeliver_in_sink = !config.oneshot;
  for (const auto& [suffix, value] : config.kafka_options) {
    Property p;
    p.origin = std::string(kOptPrefix) + suffix;
    if (ends_with_file(suffix)) {
      p.name = property_name(std::string_view(suffix).substr(0, suffix.size() - kFileSuffix.size()));
      auto content = read(value);
      if (!content) return fail(Errc::kInvalid, p.origin + ": " + content.error().message);
      p.value = std::move(*content);
      p.secret = true;  // whatever its name: it came from a secret mount
    } else {
      p.name = property_name(suffix);
      p.value = value;
      p.secret = config::is_secret_kafka_option(suffix);
    }
    o.properties.push_back(std::move(p));
  }
  return o;
}

}  // namespace logship::sinks::kafka
