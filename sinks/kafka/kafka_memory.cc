#include "sinks/kafka/kafka_memory.h"

#include <algorithm>

namespace logship::sinks::kafka {

ProducerMemory producer_memory(size_t memory_limit) {
  ProducerMemory m;
  // Message structs and requests in flight get an eighth each; the rest
  // of the reserve (3/16) is for what no librdkafka setting bounds.
  m.reserved = memory_limit / 16 * 7;
  const size_t eighth = memory_limit / 8;
  // Fewer than 1000 messages would starve librdkafka's batching (a 1 MB
  // batch of ~500-byte records is ~2000 messages); 1M bounds the structs
  // for very large limits.
  m.max_messages = std::clamp<size_t>(eighth / kMessageOverhead, 1000, 1000000);
  // Each in-flight request holds its compressed output (a fifth to a half
  // of the batch for logs) and, if message.copy.max.bytes is raised, a copy
  // of the batch that librdkafka keeps after compressing: 1.5 batches each
  // covers both.
  m.batch_size = std::clamp<size_t>(eighth * 2 / (3 * kInFlightRequests), 64 << 10, 1000000);
  m.max_kbytes = std::max<size_t>(1, (memory_limit - m.reserved) / 1024);
  return m;
}

}  // namespace logship::sinks::kafka
