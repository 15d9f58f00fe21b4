#include "agent/admin/metrics.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using namespace logship::admin;

namespace {

// The trailer every render ends with: the registry's own drop counter.
std::string dropped_family(uint64_t n) {
  return "# HELP logship_metrics_series_dropped_total Label values refused because their metric "
         "family was at its series limit.\n"
         "# TYPE logship_metrics_series_dropped_total counter\n"
         "logship_metrics_series_dropped_total " +
         std::to_string(n) + "\n";
}

std::string value_text(double v) {
  std::string out;
  append_value(out, v);
  return out;
}

}  // namespace

TEST_CASE("metrics: an empty registry renders only its own drop counter", "[admin]") {
  Metrics m;
  CHECK(m.render() == dropped_family(0));
}

TEST_CASE("metrics: exact text, families in describe order", "[admin]") {
  Metrics m;
  m.describe("zeta_bytes_total", "Bytes read.", Type::kCounter);
  m.describe("alpha_in_flight", "Bytes in flight.", Type::kGauge);
  m.describe("never_set", "Described but no samples yet.", Type::kGauge);
  m.set("zeta_bytes_total", 12345678901.0);
  m.set("alpha_in_flight", "file", "/var/log/b.log", 2.5);
  m.set("alpha_in_flight", "file", "/var/log/a.log", 1);
  m.set("alpha_in_flight", 7);
  CHECK(m.render() ==
        "# HELP zeta_bytes_total Bytes read.\n"
        "# TYPE zeta_bytes_total counter\n"
        "zeta_bytes_total 12345678901\n"
        "# HELP alpha_in_flight Bytes in flight.\n"
        "# TYPE alpha_in_flight gauge\n"
        "alpha_in_flight 7\n"
        "alpha_in_flight{file=\"/var/log/a.log\"} 1\n"
        "alpha_in_flight{file=\"/var/log/b.log\"} 2.5\n"
        "# HELP never_set Described but no samples yet.\n"
        "# TYPE never_set gauge\n" +
            dropped_family(0));
}

TEST_CASE("metrics: set overwrites; describe again updates help and type, keeps series", "[admin]") {
  Metrics m;
  m.describe("x", "old", Type::kGauge);
  m.set("x", 1);
  m.set("x", 2);
  m.set("x", "k", "v", 3);
  m.set("x", "k", "v", 4);
  m.describe("x", "new", Type::kCounter);
  CHECK(m.render() ==
        "# HELP x new\n# TYPE x counter\nx 2\nx{k=\"v\"} 4\n" + dropped_family(0));
}

TEST_CASE("metrics: label values and help text are escaped", "[admin]") {
  Metrics m;
  m.describe("esc", "Back\\slash, \"quotes\" stay,\nnewline escaped.", Type::kGauge);
  m.set("esc", "path", "C:\\logs\\\"x\"\nnext", 1);
  CHECK(m.render() ==
        "# HELP esc Back\\\\slash, \"quotes\" stay,\\nnewline escaped.\n"
        "# TYPE esc gauge\n"
        "esc{path=\"C:\\\\logs\\\\\\\"x\\\"\\nnext\"} 1\n" +
            dropped_family(0));
}

TEST_CASE("metrics: remove one series, clear a family", "[admin]") {
  Metrics m;
  m.describe("g", "h", Type::kGauge);
  m.set("g", 1);
  m.set("g", "file", "a", 1);
  m.set("g", "file", "b", 2);
  m.remove("g", "file", "a");
  m.remove("g", "file", "missing");  // no-op
  m.remove("undescribed", "file", "a");  // no-op
  CHECK(m.render() == "# HELP g h\n# TYPE g gauge\ng 1\ng{file=\"b\"} 2\n" + dropped_family(0));
  m.clear("g");
  CHECK(m.render() == "# HELP g h\n# TYPE g gauge\n" + dropped_family(0));
  m.set("g", "file", "c", 3);
  CHECK(m.render() == "# HELP g h\n# TYPE g gauge\ng{file=\"c\"} 3\n" + dropped_family(0));
}

TEST_CASE("metrics: the series cap drops new label values and counts them", "[admin]") {
  Metrics m(2);
  m.describe("g", "h", Type::kGauge);
  m.describe("other", "h", Type::kGauge);
  m.set("g", "f", "a", 1);
  m.set("g", "f", "b", 2);
  m.set("g", "f", "c", 3);  // over the cap: dropped
  m.set("g", "f", "d", 4);  // dropped
  m.set("g", "f", "a", 10);  // existing series still update at the cap
  m.set("g", 99);            // the unlabelled series is not capped
  m.set("other", "f", "x", 5);  // the cap is per family
  CHECK(m.render() ==
        "# HELP g h\n# TYPE g gauge\ng 99\ng{f=\"a\"} 10\ng{f=\"b\"} 2\n"
        "# HELP other h\n# TYPE other gauge\nother{f=\"x\"} 5\n" +
            dropped_family(2));
  // Removing frees a slot.
  m.remove("g", "f", "b");
  m.set("g", "f", "c", 3);
  CHECK(m.render() ==
        "# HELP g h\n# TYPE g gauge\ng 99\ng{f=\"a\"} 10\ng{f=\"c\"} 3\n"
        "# HELP other h\n# TYPE other gauge\nother{f=\"x\"} 5\n" +
            dropped_family(2));
}

TEST_CASE("metrics: the default cap is 2000 series per family", "[admin]") {
  Metrics m;
  m.describe("g", "h", Type::kGauge);
  for (int i = 0; i < 2005; ++i) m.set("g", "i", std::to_string(i), i);
  const std::string text = m.render();
  CHECK(text.find("g{i=\"1999\"} 1999\n") != std::string::npos);  // 2000th series kept
  CHECK(text.find("g{i=\"2000\"}") == std::string::npos);
  CHECK(text.ends_with("logship_metrics_series_dropped_total 5\n"));
}

TEST_CASE("metrics: invalid names, invalid labels and undescribed names are ignored", "[admin]") {
  Metrics m;
  m.describe("", "h", Type::kGauge);
  m.describe("9lives", "h", Type::kGauge);
  m.describe("has space", "h", Type::kGauge);
  m.describe("has-dash", "h", Type::kGauge);
  m.describe(std::string(kSeriesDroppedMetric), "mine now", Type::kGauge);  // reserved
  m.set("9lives", 1);
  m.set("nope", 1);
  m.set("nope", "k", "v", 1);
  CHECK(m.render() == dropped_family(0));

  m.describe("ok:recorded_name_1", "h", Type::kGauge);  // colons are valid in metric names
  m.set("ok:recorded_name_1", "bad-label", "v", 1);
  m.set("ok:recorded_name_1", "__reserved", "v", 1);
  m.set("ok:recorded_name_1", "a:b", "v", 1);  // but not in label names
  m.set("ok:recorded_name_1", "", "v", 1);
  m.set("ok:recorded_name_1", "_fine9", "", 1);  // an empty label value is allowed
  CHECK(m.render() ==
        "# HELP ok:recorded_name_1 h\n# TYPE ok:recorded_name_1 gauge\n"
        "ok:recorded_name_1{_fine9=\"\"} 1\n" +
            dropped_family(0));
}

TEST_CASE("metrics: values print as Prometheus parses them", "[admin]") {
  CHECK(value_text(0) == "0");
  CHECK(value_text(42) == "42");
  CHECK(value_text(-3) == "-3");
  CHECK(value_text(0.25) == "0.25");
  CHECK(value_text(-0.0) == "0");
  CHECK(value_text(1e6) == "1000000");
  CHECK(value_text(1e15) == "1000000000000000");
  CHECK(value_text(18446744073709551615.0) == "18446744073709551616");  // 2^64: past int64
  CHECK(value_text(9007199254740992.0) == "9007199254740992");  // 2^53, exact
  CHECK(value_text(1.5e300) == "1.5e+300");
  CHECK(value_text(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(value_text(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(value_text(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("metrics: collectors run at each render, in order, until removed", "[admin]") {
  Metrics m;
  m.describe("scrapes", "h", Type::kCounter);
  m.describe("files", "h", Type::kGauge);
  std::atomic<uint64_t> source{0};  // stands in for an owner's atomic
  int calls = 0;
  std::vector<int> order;
  const auto first = m.add_collector([&](Metrics& reg) {
    ++calls;
    order.push_back(1);
    reg.set("scrapes", static_cast<double>(source.load()));
  });
  m.add_collector([&](Metrics& reg) {
    order.push_back(2);
    // Rebuild a labelled family from scratch: stale series disappear.
    reg.clear("files");
    for (uint64_t i = 0; i < source.load(); ++i) reg.set("files", "n", std::to_string(i), 1);
  });

  source = 1;
  CHECK(m.render() ==
        "# HELP scrapes h\n# TYPE scrapes counter\nscrapes 1\n"
        "# HELP files h\n# TYPE files gauge\nfiles{n=\"0\"} 1\n" +
            dropped_family(0));
  source = 2;
  CHECK(m.render() ==
        "# HELP scrapes h\n# TYPE scrapes counter\nscrapes 2\n"
        "# HELP files h\n# TYPE files gauge\nfiles{n=\"0\"} 1\nfiles{n=\"1\"} 1\n" +
            dropped_family(0));
  CHECK(calls == 2);
  CHECK(order == std::vector<int>{1, 2, 1, 2});

  m.remove_collector(first);
  m.remove_collector(12345);  // unknown: ignored
  source = 0;
  CHECK(m.render() ==
        "# HELP scrapes h\n# TYPE scrapes counter\nscrapes 2\n"
        "# HELP files h\n# TYPE files gauge\n" +
            dropped_family(0));
  CHECK(calls == 2);
}

TEST_CASE("metrics: concurrent set, remove and render", "[admin]") {
  Metrics m(100);
  m.describe("c", "h", Type::kCounter);
  m.add_collector([](Metrics& reg) { reg.set("c", "src", "collector", 1); });
  std::atomic<bool> done{false};
  std::atomic<bool> malformed{false};  // Catch2 v2 assertions are main-thread only
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string label = std::to_string(t) + "-" + std::to_string(i % 50);
        m.set("c", "src", label, i);
        if (i % 7 == 0) m.remove("c", "src", label);
      }
    });
  }
  std::thread reader([&] {
    while (!done) {
      const std::string text = m.render();
      if (!text.starts_with("# HELP c h\n# TYPE c counter\n") || !text.ends_with("\n")) malformed = true;
    }
  });
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  CHECK_FALSE(malformed);
  // At most 100 labelled series survive; each line is complete.
  const std::string text = m.render();
  std::size_t samples = 0;
  for (std::size_t pos = 0; (pos = text.find("\nc{src=\"", pos)) != std::string::npos; ++pos) ++samples;
  CHECK(samples <= 100);
  CHECK(samples > 0);
}
