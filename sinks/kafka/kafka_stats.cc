#include "sinks/kafka/kafka_stats.h"

#include <simdjson.h>

namespace logship::sinks::kafka {

Result<ClientStats> parse_stats(std::string_view json) {
  // Once per statistics interval (seconds): a fresh parser and a padded copy
  // cost nothing worth keeping state for.
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err) {
    return fail(Errc::kInvalid, std::string("librdkafka statistics: ") + simdjson::error_message(err));
  }
  ClientStats out;
  simdjson::dom::object brokers;
  if (doc["brokers"].get(brokers) != simdjson::SUCCESS) return out;
  for (auto [name, value] : brokers) {
    BrokerStats b;
    b.name = std::string(name);
    int64_t node = -1;
    if (value["nodeid"].get(node) == simdjson::SUCCESS) b.node_id = static_cast<int32_t>(node);
    if (b.node_id < 0) continue;  // bootstrap placeholder or internal
    std::string_view state;
    if (value["state"].get(state) == simdjson::SUCCESS) b.state = std::string(state);
    int64_t rtt = 0;
    if (value["rtt"]["avg"].get(rtt) == simdjson::SUCCESS) b.rtt_avg_us = rtt;
    if (b.state == "UP") ++out.brokers_up;
    out.brokers.push_back(std::move(b));
  }
  return out;
}

}  // namespace logship::sinks::kafka
