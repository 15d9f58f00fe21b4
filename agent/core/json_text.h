#pragma once
// Reading the JSON strings logship itself wrote: decoding a string's content
// and finding the members of a flat object (the k8s object) without a DOM.
// Pure functions; no third-party types.

#include <functional>
#include <string>
#include <string_view>

#include "agent/core/record_fields.h"

namespace logship {

/// Decodes the content of a JSON string (between the quotes): \" \\ \/ \b
/// \f \n \r \t and \uXXXX (surrogate pairs joined, to UTF-8; a lone
/// surrogate becomes U+FFFD). A malformed escape is copied as it is.
void decode_json_string(std::string_view raw, std::string& out);

/// The decoded text of a string's content: `raw` itself when it holds no
/// escape (no copy), else decoded into `scratch` (which the view then points
/// into).
[[nodiscard]] std::string_view decoded_text(std::string_view raw, std::string& scratch);

/// Finds namespace, pod, pod_uid, container and container_id in a k8s object
/// `{...}` as logship writes it (string members; other members such as
/// labels are skipped, string-aware). Spans are relative to the '{'. Returns
/// false when `object` is not shaped as expected (what was found before the
/// surprise is kept); it never reads past `object`.
[[nodiscard]] bool scan_k8s_shape(std::string_view object, K8sShape& shape);

/// Calls `member(name, value)` for each member of the JSON object `object`
/// (`name` is the key's raw content, `value` the value's span relative to
/// the '{', a string's span covering its quotes). Values are skipped
/// string-aware, not validated. Returns false when `object` is not shaped as
/// an object; it never reads past `object`.
[[nodiscard]] bool scan_members(std::string_view object,
                                const std::function<void(std::string_view name, FieldSpan value)>& member);

}  // namespace logship
