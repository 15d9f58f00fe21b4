#include "agent/builtin_sinks.h"

#include <functional>
#include <optional>
#include <span>
#include <variant>

#include "sinks/file/file_config.h"
#include "sinks/http/http_config.h"
#include "sinks/kafka/kafka_config.h"

namespace logship {

/// One sink's settings object and its functions, type-erased over the
/// settings struct so the list below can hold every kind of sink.
class BuiltinSinks::Slot {
 public:
  virtual ~Slot() = default;
  [[nodiscard]] virtual config::Section section() = 0;
  virtual void validate(const config::SinkContext& context, bool selected) const = 0;
  [[nodiscard]] virtual Result<SinkPtr> create(const config::SinkContext& context) const = 0;
  /// The settings object when its struct is `owner` (config::kOwnerTag), else nullptr.
  [[nodiscard]] virtual const void* settings(const void* owner) const = 0;
};

namespace {

/// A list entry: the sink's name, its default compression ("" when it does
/// not compress) and a factory of its settings slot.
struct SinkEntry {
  std::string_view name;
  std::string_view default_compression;
  std::function<std::unique_ptr<BuiltinSinks::Slot>()> make_slot;
};

template <class S>
class SlotOf final : public BuiltinSinks::Slot {
 public:
  using Keys = std::span<const config::KeySpec> (*)();
  using Validate = void (*)(const S&, const config::SinkContext&, bool);
  using Create = Result<SinkPtr> (*)(const S&, const config::SinkContext&);

  SlotOf(Keys keys, Validate validate, Create create) : keys_(keys), validate_(validate), create_(create) {}
  config::Section section() override { return config::Section(keys_(), settings_); }
  void validate(const config::SinkContext& context, bool selected) const override {
    validate_(settings_, context, selected);
  }
  Result<SinkPtr> create(const config::SinkContext& context) const override { return create_(settings_, context); }
  const void* settings(const void* owner) const override {
    return owner == &config::kOwnerTag<S> ? &settings_ : nullptr;
  }

 private:
  Keys keys_;
  Validate validate_;
  Create create_;
  S settings_{};
};

/// One line of the list. S is the sink's settings struct; naming it picks
/// the sink's overloads of validate and create.
template <class S>
SinkEntry sink(std::string_view name, std::span<const config::KeySpec> (*keys)(),
               void (*validate)(const S&, const config::SinkContext&, bool),
               Result<SinkPtr> (*create)(const S&, const config::SinkContext&),
               std::string_view default_compression = "") {
  return SinkEntry{name, default_compression, [=] { return std::make_unique<SlotOf<S>>(keys, validate, create); }};
}

/// THE list of built-in sinks. A new sink: its own directory (settings,
/// keys, validate, create) plus one line here and one in agent/CMakeLists.txt.
/// The order is LOGSHIP_SINK's list of choices.
const std::vector<SinkEntry>& sink_list() {
  static const std::vector<SinkEntry> list = {
      sink<sinks::StdoutSettings>("stdout", sinks::stdout_keys, sinks::validate, sinks::create),
      sink<sinks::FileSettings>("file", sinks::file_keys, sinks::validate, sinks::create),
      sink<sinks::kafka::KafkaSettings>("kafka", sinks::kafka::kafka_keys, sinks::kafka::validate,
                                        sinks::kafka::create, sinks::kafka::kDefaultCompression),
      sink<sinks::http::HttpSettings>("http", sinks::http::http_keys, sinks::http::validate, sinks::http::create,
                                      sinks::http::kDefaultCompression),
  };
  return list;
}

constexpr std::string_view kCompressionNames[] = {"zstd", "lz4", "gzip", "snappy", "none"};

}  // namespace

/// LOGSHIP_SINK (an index into the list) and LOGSHIP_COMPRESSION (an index
/// into kCompressionNames, nullopt when unset).
struct BuiltinSinks::Selection {
  size_t sink = 0;
  std::optional<size_t> compression;
};

namespace {

using Selection = BuiltinSinks::Selection;

std::string effective_compression(const Selection& s) {
  if (s.compression) return std::string(kCompressionNames[*s.compression]);
  return std::string(sink_list()[s.sink].default_compression);
}

void store_compression(Selection& s, config::Value&& v) {
  if (auto* n = std::get_if<uint64_t>(&v)) s.compression = static_cast<size_t>(*n);
  else s.compression.reset();
}

/// --check-config shows what the chosen sink will use: unset only when the
/// key is unset and the sink has no codec of its own.
config::Value fetch_compression(const Selection& s) {
  if (s.compression) return uint64_t{*s.compression};
  const std::string_view name = sink_list()[s.sink].default_compression;
  for (size_t i = 0; i < std::size(kCompressionNames); ++i) {
    if (kCompressionNames[i] == name) return uint64_t{i};
  }
  return std::monostate{};
}

std::span<const config::KeySpec> selection_keys() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const SinkEntry& entry : sink_list()) out.push_back(entry.name);
    return out;
  }();
  static const config::KeySpec keys[] = {
      {
          .env = "LOGSHIP_SINK",
          .kind = config::Kind::kEnum,
          .default_text = "stdout",
          .choices = names,
          .help = "Where records are shipped.",
          .order = 140,
          .bind = config::bind<&Selection::sink>(),
      },
      {
          // No fixed default: each sink has its own, which is also what
          // --check-config shows.
          .env = "LOGSHIP_COMPRESSION",
          .kind = config::Kind::kEnum,
          .choices = kCompressionNames,
          .help = "Payload compression of network sinks; unset: the sink's default (kafka: zstd; "
                  "http: gzip, which also takes zstd and none).",
          .order = 160,
          .bind = config::bind_custom<Selection, store_compression, fetch_compression>(),
      },
  };
  return keys;
}

}  // namespace

BuiltinSinks::BuiltinSinks() : selection_(std::make_unique<Selection>()) {
  for (const SinkEntry& entry : sink_list()) slots_.push_back(entry.make_slot());
}
BuiltinSinks::~BuiltinSinks() = default;
BuiltinSinks::BuiltinSinks(BuiltinSinks&&) noexcept = default;
BuiltinSinks& BuiltinSinks::operator=(BuiltinSinks&&) noexcept = default;

std::vector<config::Section> BuiltinSinks::sections() {
  std::vector<config::Section> out;
  out.emplace_back(selection_keys(), *selection_);
  for (auto& slot : slots_) out.push_back(slot->section());
  return out;
}

std::string_view BuiltinSinks::chosen() const { return sink_list()[selection_->sink].name; }

std::string BuiltinSinks::compression() const { return effective_compression(*selection_); }

void BuiltinSinks::validate(const config::SinkContext& context) const {
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i]->validate(context, i == selection_->sink);
}

const void* BuiltinSinks::find_settings(const void* owner) const {
  for (const auto& slot : slots_) {
    if (const void* found = slot->settings(owner)) return found;
  }
  return nullptr;
}

Result<SinkPtr> BuiltinSinks::create(const config::SinkContext& context) const {
  return slots_[selection_->sink]->create(context);
}

}  // namespace logship
