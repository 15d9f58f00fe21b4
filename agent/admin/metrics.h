#pragma once
// A small registry of counters and gauges rendered in the Prometheus text
// exposition format 0.0.4 for GET /metrics.
//
// The registry does not own the numbers: components keep their counters in
// their own relaxed atomics (pipeline::Stats) and either push values with
// set() or register a collector that copies them in at each scrape. That
// keeps the data path free of locks and of this header.
//
// Threading: every method is safe from any thread. set()/remove()/clear()
// take one internal mutex briefly. render() runs the collectors and then
// formats under that mutex; concurrent render() calls are serialised.
// Collectors run on the thread that calls render() (the admin server thread)
// and must not call add_collector(), remove_collector() or render().

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logship::admin {

/// The metric type written on the `# TYPE` line.
enum class Type { kCounter, kGauge };

/// Default bound on labelled series per family.
inline constexpr std::size_t kDefaultMaxSeriesPerFamily = 2000;

/// The registry's own counter of label values refused at the series cap.
inline constexpr std::string_view kSeriesDroppedMetric = "logship_metrics_series_dropped_total";

/// Thread-safe registry of metric families. Each family has a help text, a
/// type, at most one unlabelled series and any number (up to the cap) of
/// series carrying exactly one label pair.
class Metrics {
 public:
  /// Identifies a collector for remove_collector().
  using CollectorId = uint64_t;
  /// Called at each scrape, before rendering, with this registry.
  using Collector = std::function<void(Metrics&)>;

  /// `max_series_per_family` bounds the labelled series of each family, so a
  /// label fed from unbounded input (file paths) cannot grow memory without
  /// limit. The unlabelled series does not count towards it.
  explicit Metrics(std::size_t max_series_per_family = kDefaultMaxSeriesPerFamily);

  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// Declares a family; families render in the order they were first
  /// described. Describing a name again updates its help and type and keeps
  /// its series. An invalid name (not [a-zA-Z_:][a-zA-Z0-9_:]*) or the
  /// reserved kSeriesDroppedMetric is refused with an error log: metric
  /// names are programming constants, so this is a bug to fix, not a state
  /// to handle at run time.
  void describe(std::string name, std::string help, Type type);

  /// Sets the unlabelled series of `name`. A name that was never described
  /// is ignored (logged once per name).
  void set(std::string_view name, double value);

  /// Sets the series `name{label_name="label_value"}`. A new series beyond
  /// the family's cap is not created and counts one in
  /// kSeriesDroppedMetric (so the count is of refused updates: a collector
  /// pushing the same refused series at every scrape counts it each time).
  /// Label values may hold any bytes; they are escaped when rendered. An
  /// invalid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__") is
  /// ignored and logged once per family.
  void set(std::string_view name, std::string_view label_name, std::string_view label_value,
           double value);

  /// Sets the series `name{label1="value1",label2="value2"}` (same rules and
  /// cap as the one-label set(); a family should use one label shape).
  void set(std::string_view name, std::string_view label1, std::string_view value1, std::string_view label2,
           std::string_view value2, double value);

  /// Removes one labelled series (e.g. for a file no longer tailed). No-op
  /// when absent.
  void remove(std::string_view name, std::string_view label_name, std::string_view label_value);

  /// Removes every series of `name` (labelled and unlabelled) but keeps the
  /// family described. A collector rebuilding a labelled family from scratch
  /// calls clear() and then set() for each live series.
  void clear(std::string_view name);

  /// Registers a collector, run at each render() in registration order.
  /// The collector must stay callable until remove_collector() returns (or
  /// for the registry's lifetime): it typically captures its owner, so an
  /// owner that dies before the registry must remove its collector first.
  CollectorId add_collector(Collector collector);

  /// Unregisters a collector. When this returns the collector is not running
  /// and will not run again. Unknown ids are ignored.
  void remove_collector(CollectorId id);

  /// Runs the collectors, then returns the exposition text: for each family
  /// `# HELP`, `# TYPE` and its samples (unlabelled first, then labelled in
  /// label order), and kSeriesDroppedMetric last.
  [[nodiscard]] std::string render();

 private:
  // Orders (label name, label value) pairs and lets a pair of string_views
  // look up a series without building the owning strings.
  struct LabelLess {
    using is_transparent = void;
    using View = std::pair<std::string_view, std::string_view>;
    static View view(const std::pair<std::string, std::string>& p) { return {p.first, p.second}; }
    static View view(const View& p) { return p; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return view(a) < view(b);
    }
  };

  struct Family {
    std::string name;
    std::string help;
    Type type = Type::kGauge;
    std::optional<double> value;  // the unlabelled series
    // (label name, label value) -> value; ordered so the output is stable.
    std::map<std::pair<std::string, std::string>, double, LabelLess> series;
    bool warned_bad_label = false;
  };

  Family* find_locked(std::string_view name);
  /// find_locked, logging (once per name) a set() of an undescribed metric.
  Family* find_for_set_locked(std::string_view name);
  /// Sets the series keyed (first, second), creating it unless the family
  /// is at max_series_ (then counted as dropped).
  void upsert_series_locked(Family& f, std::string_view first, std::string_view second, double value);

  const std::size_t max_series_;

  std::mutex mu_;  // guards everything below up to collectors_mu_
  std::vector<Family> families_;  // describe order
  std::map<std::string, std::size_t, std::less<>> index_;  // name -> families_ index
  std::set<std::string, std::less<>> warned_undescribed_;
  uint64_t series_dropped_ = 0;

  // Held across a whole render() so that collectors never run concurrently
  // with each other and remove_collector() can wait for a running one.
  std::mutex collectors_mu_;
  std::vector<std::pair<CollectorId, Collector>> collectors_;
  CollectorId next_collector_id_ = 1;
};

/// Appends `value` as the exposition format writes it: integral values as
/// plain integers, others in the shortest round-trip decimal form, and
/// "NaN", "+Inf" or "-Inf". Exposed for tests.
void append_value(std::string& out, double value);

}  // namespace logship::admin
