#pragma once
// Groups of records in first-seen order, keyed by a string built per record
// (Loki streams, OTLP resources). Buffers are reused across bodies.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace logship::sinks::http {

class RecordGroups {
 public:
  struct Group {
    std::string header;  // the labels object / the resource object
    std::string items;   // the group's entries, as the format writes them
    struct Value {
      int64_t ns;
      uint32_t begin, end;  // in items
    };
    std::vector<Value> values;  // loki: each value's bytes in items
  };

  void reset() {
    for (size_t i = 0; i < used_; ++i) {
      groups_[i].header.clear();
      groups_[i].items.clear();
      groups_[i].values.clear();
    }
    used_ = 0;
    index_.clear();
  }

  /// The group for `key`; `created` says whether it is new.
  Group& find_or_add(std::string_view key, bool& created) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      created = false;
      return groups_[it->second];
    }
    created = true;
    if (used_ == groups_.size()) groups_.emplace_back();
    index_.emplace(std::string(key), used_);
    return groups_[used_++];
  }

  [[nodiscard]] size_t size() const { return used_; }
  Group& operator[](size_t i) { return groups_[i]; }

 private:
  /// Heterogeneous lookup, so a key built in a reused buffer finds its group
  /// without a string allocation per record.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<Group> groups_;
  size_t used_ = 0;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> index_;
};

}  // namespace logship::sinks::http
