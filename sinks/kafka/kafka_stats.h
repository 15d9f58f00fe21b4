#pragma once
// The parts of librdkafka's statistics JSON (statistics.interval.ms) that
// logship exports: per-broker state and round-trip time.
//
// Threading: parse_stats is pure; the caller owns the parser it passes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace logship::sinks::kafka {

struct BrokerStats {
  std::string name;    ///< librdkafka's broker name, e.g. "127.0.0.1:9092/1"
  int32_t node_id = -1;
  std::string state;   ///< "UP", "DOWN", "CONNECT", ...
  int64_t rtt_avg_us = 0;  ///< average request round trip over the last window; 0 without samples

  friend bool operator==(const BrokerStats&, const BrokerStats&) = default;
};

struct ClientStats {
  /// Brokers learnt from metadata (node_id >= 0); bootstrap and internal
  /// entries are left out so the series match the cluster's brokers.
  std::vector<BrokerStats> brokers;
  int brokers_up = 0;
};

/// Parses one statistics document. Missing fields keep their defaults.
[[nodiscard]] Result<ClientStats> parse_stats(std::string_view json);

}  // namespace logship::sinks::kafka
