#pragma once
// How the Kafka sink shares LOGSHIP_MEMORY_LIMIT with librdkafka.
//
// The pipeline charges the batches in flight against the limit, and
// librdkafka reads message values straight out of them (zero copy), so the
// values are charged once. What is not in any batch is librdkafka's own
// memory: a message struct per queued message (plus its key and header
// copies) and, per broker, the produce requests in flight (their compressed
// output; values are referenced, message.copy.max.bytes=0, but an override
// would make librdkafka copy them into the request first). The sink takes a share of the limit
// for that (Sink::reserved_memory(), which the pipeline subtracts from its
// in-flight budget) and caps librdkafka to it, so peak RSS at full speed
// stays within the limit plus the process's fixed size.
//
// Threading: pure.

#include <cstddef>

namespace logship::sinks::kafka {

/// librdkafka's memory caps derived from the memory limit.
struct ProducerMemory {
  /// Taken out of the pipeline's in-flight budget for librdkafka.
  size_t reserved = 0;
  /// queue.buffering.max.messages: message structs in an eighth of the limit.
  size_t max_messages = 0;
  /// queue.buffering.max.kbytes: the value bytes librdkafka may queue; they
  /// are the batches' own bytes, so this is the pipeline's share, never more.
  size_t max_kbytes = 0;
  /// batch.size (uncompressed bytes of one partition's batch): the broker's
  /// default message.max.bytes (1,048,588) holds even an incompressible one.
  size_t batch_size = 0;
};

/// librdkafka's cost per queued message assumed by the caps: its message
/// struct (~200 bytes), the key, the two headers (three allocations), and
/// malloc's overhead on each.
inline constexpr size_t kMessageOverhead = 512;
/// Produce requests a broker connection has in flight (idempotence: <= 5).
inline constexpr size_t kInFlightRequests = 5;

/// The caps for `memory_limit` (LOGSHIP_MEMORY_LIMIT): 7/16 of it is
/// reserved for librdkafka: an eighth of the limit for message structs
/// (max_messages); an eighth for the in-flight requests of a broker
/// (kInFlightRequests batches, uncompressed copy plus compressed output,
/// ~1.5 batches each), which sets batch.size (1,000,000 from a 64 MiB limit
/// up); and 3/16 for what no setting bounds (librdkafka's threads and code,
/// zstd contexts, buffers malloc keeps after librdkafka frees them: peak
/// RSS at the default limit measured 61-67 MiB with a 3/8 reserve). With
/// several brokers leading partitions, each has its own requests in
/// flight: the estimate is for one.
[[nodiscard]] ProducerMemory producer_memory(size_t memory_limit);

}  // namespace logship::sinks::kafka
