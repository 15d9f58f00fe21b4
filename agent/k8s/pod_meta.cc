#include "agent/k8s/pod_meta.h"

#include <algorithm>

namespace logship::k8s {
namespace {

/// Sorted copy of the pairs whose key `filter` allows.
StringPairs filtered(const StringPairs& all, const NameFilter& filter) {
  StringPairs out;
  if (filter.empty()) return out;
  for (const auto& kv : all) {
    if (filter.matches(kv.first)) out.push_back(kv);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::string* lookup(const StringPairs& pairs, std::string_view key) {
  for (const auto& kv : pairs) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

/// The digest in a container status imageID. Runtimes spell it
/// "docker.io/library/nginx@sha256:…", "docker-pullable://nginx@sha256:…"
/// or, for images that never came from a registry, bare "sha256:…".
std::string digest_of_image_id(std::string_view image_id) {
  if (const size_t at = image_id.rfind('@'); at != std::string_view::npos) {
    return std::string(image_id.substr(at + 1));
  }
  if (image_id.starts_with("sha256:")) return std::string(image_id);
  return {};
}

}  // namespace

std::string PodMeta::release_for(std::string_view container) const {
  const auto it = releases.find(std::string(container));
  return it == releases.end() ? std::string() : it->second;
}

Result<NameFilter> NameFilter::create(const std::vector<std::string>& patterns) {
  NameFilter filter;
  for (const std::string& p : patterns) {
    if (p.empty()) return fail(Errc::kInvalid, "empty name pattern");
    if (p.back() == '*') {
      filter.prefixes_.push_back(p.substr(0, p.size() - 1));
    } else {
      filter.exact_.push_back(p);
    }
  }
  std::sort(filter.exact_.begin(), filter.exact_.end());
  return filter;
}

bool NameFilter::matches(std::string_view name) const {
  if (std::binary_search(exact_.begin(), exact_.end(), name, std::less<>())) return true;
  // Prefix lists are a handful of entries; a linear scan beats any index.
  return std::any_of(prefixes_.begin(), prefixes_.end(),
                     [name](const std::string& prefix) { return name.starts_with(prefix); });
}

Result<ReleaseSource> parse_release_source(std::string_view text) {
  if (text == "image-tag") return ReleaseSource{ReleaseSource::Kind::kImageTag, {}};
  if (text.starts_with("label:") && text.size() > 6) {
    return ReleaseSource{ReleaseSource::Kind::kLabel, std::string(text.substr(6))};
  }
  if (text.starts_with("annotation:") && text.size() > 11) {
    return ReleaseSource{ReleaseSource::Kind::kAnnotation, std::string(text.substr(11))};
  }
  return fail(Errc::kInvalid, "release source \"" + std::string(text) +
                                  "\" is not one of label:<key>, annotation:<key>, image-tag");
}

std::string image_tag(std::string_view image) {
  std::string_view digest;
  if (const size_t at = image.find('@'); at != std::string_view::npos) {
    digest = image.substr(at + 1);
    image = image.substr(0, at);
  }
  // A ':' before the last '/' belongs to the registry host ("host:5000/app"),
  // so the tag is only looked for in the last path component.
  const size_t slash = image.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? image : image.substr(slash + 1);
  if (const size_t colon = last.find(':'); colon != std::string_view::npos) {
    const std::string_view tag = last.substr(colon + 1);
    if (!tag.empty()) return std::string(tag);
  }
  return std::string(digest);
}

Result<MetaPolicy> MetaPolicy::create(const std::vector<std::string>& label_filter,
                                      const std::vector<std::string>& annotation_filter,
                                      const std::vector<std::string>& release_from) {
  MetaPolicy policy;
  auto labels = NameFilter::create(label_filter);
  if (!labels) return fail(Errc::kInvalid, "label filter: " + labels.error().message);
  auto annotations = NameFilter::create(annotation_filter);
  if (!annotations) return fail(Errc::kInvalid, "annotation filter: " + annotations.error().message);
  policy.labels_ = std::move(*labels);
  policy.annotations_ = std::move(*annotations);
  for (const std::string& entry : release_from) {
    auto source = parse_release_source(entry);
    if (!source) return std::unexpected(source.error());
    policy.release_from_.push_back(std::move(*source));
  }
  return policy;
}

std::string MetaPolicy::resolve_release(const PodObject& pod, std::string_view container,
                                        std::string_view image) const {
  for (const ReleaseSource& source : release_from_) {
    switch (source.kind) {
      case ReleaseSource::Kind::kLabel:
        if (const std::string* v = lookup(pod.labels, source.key); v && !v->empty()) return *v;
        break;
      case ReleaseSource::Kind::kAnnotation:
        if (const std::string* v = lookup(pod.annotations, source.key); v && !v->empty()) return *v;
        break;
      case ReleaseSource::Kind::kImageTag: {
        std::string tag = image_tag(image);
        if (tag.empty()) {
          // "nginx" names no tag and no digest; the digest the runtime
          // actually pulled identifies the release better than "latest".
          if (const auto it = pod.image_ids.find(std::string(container)); it != pod.image_ids.end()) {
            tag = digest_of_image_id(it->second);
          }
        }
        if (!tag.empty()) return tag;
        break;
      }
    }
  }
  return {};
}

PodMeta MetaPolicy::build(const PodObject& pod) const {
  PodMeta meta;
  meta.namespace_name = pod.namespace_name;
  meta.name = pod.name;
  meta.uid = pod.uid;
  meta.node = pod.node;
  meta.labels = filtered(pod.labels, labels_);
  meta.annotations = filtered(pod.annotations, annotations_);
  std::map<std::string, std::string> control;
  for (const auto& [key, value] : pod.annotations) {
    if (key.starts_with("logship.io/")) control[key] = value;
  }
  if (!control.empty()) meta.control = std::make_shared<const std::map<std::string, std::string>>(std::move(control));
  for (const auto& [container, image] : pod.containers) {
    meta.images.emplace(container, image);
    if (std::string release = resolve_release(pod, container, image); !release.empty()) {
      meta.releases.emplace(container, std::move(release));
    }
  }
  return meta;
}

}  // namespace logship::k8s
