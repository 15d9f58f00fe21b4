// kafka_consume: reads back what is in Kafka topics, for the black-box tests.
//
//   kafka_consume --brokers HOST:PORT[,...] --topic T [--topic T2 ...] [--timeout-ms 60000] [--count]
//
// For each topic it takes the high watermark of every partition first, then
// reads every partition from its low watermark up to that mark, so the output
// is exactly what the brokers had acknowledged when it started: no idle
// timeouts, no guessing whether more is coming. One JSON line per message on
// stdout, in partition order:
//   {"topic":"t","partition":0,"offset":5,"key":"<base64>"|null,
//    "headers":[["release","<base64>"],...],"value":"<base64>"}
// base64 keeps bytes exact. With --count it reads nothing and prints only
// the number of messages the topics hold (sum of high - low watermarks).
// Exit 0 when every partition was read to its mark, 1 on timeout or error
// (message on stderr), 2 on usage errors.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string base64(const void* data, size_t len) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((len + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < len) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < len) v |= uint32_t{p[i + 1]} << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < len ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

/// JSON string for a topic or header name (plain ASCII in practice).
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

int usage() {
  std::fprintf(stderr,
               "usage: kafka_consume --brokers HOST:PORT[,...] --topic T [--topic T2 ...] [--timeout-ms N] [--count]\n");
  return 2;
}

struct Deleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string brokers;
  std::vector<std::string> topics;
  int timeout_ms = 60000;
  bool count_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--count") {
      count_only = true;
      continue;
    }
    if (i + 1 >= argc) return usage();
    if (a == "--brokers") brokers = argv[++i];
    else if (a == "--topic") topics.emplace_back(argv[++i]);
    else if (a == "--timeout-ms") timeout_ms = std::atoi(argv[++i]);
    else return usage();
  }
  if (brokers.empty() || topics.empty()) return usage();
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto left_ms = [&] {
    return static_cast<int>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
  };

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", brokers},
      {"group.id", "logship-test-reader"},  // required by the consumer; nothing is committed
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "false"},
      {"log_level", "3"},
  };
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "kafka_consume: %s\n", errstr);
      return 1;
    }
  }
  std::unique_ptr<rd_kafka_t, Deleter> rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr));
  if (!rk) {
    std::fprintf(stderr, "kafka_consume: %s\n", errstr);
    return 1;
  }

  // Partitions and their [low, high) ranges, taken before reading.
  struct Range {
    int64_t low = 0, high = 0, next = 0;
  };
  std::map<std::pair<std::string, int32_t>, Range> ranges;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(16);
  for (const auto& topic : topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    // A just-created topic may not have leaders yet: ask again until it does.
    while (Clock::now() < deadline) {
      err = rd_kafka_metadata(rk.get(), 0, rkt, &md, left_ms());
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 && md->topics[0].err == 0 &&
          md->topics[0].partition_cnt > 0) {
        break;
      }
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
        rd_kafka_metadata_destroy(md);
        md = nullptr;
      }
      rd_kafka_poll(rk.get(), 200);
    }
    if (md == nullptr) {
      std::fprintf(stderr, "kafka_consume: metadata of %s: %s\n", topic.c_str(), rd_kafka_err2str(err));
      rd_kafka_topic_destroy(rkt);
      return 1;
    }
    for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
      const int32_t id = md->topics[0].partitions[p].id;
      Range r;
      // After a broker died the partition may be between leaders for a
      // while (election, stale metadata): those answers are asked again
      // until the deadline, anything else is an error at once.
      for (;;) {
        err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), id, &r.low, &r.high, left_ms());
        const bool transient = err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                               err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                               err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                               err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
        if (!transient || Clock::now() >= deadline) break;
        rd_kafka_poll(rk.get(), 200);
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "kafka_consume: watermarks of %s/%d: %s\n", topic.c_str(), id, rd_kafka_err2str(err));
        return 1;
      }
      r.next = r.low;
      if (r.high > r.low) {
        ranges[{topic, id}] = r;
        rd_kafka_topic_partition_list_add(assignment, topic.c_str(), id)->offset = r.low;
      }
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
  }
  if (count_only) {
    int64_t total = 0;
    for (const auto& [tp, r] : ranges) total += r.high - r.low;
    std::printf("%lld\n", static_cast<long long>(total));
    rd_kafka_topic_partition_list_destroy(assignment);
    return 0;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), assignment); err) {
    std::fprintf(stderr, "kafka_consume: assign: %s\n", rd_kafka_err2str(err));
    return 1;
  }
  rd_kafka_topic_partition_list_destroy(assignment);

  size_t open_partitions = ranges.size();
  std::string line;
  while (open_partitions > 0) {
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "kafka_consume: timed out with %zu partition(s) not read to their end\n", open_partitions);
      return 1;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 200);
    if (m == nullptr) continue;
    if (m->err) {
      std::fprintf(stderr, "kafka_consume: %s\n", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    const std::string topic = rd_kafka_topic_name(m->rkt);
    auto it = ranges.find({topic, m->partition});
    if (it == ranges.end() || m->offset < it->second.next || it->second.next >= it->second.high) {
      rd_kafka_message_destroy(m);
      continue;
    }
    line = "{\"topic\":" + quoted(topic) + ",\"partition\":" + std::to_string(m->partition) +
           ",\"offset\":" + std::to_string(m->offset) + ",\"key\":";
    line += m->key ? "\"" + base64(m->key, m->key_len) + "\"" : "null";
    line += ",\"headers\":[";
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        if (i) line += ',';
        line += "[" + quoted(name) + ",\"" + base64(value, size) + "\"]";
      }
    }
    line += "],\"value\":\"" + base64(m->payload, m->len) + "\"}\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    // Offsets may skip (transaction markers, compaction): the mark counts.
    it->second.next = m->offset + 1;
    if (it->second.next >= it->second.high) --open_partitions;
    rd_kafka_message_destroy(m);
  }
  std::fflush(stdout);
  return 0;
}
