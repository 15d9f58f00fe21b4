#include "agent/admin/tap.h"

#include <fnmatch.h>

#include <algorithm>

namespace logship::admin {
namespace {

bool glob_matches(const std::string& glob, std::string_view value) {
  if (glob == "*") return true;
  // fnmatch needs a NUL-terminated string; names are short.
  const std::string v(value);
  return ::fnmatch(glob.c_str(), v.c_str(), 0) == 0;
}

}  // namespace

bool TapFilter::matches(std::string_view ns, std::string_view pod, std::string_view container) const {
  return glob_matches(namespace_glob, ns) && glob_matches(pod_glob, pod) && glob_matches(container_glob, container);
}

Tap::Tap() : Tap(Options{}) {}

Tap::Tap(Options options) : options_(options) {}

Tap::~Tap() = default;

void Tap::offer(std::string_view ns, std::string_view pod, std::string_view container, std::string_view record) {
  if (!active()) return;
  // try_lock: the pipeline never waits for the tap. The server holds the
  // lock only to swap a buffer, so a skip here is rare.
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    skipped_busy_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  for (const auto& c : clients_list_) {
    if (!c->filter.matches(ns, pod, container)) continue;
    if (c->buffer.size() + record.size() + 1 > options_.buffer_bytes) {
      ++c->skipped;
      skipped_full_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    c->buffer.append(record);
    c->buffer.push_back('\n');
    queued_.fetch_add(1, std::memory_order_relaxed);
  }
}

Result<std::unique_ptr<Tap::Subscription>> Tap::subscribe(TapFilter filter) {
  std::lock_guard lock(mu_);
  if (clients_list_.size() >= options_.max_clients) {
    return fail(Errc::kUnavailable,
                "the tap serves at most " + std::to_string(options_.max_clients) + " clients at once");
  }
  auto client = std::make_unique<Client>();
  client->filter = std::move(filter);
  // Reserved up front: appends in offer() then rarely allocate under the lock.
  client->buffer.reserve(std::min<std::size_t>(options_.buffer_bytes, 64 * 1024));
  Client* raw = client.get();
  clients_list_.push_back(std::move(client));
  clients_.store(clients_list_.size(), std::memory_order_relaxed);
  return std::unique_ptr<Subscription>(new Subscription(*this, raw));
}

void Tap::unsubscribe(Client* client) {
  std::lock_guard lock(mu_);
  std::erase_if(clients_list_, [client](const auto& c) { return c.get() == client; });
  clients_.store(clients_list_.size(), std::memory_order_relaxed);
}

TapStats Tap::stats() const {
  return TapStats{queued_.load(std::memory_order_relaxed), skipped_full_.load(std::memory_order_relaxed),
                  skipped_busy_.load(std::memory_order_relaxed), clients_.load(std::memory_order_relaxed)};
}

Metrics::CollectorId Tap::register_metrics(Metrics& metrics) const {
  metrics.describe("logship_tap_records_total", "Record copies queued for live tap clients.", Type::kCounter);
  metrics.describe("logship_tap_records_skipped_total",
                   "Records a live tap client did not get (its buffer was full or busy); shipping is not affected.",
                   Type::kCounter);
  metrics.describe("logship_tap_clients", "Live tap clients connected.", Type::kGauge);
  return metrics.add_collector([this](Metrics& m) {
    const TapStats s = stats();
    m.set("logship_tap_records_total", static_cast<double>(s.queued));
    m.set("logship_tap_records_skipped_total", static_cast<double>(s.skipped_full + s.skipped_busy));
    m.set("logship_tap_clients", static_cast<double>(s.clients));
  });
}

Tap::Subscription::~Subscription() { tap_.unsubscribe(client_); }

std::size_t Tap::Subscription::drain(std::string& out) {
  spare_.clear();
  {
    std::lock_guard lock(tap_.mu_);
    client_->buffer.swap(spare_);
  }
  const auto n = static_cast<std::size_t>(std::count(spare_.begin(), spare_.end(), '\n'));
  out.append(spare_);
  return n;
}

uint64_t Tap::Subscription::skipped() {
  std::lock_guard lock(tap_.mu_);
  return client_->skipped;
}

}  // namespace logship::admin
