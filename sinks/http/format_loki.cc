// LOGSHIP_HTTP_FORMAT=loki: {"streams":[{"stream":{labels},"values":[["<unix ns>","<record>"],...]}]};
// one stream per namespace/pod/container/stream, values oldest first.

#include <algorithm>

#include "agent/core/json_string.h"
#include "sinks/http/body_encoder.h"
#include "sinks/http/formats.h"
#include "sinks/http/record_groups.h"

namespace logship::sinks::http {
namespace {

class LokiEncoder final : public BodyEncoder {
 public:
  void encode(const Batch& batch, const RecordSelection& sel, std::string& out) override {
    out.clear();
    groups_.reset();
    const int64_t now = now_nanos();
    for (size_t i = 0; i < sel.size(); ++i) {
      const RecordRef r(batch, sel[i]);
      // Labels: the stream selector. Values must not be empty in Loki.
      bool first = true;
      key_.clear();
      key_ += '{';
      append_member(key_, "namespace", r.ns(), first);
      append_member(key_, "pod", r.pod(), first);
      append_member(key_, "container", r.container(), first);
      append_member(key_, "stream", r.stream(), first);
      // Loki wants at least one label.
      if (first) key_ += "\"job\":\"logship\"";
      key_ += '}';
      bool created = false;
      RecordGroups::Group& g = groups_.find_or_add(key_, created);
      if (created) g.header = key_;
      const auto begin = static_cast<uint32_t>(g.items.size());
      // The line is the whole record: LogQL's `| json` gets every field.
      json::append_string(g.items, r.raw);
      g.values.push_back({r.time_or(now), begin, static_cast<uint32_t>(g.items.size())});
    }
    out += "{\"streams\":[";
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      RecordGroups::Group& g = groups_[gi];
      // Oldest first within a stream; stable, so equal times keep file order.
      std::stable_sort(g.values.begin(), g.values.end(),
                       [](const RecordGroups::Group::Value& a, const RecordGroups::Group::Value& b) {
                         return a.ns < b.ns;
                       });
      if (gi) out += ',';
      out += "{\"stream\":";
      out += g.header;
      out += ",\"values\":[";
      for (size_t vi = 0; vi < g.values.size(); ++vi) {
        if (vi) out += ',';
        out += "[\"";
        append_int(out, g.values[vi].ns);
        out += "\",";
        out.append(g.items, g.values[vi].begin, g.values[vi].end - g.values[vi].begin);
        out += ']';
      }
      out += "]}";
    }
    out += "]}";
  }

 private:
  RecordGroups groups_;
  std::string key_;
};

}  // namespace

BodyEncoderPtr make_loki_encoder() { return std::make_unique<LokiEncoder>(); }

}  // namespace logship::sinks::http
