// LOGSHIP_HTTP_FORMAT=elasticsearch: per record {"create":{"_index":...}}\n
// then the record with "@timestamp" (= ts) first.

#include "agent/core/json_text.h"
#include "agent/core/json_string.h"
#include "sinks/http/body_encoder.h"
#include "sinks/http/formats.h"

namespace logship::sinks::http {
namespace {

class ElasticsearchEncoder final : public BodyEncoder {
 public:
  explicit ElasticsearchEncoder(std::string index_template) : index_template_(std::move(index_template)) {}

  void encode(const Batch& batch, const RecordSelection& sel, std::string& out) override {
    out.clear();
    const int64_t now = now_nanos();
    for (size_t i = 0; i < sel.size(); ++i) {
      const RecordRef r(batch, sel[i]);
      const int64_t ns = r.time_or(now);
      const int64_t secs = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
      const int64_t day = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
      const std::string_view namespace_name = decoded_text(r.ns(), scratch_);
      // The index changes only with the namespace or the day: reuse it.
      if (day != last_day_ || namespace_name != last_ns_ || last_index_.empty()) {
        last_index_ = Encoder::index_for(index_template_, namespace_name, ns);
        last_day_ = day;
        last_ns_.assign(namespace_name);
      }
      // "create" works for indices and data streams alike.
      out += "{\"create\":{\"_index\":";
      json::append_string(out, last_index_);
      out += "}}\n";
      if (!r.structured()) {
        out += "{\"log\":";
        json::append_string(out, r.raw);
        out += "}\n";
        continue;
      }
      // The record as it is, with @timestamp first: no re-serialisation.
      out += '{';
      if (!r.ts().empty()) {
        out += "\"@timestamp\":";
        append_quoted(out, r.ts());
        std::string_view rest = r.raw.substr(1);
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        if (!rest.starts_with('}')) out += ',';
        out += rest;
      } else {
        out += r.raw.substr(1);
      }
      out += '\n';
    }
  }

 private:
  std::string index_template_;
  std::string scratch_;
  // The index of the last record, reused while namespace and day repeat.
  std::string last_ns_;
  int64_t last_day_ = INT64_MIN;
  std::string last_index_;
};

}  // namespace

BodyEncoderPtr make_elasticsearch_encoder(std::string index_template) {
  return std::make_unique<ElasticsearchEncoder>(std::move(index_template));
}

}  // namespace logship::sinks::http
