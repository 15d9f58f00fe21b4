#pragma once
// Hand-written stack-trace matchers for the multiline processor (no regex
// engine, nothing for users to learn): which lines continue a group started
// by an earlier line.
//
// A group starts at any text line (the log line before a trace often says
// what failed); the rules decide, line by line, whether the next line
// continues it. Blank lines inside a trace (Python's chained exceptions,
// Go's blank line before "goroutine N") are "maybe": they belong to the
// group only if the line after them continues it.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace logship::processors {

enum class Lang : uint8_t { kJava, kPython, kGo, kRuby, kNode, kDotnet };

/// A set of languages (bit i = Lang i). Empty = multiline off.
using LangSet = uint8_t;
inline constexpr LangSet kAllLangs = 0x3f;
[[nodiscard]] constexpr LangSet lang_bit(Lang l) { return static_cast<LangSet>(1u << static_cast<unsigned>(l)); }

/// Parses LOGSHIP_MULTILINE / the logship.io/multiline annotation: "off",
/// "auto" (all), or a comma-separated list of java, python, go, ruby, node,
/// dotnet. The error names the bad word.
[[nodiscard]] std::expected<LangSet, std::string> parse_multiline(std::string_view value);

/// "java,python" for a set; "off" when empty.
[[nodiscard]] std::string multiline_name(LangSet langs);

enum class Continuation : uint8_t {
  kNo,     ///< the line starts something new: the group ends before it
  kYes,    ///< the line belongs to the group
  kMaybe,  ///< a blank line: belongs to the group if the next line continues it
};

/// Where a group is, for the rules that depend on what came before.
struct TraceState {
  enum class Python : uint8_t { kNone, kFrames, kEnd, kChain };
  enum class Go : uint8_t { kNone, kPanic, kStack };
  /// Node's uncaught exception: "/app/x.js:3", the source line, "^", a
  /// blank, "Error: boom", frames, maybe "{ code: ... }", "Node.js v20".
  enum class Node : uint8_t { kNone, kSource, kError };
  bool only_head = true;  ///< the group is still a single line
  bool open_object = false;  ///< node: a frame ended with " {": its properties follow
  Python python = Python::kNone;
  Go go = Go::kNone;
  Node node = Node::kNone;
};

/// Resets `state` for a group whose first line is `head`.
void start_group(LangSet langs, std::string_view head, TraceState& state);

/// Decides whether `line` continues the group, updating `state` when it does.
[[nodiscard]] Continuation continues(LangSet langs, std::string_view line, TraceState& state);

}  // namespace logship::processors
