// LOGSHIP_HTTP_FORMAT=splunk_hec: per record
// {"time":<epoch s>,"sourcetype":"_json","source":...,"fields":{k8s},"event":<record>}

#include <cstdio>

#include "agent/core/json_string.h"
#include "sinks/http/body_encoder.h"
#include "sinks/http/formats.h"

namespace logship::sinks::http {
namespace {

class SplunkHecEncoder final : public BodyEncoder {
 public:
  void encode(const Batch& batch, const RecordSelection& sel, std::string& out) override {
    out.clear();
    const int64_t now = now_nanos();
    for (size_t i = 0; i < sel.size(); ++i) {
      const RecordRef r(batch, sel[i]);
      const int64_t ns = r.time_or(now);
      // HEC "time": epoch seconds with a fraction (microseconds kept).
      out += "{\"time\":";
      const int64_t secs = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
      append_int(out, secs);
      char frac[8];
      std::snprintf(frac, sizeof frac, ".%06d", static_cast<int>((ns - secs * 1000000000) / 1000));
      out += frac;
      out += ",\"sourcetype\":\"_json\"";
      if (!r.ns().empty() || !r.pod().empty()) {
        // Raw (escaped) parts joined by '/' are the escaped joined text.
        out += ",\"source\":\"";
        out.append(r.ns()).append("/").append(r.pod()).append("/").append(r.container());
        out += '"';
      }
      // Indexed fields: flat strings only.
      bool first = true;
      scratch_.clear();
      append_member(scratch_, "namespace", r.ns(), first);
      append_member(scratch_, "pod", r.pod(), first);
      append_member(scratch_, "container", r.container(), first);
      append_member(scratch_, "stream", r.stream(), first);
      if (!first) {
        out += ",\"fields\":{";
        out += scratch_;
        out += '}';
      }
      out += ",\"event\":";
      if (r.structured()) out += r.raw;
      else json::append_string(out, r.raw);
      out += "}\n";
    }
  }

 private:
  std::string scratch_;
};

}  // namespace

BodyEncoderPtr make_splunk_hec_encoder() { return std::make_unique<SplunkHecEncoder>(); }

}  // namespace logship::sinks::http
