#include "agent/admin/metrics.h"

#include <charconv>
#include <cmath>

#include "agent/core/log.h"

namespace logship::admin {
namespace {

constexpr std::string_view kComponent = "admin";

bool is_name_start(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}

bool is_name_char(char c, bool colon_ok) { return is_name_start(c, colon_ok) || (c >= '0' && c <= '9'); }

// Metric names may contain ':' (recording rules use it); label names may not.
bool valid_name(std::string_view name, bool colon_ok) {
  if (name.empty() || !is_name_start(name[0], colon_ok)) return false;
  for (char c : name) {
    if (!is_name_char(c, colon_ok)) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  // Names starting with "__" are reserved for Prometheus' internal use.
  return valid_name(name, false) && !name.starts_with("__");
}

// HELP text escapes only backslash and newline; label values also escape the
// double quote that delimits them.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '"':
        if (quote) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default: out += c;
    }
  }
}

std::string_view type_name(Type type) { return type == Type::kCounter ? "counter" : "gauge"; }

void append_header(std::string& out, std::string_view name, std::string_view help, Type type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type_name(type);
  out += '\n';
}

}  // namespace

void append_value(std::string& out, double value) {
  // Prometheus parses values with Go's ParseFloat, which wants these exact
  // spellings for the special values.
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  // Integral values (counters copied from uint64 atomics, byte gauges) print
  // as plain integers: the shortest form would write 1000000 as "1e+06".
  // Below 2^63 the conversion to int64 is exact for any integral double.
  if (std::trunc(value) == value && std::fabs(value) < 9.2e18) {
    const auto res = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
    out.append(buf, res.ptr);
    return;
  }
  // Otherwise the shortest form that parses back to the same double.
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

Metrics::Metrics(std::size_t max_series_per_family) : max_series_(max_series_per_family) {}

Metrics::Family* Metrics::find_locked(std::string_view name) {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &families_[it->second];
}

void Metrics::describe(std::string name, std::string help, Type type) {
  if (!valid_name(name, true) || name == kSeriesDroppedMetric) {
    log::error(kComponent, "metric name refused", {{"name", name}});
    return;
  }
  std::lock_guard lock(mu_);
  if (Family* f = find_locked(name)) {
    f->help = std::move(help);
    f->type = type;
    return;
  }
  index_.emplace(name, families_.size());
  Family f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  families_.push_back(std::move(f));
}

Metrics::Family* Metrics::find_for_set_locked(std::string_view name) {
  Family* f = find_locked(name);
  // Warn once per name: a collector sets the same names at every scrape.
  if (f == nullptr && warned_undescribed_.emplace(name).second) {
    log::warn(kComponent, "set of an undescribed metric ignored", {{"name", name}});
  }
  return f;
}

void Metrics::set(std::string_view name, double value) {
  std::lock_guard lock(mu_);
  Family* f = find_for_set_locked(name);
  if (f == nullptr) return;
  f->value = value;
}

void Metrics::set(std::string_view name, std::string_view label_name, std::string_view label_value,
                  double value) {
  std::lock_guard lock(mu_);
  Family* f = find_for_set_locked(name);
  if (f == nullptr) return;
  if (!valid_label_name(label_name)) {
    if (!f->warned_bad_label) {
      f->warned_bad_label = true;
      log::warn(kComponent, "invalid label name ignored", {{"name", name}, {"label", label_name}});
    }
    return;
  }
  upsert_series_locked(*f, label_name, label_value, value);
}

void Metrics::upsert_series_locked(Family& f, std::string_view first, std::string_view second, double value) {
  // Heterogeneous lookup first so updating an existing series allocates nothing.
  const auto key = std::pair<std::string_view, std::string_view>(first, second);
  if (auto it = f.series.find(key); it != f.series.end()) {
    it->second = value;
    return;
  }
  if (f.series.size() >= max_series_) {
    ++series_dropped_;
    return;
  }
  f.series.emplace(std::pair(std::string(first), std::string(second)), value);
}

// A two-label series is stored under a key whose first part is the rendered
// label set behind this marker (never a valid label name), second empty.
constexpr char kRenderedLabels = '\x01';

void Metrics::set(std::string_view name, std::string_view label1, std::string_view value1,
                  std::string_view label2, std::string_view value2, double value) {
  if (!valid_label_name(label1) || !valid_label_name(label2)) {
    set(name, valid_label_name(label1) ? label2 : label1, "", value);  // logs the bad name once
    return;
  }
  std::string rendered(1, kRenderedLabels);
  rendered.append(label1).append("=\"");
  append_escaped(rendered, value1, true);
  rendered.append("\",").append(label2).append("=\"");
  append_escaped(rendered, value2, true);
  rendered += '"';
  std::lock_guard lock(mu_);
  Family* f = find_for_set_locked(name);
  if (f == nullptr) return;
  upsert_series_locked(*f, rendered, "", value);
}

void Metrics::remove(std::string_view name, std::string_view label_name, std::string_view label_value) {
  std::lock_guard lock(mu_);
  Family* f = find_locked(name);
  if (f == nullptr) return;
  const auto key = std::pair<std::string_view, std::string_view>(label_name, label_value);
  if (auto it = f->series.find(key); it != f->series.end()) f->series.erase(it);
}

void Metrics::clear(std::string_view name) {
  std::lock_guard lock(mu_);
  Family* f = find_locked(name);
  if (f == nullptr) return;
  f->value.reset();
  f->series.clear();
}

Metrics::CollectorId Metrics::add_collector(Collector collector) {
  std::lock_guard lock(collectors_mu_);
  const CollectorId id = next_collector_id_++;
  collectors_.emplace_back(id, std::move(collector));
  return id;
}

void Metrics::remove_collector(CollectorId id) {
  // Taking collectors_mu_ waits out a render() that may be running this
  // collector, which is what lets the owner destroy its state afterwards.
  std::lock_guard lock(collectors_mu_);
  std::erase_if(collectors_, [id](const auto& c) { return c.first == id; });
}

std::string Metrics::render() {
  std::lock_guard collect_lock(collectors_mu_);
  // Collectors call set(), which takes mu_: they must run before mu_ is held.
  for (auto& [id, collector] : collectors_) collector(*this);

  std::string out;
  std::lock_guard lock(mu_);
  for (const Family& f : families_) {
    append_header(out, f.name, f.help, f.type);
    if (f.value) {
      out += f.name;
      out += ' ';
      append_value(out, *f.value);
      out += '\n';
    }
    for (const auto& [label, value] : f.series) {
      out += f.name;
      out += '{';
      if (!label.first.empty() && label.first[0] == kRenderedLabels) {
        out.append(label.first, 1);
        out += "} ";
      } else {
        out += label.first;
        out += "=\"";
        append_escaped(out, label.second, true);
        out += "\"} ";
      }
      append_value(out, value);
      out += '\n';
    }
  }
  append_header(out, kSeriesDroppedMetric,
                "Label values refused because their metric family was at its series limit.",
                Type::kCounter);
  out += kSeriesDroppedMetric;
  out += ' ';
  append_value(out, static_cast<double>(series_dropped_));
  out += '\n';
  return out;
}

}  // namespace logship::admin
