#include "agent/k8s/api_parser.h"

#include <simdjson.h>

namespace logship::k8s {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

/// The string at `key`, or "" when absent or not a string. Kubernetes omits
/// empty fields, so absent and empty mean the same here.
std::string string_at(const object& obj, std::string_view key) {
  std::string_view value;
  if (obj[key].get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

/// A map[string]string field (labels, annotations) in document order;
/// non-string values (never produced by the API) are skipped.
StringPairs string_map_at(const object& obj, std::string_view key) {
  StringPairs out;
  object map;
  if (obj[key].get(map) != simdjson::SUCCESS) return out;
  for (const auto field : map) {
    std::string_view value;
    if (field.value.get(value) == simdjson::SUCCESS) {
      out.emplace_back(std::string(field.key), std::string(value));
    }
  }
  return out;
}

void append_containers(const object& spec, std::string_view key, StringPairs& out) {
  array list;
  if (spec[key].get(list) != simdjson::SUCCESS) return;
  for (const element item : list) {
    object container;
    if (item.get(container) != simdjson::SUCCESS) continue;
    std::string name = string_at(container, "name");
    if (name.empty()) continue;
    out.emplace_back(std::move(name), string_at(container, "image"));
  }
}

void collect_image_ids(const object& status, std::string_view key,
                       std::map<std::string, std::string>& out) {
  array list;
  if (status[key].get(list) != simdjson::SUCCESS) return;
  for (const element item : list) {
    object cs;
    if (item.get(cs) != simdjson::SUCCESS) continue;
    std::string name = string_at(cs, "name");
    std::string image_id = string_at(cs, "imageID");
    if (!name.empty() && !image_id.empty()) out.emplace(std::move(name), std::move(image_id));
  }
}

/// Fills `pod` from a Pod object. `need_name` is false for bookmarks, whose
/// object carries nothing but metadata.resourceVersion.
Result<void> pod_from(const element& doc, bool need_name, PodObject& pod) {
  object root;
  if (doc.get(root) != simdjson::SUCCESS) return fail(Errc::kInvalid, "pod is not a JSON object");
  object metadata;
  if (root["metadata"].get(metadata) != simdjson::SUCCESS) {
    return fail(Errc::kInvalid, "pod has no metadata object");
  }
  pod.name = string_at(metadata, "name");
  pod.namespace_name = string_at(metadata, "namespace");
  pod.uid = string_at(metadata, "uid");
  pod.resource_version = string_at(metadata, "resourceVersion");
  if (need_name && (pod.name.empty() || pod.namespace_name.empty())) {
    return fail(Errc::kInvalid, "pod has no metadata.name or metadata.namespace");
  }
  pod.labels = string_map_at(metadata, "labels");
  pod.annotations = string_map_at(metadata, "annotations");
  object spec;
  if (root["spec"].get(spec) == simdjson::SUCCESS) {
    pod.node = string_at(spec, "nodeName");
    append_containers(spec, "containers", pod.containers);
    append_containers(spec, "initContainers", pod.containers);
    append_containers(spec, "ephemeralContainers", pod.containers);
  }
  object status;
  if (root["status"].get(status) == simdjson::SUCCESS) {
    collect_image_ids(status, "containerStatuses", pod.image_ids);
    collect_image_ids(status, "initContainerStatuses", pod.image_ids);
    collect_image_ids(status, "ephemeralContainerStatuses", pod.image_ids);
  }
  return {};
}

std::string json_error(const char* what, simdjson::error_code code) {
  return std::string(what) + ": " + simdjson::error_message(code);
}

}  // namespace

struct ApiParser::Impl {
  simdjson::dom::parser parser;

  Result<element> parse(std::string_view json, const char* what) {
    element doc;
    // realloc_if_needed: the input is not padded; simdjson copies it when
    // reading past its end could cross into an unmapped page.
    if (const auto code = parser.parse(json.data(), json.size(), true).get(doc);
        code != simdjson::SUCCESS) {
      return fail(Errc::kInvalid, json_error(what, code));
    }
    return doc;
  }
};

ApiParser::ApiParser() : impl_(std::make_unique<Impl>()) {}
ApiParser::~ApiParser() = default;

void ApiParser::release_memory() { impl_ = std::make_unique<Impl>(); }

Result<PodObject> ApiParser::parse_pod(std::string_view json) {
  auto doc = impl_->parse(json, "pod");
  if (!doc) return std::unexpected(doc.error());
  PodObject pod;
  if (auto r = pod_from(*doc, true, pod); !r) return std::unexpected(r.error());
  return pod;
}

Result<PodListPage> ApiParser::parse_pod_list(std::string_view json) {
  auto doc = impl_->parse(json, "pod list");
  if (!doc) return std::unexpected(doc.error());
  object root;
  if (doc->get(root) != simdjson::SUCCESS) return fail(Errc::kInvalid, "pod list is not a JSON object");
  PodListPage page;
  object metadata;
  if (root["metadata"].get(metadata) == simdjson::SUCCESS) {
    page.resource_version = string_at(metadata, "resourceVersion");
    page.continue_token = string_at(metadata, "continue");
  }
  if (page.resource_version.empty()) {
    return fail(Errc::kInvalid, "pod list has no metadata.resourceVersion");
  }
  array items;
  // An empty list may come as "items": [] or, from some servers, null.
  if (root["items"].get(items) == simdjson::SUCCESS) {
    page.items.reserve(items.size());
    for (const element item : items) {
      PodObject pod;
      if (auto r = pod_from(item, true, pod); !r) {
        return fail(Errc::kInvalid, "pod list item " + std::to_string(page.items.size()) + ": " +
                                        r.error().message);
      }
      page.items.push_back(std::move(pod));
    }
  }
  return page;
}

Result<WatchEvent> ApiParser::parse_watch_event(std::string_view json) {
  auto doc = impl_->parse(json, "watch event");
  if (!doc) return std::unexpected(doc.error());
  object root;
  if (doc->get(root) != simdjson::SUCCESS) return fail(Errc::kInvalid, "watch event is not a JSON object");
  std::string_view type;
  if (root["type"].get(type) != simdjson::SUCCESS) return fail(Errc::kInvalid, "watch event has no type");
  element object_element;
  if (root["object"].get(object_element) != simdjson::SUCCESS) {
    return fail(Errc::kInvalid, "watch event has no object");
  }
  WatchEvent event;
  if (type == "ADDED") {
    event.type = WatchEvent::Type::kAdded;
  } else if (type == "MODIFIED") {
    event.type = WatchEvent::Type::kModified;
  } else if (type == "DELETED") {
    event.type = WatchEvent::Type::kDeleted;
  } else if (type == "BOOKMARK") {
    event.type = WatchEvent::Type::kBookmark;
  } else if (type == "ERROR") {
    // The object is a Status, e.g. {"code":410,"reason":"Expired",…}.
    event.type = WatchEvent::Type::kError;
    object status;
    if (object_element.get(status) == simdjson::SUCCESS) {
      int64_t code = 0;
      if (status["code"].get(code) == simdjson::SUCCESS) event.code = code;
      event.message = string_at(status, "message");
    }
    return event;
  } else {
    return fail(Errc::kInvalid, "watch event type \"" + std::string(type) + "\" is unknown");
  }
  const bool is_bookmark = event.type == WatchEvent::Type::kBookmark;
  if (auto r = pod_from(object_element, !is_bookmark, event.pod); !r) {
    return fail(Errc::kInvalid, std::string(type) + " event: " + r.error().message);
  }
  event.resource_version = event.pod.resource_version;
  if (is_bookmark && event.resource_version.empty()) {
    return fail(Errc::kInvalid, "BOOKMARK event without metadata.resourceVersion");
  }
  return event;
}

Result<ApiStatus> ApiParser::parse_status(std::string_view json) {
  auto doc = impl_->parse(json, "status");
  if (!doc) return std::unexpected(doc.error());
  object root;
  if (doc->get(root) != simdjson::SUCCESS) return fail(Errc::kInvalid, "status is not a JSON object");
  ApiStatus status;
  int64_t code = 0;
  if (root["code"].get(code) == simdjson::SUCCESS) status.code = code;
  status.reason = string_at(root, "reason");
  status.message = string_at(root, "message");
  return status;
}

}  // namespace logship::k8s
