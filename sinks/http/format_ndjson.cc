// LOGSHIP_HTTP_FORMAT=ndjson: the records, one per line.

#include "sinks/http/body_encoder.h"
#include "sinks/http/formats.h"

namespace logship::sinks::http {
namespace {

class NdjsonEncoder final : public BodyEncoder {
 public:
  void encode(const Batch& batch, const RecordSelection& sel, std::string& out) override {
    out.clear();
    // The batch is NDJSON already: a whole batch goes as it is.
    if (sel.whole(batch.record_count())) {
      out.assign(batch.data());
      return;
    }
    for (size_t i = 0; i < sel.size(); ++i) {
      out += batch.record(sel[i]);
      out += '\n';
    }
  }
};

}  // namespace

BodyEncoderPtr make_ndjson_encoder() { return std::make_unique<NdjsonEncoder>(); }

}  // namespace logship::sinks::http
