#include "sinks/kafka/kafka_config.h"

#include "agent/core/secret_file.h"


#include <algorithm>
#include <cerrno>

#include "sinks/kafka/kafka_sink.h"

namespace logship::sinks::kafka {
namespace {

using config::iequals;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

constexpr config::KeySpec kKeys[] = {
    {
        .env = "LOGSHIP_KAFKA_BROKERS",
        .kind = config::Kind::kList,
        .help = "Kafka bootstrap brokers, host:port,...; required when LOGSHIP_SINK=kafka.",
        .order = 200,
        .bind = config::bind<&KafkaSettings::brokers>(),
    },
    {
        .env = "LOGSHIP_KAFKA_TOPIC",
        .kind = config::Kind::kString,
        .default_text = "logs",
        .help = "Kafka topic; {namespace}, {pod} and {container} are filled per record.",
        .order = 210,
        .bind = config::bind<&KafkaSettings::topic>(),
    },
    {
        .env = "LOGSHIP_KAFKA_TOPIC_FALLBACK",
        .kind = config::Kind::kString,
        .help = "Topic for records without the metadata a LOGSHIP_KAFKA_TOPIC placeholder needs; "
                "required when it has placeholders.",
        .order = 220,
        .bind = config::bind<&KafkaSettings::topic_fallback>(),
    },
    {
        .env = "LOGSHIP_KAFKA_KEY",
        .kind = config::Kind::kEnum,
        .default_text = "none",
        .choices = kKafkaKeyNames,
        .help = "Kafka message key: none (sticky partitioner), trace_id, pod (namespace/pod) or "
                "container (namespace/pod/container, keeps a container's lines in order).",
        .order = 230,
        .bind = config::bind<&KafkaSettings::key>(),
    },
    {
        .env = "LOGSHIP_KAFKA_OPT_",
        .kind = config::Kind::kPrefix,
        .help = "Any librdkafka property: LOGSHIP_KAFKA_OPT_SASL_MECHANISM=SCRAM-SHA-512 sets "
                "sasl.mechanism; a _FILE suffix reads the value from that file (secrets).",
        .order = 240,
        .entry_secret = is_secret_kafka_option,
        .bind = config::bind<&KafkaSettings::options>(),
    },
};

/// Why one LOGSHIP_KAFKA_BROKERS item is not a broker address, or "".
/// Accepted: host:port, [IPv6]:port, host (librdkafka's default port 9092),
/// each optionally after a security protocol ("SASL_SSL://host:port"), as
/// librdkafka's bootstrap.servers takes them.
std::string broker_problem(std::string_view item) {
  if (const size_t scheme = item.find("://"); scheme != std::string_view::npos) {
    const std::string_view proto = item.substr(0, scheme);
    constexpr std::string_view kProtocols[] = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"};
    if (std::none_of(std::begin(kProtocols), std::end(kProtocols),
                     [&](std::string_view p) { return iequals(p, proto); })) {
      return "unknown protocol \"" + std::string(proto) + "\" (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)";
    }
    item.remove_prefix(scheme + 3);
  }
  // Without a port librdkafka uses 9092; parse_listen wants one, so add it.
  const bool bracketed = item.starts_with('[');
  const bool has_port = bracketed ? item.find("]:") != std::string_view::npos
                                  : item.find(':') != std::string_view::npos;
  auto parsed = config::parse_listen(has_port ? std::string(item) : std::string(item) + ":9092");
  if (!parsed || !parsed->enabled) return parsed ? "missing host" : parsed.error();
  if (parsed->port == 0) return "port must be 1-65535";
  return "";
}

/// The rules of LOGSHIP_KAFKA_OPT_* entries: a property name, not one with a
/// key of its own, not one that breaks delivery reports, none set twice.
void check_options(const std::map<std::string, std::string>& options) {
  std::map<std::string, std::string> seen;  // librdkafka name -> the setting that set it
  for (const auto& [suffix, value] : options) {
    const std::string key = "LOGSHIP_KAFKA_OPT_" + suffix;
    const bool shape_ok = !suffix.empty() && suffix.front() != '_' && suffix.back() != '_' &&
                          suffix.find("__") == std::string::npos &&
                          std::all_of(suffix.begin(), suffix.end(), [](char ch) {
                            return is_digit(ch) || ch == '_' || (ascii_lower(ch) >= 'a' && ascii_lower(ch) <= 'z');
                          });
    if (!shape_ok) {
      config::fail(key + ": not a librdkafka property name; expected LOGSHIP_KAFKA_OPT_<NAME> with NAME the "
                 "property in upper case and '_' for '.', e.g. LOGSHIP_KAFKA_OPT_SASL_MECHANISM");
    }
    std::string name;
    const bool from_file = suffix.size() > 5 && iequals(std::string_view(suffix).substr(suffix.size() - 5), "_FILE");
    for (char ch : std::string_view(suffix).substr(0, suffix.size() - (from_file ? 5 : 0))) {
      name += ch == '_' ? '.' : ascii_lower(ch);
    }
    // Settings with a key of their own: two spellings of one setting would
    // leave the reader guessing which one wins.
    if (name == "bootstrap.servers" || name == "metadata.broker.list") {
      config::fail(key + ": set the brokers with LOGSHIP_KAFKA_BROKERS");
    }
    if (name == "compression.codec" || name == "compression.type") {
      config::fail(key + ": set the codec with LOGSHIP_COMPRESSION");
    }
    // The sink needs a delivery report for every message to commit checkpoints.
    if (name == "delivery.report.only.error") {
      config::fail(key + ": not supported: logship commits checkpoints from successful delivery reports");
    }
    // X and X_FILE (or two spellings of one name) would silently shadow
    // each other.
    if (auto [it, added] = seen.emplace(name, key); !added) {
      config::fail(key + ": sets the librdkafka property " + name + ", which " + it->second +
           " already sets; keep one of them");
    }
  }
}

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

Result<std::string> read_secret_file(const std::string& path) { return logship::read_secret_file(path); }

std::span<const config::KeySpec> kafka_keys() { return kKeys; }

void validate(const KafkaSettings& s, const config::SinkContext&, bool selected) {
  if (selected && s.brokers.empty()) {
    config::fail("LOGSHIP_KAFKA_BROKERS (--kafka-brokers) is required when LOGSHIP_SINK=kafka: "
                 "a comma-separated list of host:port");
  }
  for (const auto& broker : s.brokers) {
    if (auto why = broker_problem(broker); !why.empty()) {
      config::fail("LOGSHIP_KAFKA_BROKERS: \"" + broker + "\" is not a broker address (" + why +
                   "); expected host:port, [IPv6]:port or host (port 9092), optionally after PROTOCOL://");
    }
  }
  const auto parts = parse_topic_template(s.topic, /*allow_placeholders=*/true);
  if (!parts) config::fail("LOGSHIP_KAFKA_TOPIC: \"" + s.topic + "\" " + parts.error());
  const bool templated = std::any_of(parts->begin(), parts->end(), [](const TopicPart& p) {
    return p.kind != TopicPart::Kind::kText;
  });
  if (s.topic_fallback) {
    if (auto fb = parse_topic_template(*s.topic_fallback, false); !fb) {
      config::fail("LOGSHIP_KAFKA_TOPIC_FALLBACK: \"" + *s.topic_fallback + "\" " + fb.error());
    }
  } else if (selected && templated) {
    // Explicit rather than a silent "logs": with placeholders, a record from
    // a non-Kubernetes path would otherwise land in a topic nobody chose.
    config::fail("LOGSHIP_KAFKA_TOPIC_FALLBACK (--kafka-topic-fallback) is required when LOGSHIP_KAFKA_TOPIC has "
                 "placeholders (\"" + s.topic + "\"): it names the topic for records without that "
                 "Kubernetes metadata");
  }
  check_options(s.options);
}

Result<SinkPtr> create(const KafkaSettings& settings, const config::SinkContext& context) {
  auto options = options_from_settings(settings, context);
  if (!options) return std::unexpected(options.error());
  auto sink = KafkaSink::create(std::move(*options));
  if (!sink) return std::unexpected(sink.error());
  return SinkPtr(std::move(*sink));
}

Result<KafkaSinkOptions> options_from_settings(const KafkaSettings& s, const config::SinkContext& context,
                                               const SecretReader& read) {
  KafkaSinkOptions o;
  for (const auto& b : s.brokers) {
    if (!o.brokers.empty()) o.brokers += ',';
    o.brokers += b;
  }
  auto parts = parse_topic_template(s.topic, /*allow_placeholders=*/true);
  if (!parts) return fail(Errc::kInvalid, "LOGSHIP_KAFKA_TOPIC: \"" + s.topic + "\" " + parts.error());
  o.topic = std::move(*parts);
  o.topic_text = s.topic;
  o.topic_fallback = s.topic_fallback;
  o.key = s.key;
  o.compression = context.compression.empty() ? std::string(kDefaultCompression) : context.compression;
  o.memory_limit = context.memory_budget;
  o.max_record_bytes = context.max_record_bytes;
  // Oneshot must end: failed batches go back to the pipeline, whose retry
  // policy gives up after a few attempts. Follow mode waits it out in the
  // sink, where only the failed messages are produced again.
  o.redeliver_in_sink = !context.oneshot;
  for (const auto& [suffix, value] : s.options) {
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
      p.secret = is_secret_kafka_option(suffix);
    }
    o.properties.push_back(std::move(p));
  }
  return o;
}

bool is_secret_kafka_option(std::string_view suffix) {
  // A _FILE entry's value is the path; the sink hides what it reads.
  if (suffix.size() > 5 && iequals(suffix.substr(suffix.size() - 5), "_FILE")) return false;
  const std::string name = property_name(suffix);
  // Substrings, not exact names: librdkafka grows new credentials
  // (ssl.keystore.password, sasl.oauthbearer.client.secret, ...) and hiding
  // a harmless value such as ssl.key.location costs nothing.
  constexpr std::string_view kMarkers[] = {"password", "secret", "key", "token", "sasl.oauthbearer.config"};
  return std::any_of(std::begin(kMarkers), std::end(kMarkers),
                     [&](std::string_view m) { return name.find(m) != std::string::npos; });
}

namespace {

// Kafka's own rule (org.apache.kafka.common.internals.Topic): [a-zA-Z0-9._-].
bool topic_char(char c) {
  return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z') || c == '.' || c == '_' || c == '-';
}

}  // namespace

bool valid_topic_name(std::string_view topic) {
  // 1..249 topic characters, and not "." or "..".
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  return std::all_of(topic.begin(), topic.end(), topic_char);
}

std::expected<std::vector<TopicPart>, std::string> parse_topic_template(std::string_view topic,
                                                                        bool allow_placeholders) {
  constexpr std::pair<std::string_view, TopicPart::Kind> kPlaceholders[] = {
      {"{namespace}", TopicPart::Kind::kNamespace},
      {"{pod}", TopicPart::Kind::kPod},
      {"{container}", TopicPart::Kind::kContainer},
  };
  std::vector<TopicPart> parts;
  size_t pos = 0;
  while (pos < topic.size()) {
    if (topic[pos] == '{') {
      bool known = false;
      for (const auto& [word, kind] : kPlaceholders) {
        if (topic.substr(pos).starts_with(word)) {
          if (!allow_placeholders) return std::unexpected("must not contain placeholders such as " + std::string(word));
          parts.push_back(TopicPart{.kind = kind, .text = {}});
          pos += word.size();
          known = true;
          break;
        }
      }
      if (!known) {
        const size_t close = topic.find('}', pos);
        const std::string what(topic.substr(pos, close == std::string_view::npos ? 1 : close - pos + 1));
        return std::unexpected("has an unknown placeholder \"" + what +
                               "\"; the placeholders are {namespace}, {pod} and {container}");
      }
      continue;
    }
    const size_t next = std::min(topic.find('{', pos), topic.size());
    const std::string_view text = topic.substr(pos, next - pos);
    for (char c : text) {
      if (!topic_char(c)) {
        return std::unexpected("has the character '" + std::string(1, c) +
                               "', which Kafka does not allow in topic names (A-Z a-z 0-9 . _ -)");
      }
    }
    parts.push_back(TopicPart{.kind = TopicPart::Kind::kText, .text = std::string(text)});
    pos = next;
  }
  const bool templated = std::any_of(parts.begin(), parts.end(),
                                     [](const TopicPart& p) { return p.kind != TopicPart::Kind::kText; });
  if (!templated && !valid_topic_name(topic)) {
    return std::unexpected("is not a valid topic name (1 to 249 of A-Z a-z 0-9 . _ -, not \".\" or \"..\")");
  }
  return parts;
}

}  // namespace logship::sinks::kafka
