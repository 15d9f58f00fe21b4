#include "agent/processors/multiline_rules.h"

#include <array>

namespace logship::processors {
namespace {

constexpr std::array<std::string_view, 6> kLangNames = {"java", "python", "go", "ruby", "node", "dotnet"};

bool has(LangSet set, Lang l) { return (set & lang_bit(l)) != 0; }

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '$';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// The line without its indentation; `indented` tells whether it had any.
std::string_view unindent(std::string_view line, bool& indented) {
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  indented = i > 0;
  return line.substr(i);
}

bool contains(std::string_view s, std::string_view needle) { return s.find(needle) != std::string_view::npos; }

/// "com.foo.BarException", "System.InvalidOperationException: msg": a
/// qualified exception name at the start of the line.
bool is_qualified_exception(std::string_view line) {
  size_t i = 0;
  bool dot = false;
  while (i < line.size() && (is_ident(line[i]) || line[i] == '.')) {
    dot |= line[i] == '.';
    ++i;
  }
  if (!dot || i == 0) return false;
  if (i < line.size() && line[i] != ':') return false;
  const std::string_view name = line.substr(0, i);
  return name.ends_with("Exception") || name.ends_with("Error") || name.ends_with("Throwable") ||
         contains(name, "Exception");
}

/// A frame after "at ": "com.foo.Bar.baz(Bar.java:12)", "Object.<anonymous>
/// (/app/x.js:1:2)", "/app/x.js:1:2", "processTicks (node:internal/x:95:5)",
/// "MyApp.Program.Main(String[] args) in C:\src\P.cs:line 12". Not "at the
/// moment (really)".
bool is_at_frame(std::string_view rest) {
  if (rest.starts_with("async ")) rest.remove_prefix(6);
  if (rest.starts_with("new ")) rest.remove_prefix(4);
  size_t i = 0;
  while (i < rest.size() && rest[i] != ' ' && rest[i] != '(') {
    const char c = rest[i];
    if (c == '.' || c == '/' || c == '<' || c == ':' || c == '\\') return i > 0 || c == '/' || c == '<';
    ++i;
  }
  // An unqualified function name: the location in parentheses has ":<line>".
  const size_t open = rest.rfind('(');
  if (open == std::string_view::npos || !trim(rest).ends_with(')')) return false;
  const std::string_view loc = rest.substr(open);
  for (size_t k = 0; k + 1 < loc.size(); ++k) {
    if (loc[k] == ':' && is_digit(loc[k + 1])) return true;
  }
  return false;
}

/// "\t... 12 more", "\t... 3 common frames omitted", "    ... 2 lines matching cause stack trace ...".
bool is_elided(std::string_view body) {
  if (!body.starts_with("... ")) return false;
  size_t i = 4;
  while (i < body.size() && is_digit(body[i])) ++i;
  if (i == 4) return false;
  const std::string_view rest = body.substr(i);
  return rest == " more" || rest.starts_with(" more ") || rest.starts_with(" common frames omitted") ||
         rest.starts_with(" lines matching ");
}

bool is_goroutine_header(std::string_view line) {
  if (!line.starts_with("goroutine ")) return false;
  size_t i = 10;
  const size_t start = i;
  while (i < line.size() && is_digit(line[i])) ++i;
  return i > start && line.substr(i).starts_with(" [");
}

/// A Go stack's function line: "main.main()", "main.(*T).Run(0xc000010000, 0x1)",
/// "panic({0x4a0b20, 0xc00009e000})": no indentation, no space before the
/// first '(', ends with ')'.
bool is_go_func(std::string_view line) {
  if (line.empty() || is_space(line.front())) return false;
  const size_t open = line.find('(');
  if (open == 0 || open == std::string_view::npos) return false;
  if (line.substr(0, open).find(' ') != std::string_view::npos) return false;
  return trim(line).ends_with(')');
}

/// Python's last traceback line: "ValueError: bad", "KeyboardInterrupt",
/// "requests.exceptions.HTTPError: 500".
bool is_python_error(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (is_ident(line[i]) || line[i] == '.')) ++i;
  if (i == 0 || is_digit(line[0])) return false;
  return i == trim(line).size() || line[i] == ':';
}

Continuation java_like(LangSet langs, std::string_view line, const TraceState& st) {
  const bool java = has(langs, Lang::kJava), node = has(langs, Lang::kNode), dotnet = has(langs, Lang::kDotnet);
  if (!java && !node && !dotnet) return Continuation::kNo;
  bool indented;
  const std::string_view body = unindent(line, indented);
  if (indented && body.starts_with("at ") && is_at_frame(body.substr(3))) return Continuation::kYes;
  if ((java || node) && indented && is_elided(body)) return Continuation::kYes;
  if (java && (body.starts_with("Caused by: ") || body.starts_with("Suppressed: "))) return Continuation::kYes;
  if (dotnet && (body.starts_with("---> ") || body.starts_with("--- End of "))) return Continuation::kYes;
  // "ERROR failed to load" then "java.lang.IllegalStateException: boom".
  if ((java || dotnet) && st.only_head && !indented && is_qualified_exception(body)) return Continuation::kYes;
  return Continuation::kNo;
}

Continuation python(std::string_view line, TraceState& st) {
  using P = TraceState::Python;
  if (line.starts_with("Traceback (most recent call last):")) {
    if (st.only_head || st.python == P::kChain) {
      st.python = P::kFrames;
      return Continuation::kYes;
    }
    return Continuation::kNo;
  }
  bool indented;
  const std::string_view body = unindent(line, indented);
  switch (st.python) {
    case P::kNone: return Continuation::kNo;
    case P::kFrames:
      // "  File ...", the source line, "    ^^^^", "  [Previous line repeated 996 more times]".
      if (indented) return Continuation::kYes;
      if (is_python_error(line)) {
        st.python = P::kEnd;
        return Continuation::kYes;
      }
      return Continuation::kNo;
    case P::kEnd:
    case P::kChain:
      if (body.empty()) return Continuation::kMaybe;
      if (line.starts_with("During handling of the above exception, another exception occurred:") ||
          line.starts_with("The above exception was the direct cause of the following exception:")) {
        st.python = P::kChain;
        return Continuation::kYes;
      }
      return Continuation::kNo;
  }
  return Continuation::kNo;
}

Continuation go(std::string_view line, TraceState& st) {
  using G = TraceState::Go;
  if (is_goroutine_header(line) && (st.go != G::kNone || st.only_head)) {
    st.go = G::kStack;
    return Continuation::kYes;
  }
  if (st.go == G::kNone) return Continuation::kNo;
  if (trim(line).empty()) return Continuation::kMaybe;
  if (line.front() == '\t' || line.starts_with("[signal ")) return Continuation::kYes;
  if (st.go == G::kStack && (is_go_func(line) || line.starts_with("created by ") ||
                             line.starts_with("...additional frames elided...") || line.starts_with("exit status "))) {
    return Continuation::kYes;
  }
  return Continuation::kNo;
}

/// "/app/src/index.js:3", "file:///app/x.mjs:12": where node's uncaught
/// exception report starts.
bool is_node_source_head(std::string_view line) {
  line = trim(line);
  size_t i = line.size();
  while (i > 0 && is_digit(line[i - 1])) --i;
  if (i == line.size() || i == 0 || line[i - 1] != ':') return false;
  const std::string_view file = line.substr(0, i - 1);
  return file.find(' ') == std::string_view::npos &&
         (file.ends_with(".js") || file.ends_with(".mjs") || file.ends_with(".cjs") || file.ends_with(".ts"));
}

Continuation node(std::string_view line, TraceState& st) {
  using N = TraceState::Node;
  if (st.open_object) {
    if (trim(line) == "}") st.open_object = false;
    return Continuation::kYes;
  }
  bool indented;
  const std::string_view body = unindent(line, indented);
  switch (st.node) {
    case N::kNone: return Continuation::kNo;
    case N::kSource:
      if (body.empty()) return Continuation::kMaybe;
      if (indented) return Continuation::kYes;  // the source line and the '^' under it
      st.node = N::kError;                      // "Error: boom", "TypeError: x", "[Error: y]"
      return Continuation::kYes;
    case N::kError:
      if (body.empty()) return Continuation::kMaybe;
      if (line.starts_with("Node.js v")) return Continuation::kYes;
      return Continuation::kNo;
  }
  return Continuation::kNo;
}

Continuation ruby(std::string_view line) {
  bool indented;
  const std::string_view body = unindent(line, indented);
  if (!indented) return Continuation::kNo;
  // "\tfrom /app/x.rb:5:in `baz'" (also Ruby 3.4's 'Foo#baz'), Rails'
  // "  app/controllers/x.rb:12:in `show'".
  if (contains(body, ":in `") || contains(body, ":in '")) return Continuation::kYes;
  return Continuation::kNo;
}

}  // namespace

std::expected<LangSet, std::string> parse_multiline(std::string_view value) {
  const std::string_view v = trim(value);
  if (v == "off" || v.empty()) return LangSet{0};
  if (v == "auto") return kAllLangs;
  LangSet set = 0;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    const std::string_view word = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    size_t i = 0;
    while (i < kLangNames.size() && kLangNames[i] != word) ++i;
    if (i == kLangNames.size()) {
      return std::unexpected("unknown multiline rule '" + std::string(word) +
                             "' (expected off, auto, or a list of java, python, go, ruby, node, dotnet)");
    }
    set |= lang_bit(static_cast<Lang>(i));
  }
  return set;
}

std::string multiline_name(LangSet langs) {
  std::string out;
  for (size_t i = 0; i < kLangNames.size(); ++i) {
    if (!has(langs, static_cast<Lang>(i))) continue;
    if (!out.empty()) out += ',';
    out += kLangNames[i];
  }
  return out.empty() ? "off" : out;
}

void start_group(LangSet langs, std::string_view head, TraceState& st) {
  st = TraceState{};
  if (has(langs, Lang::kPython) && head.starts_with("Traceback (most recent call last):")) {
    st.python = TraceState::Python::kFrames;
  }
  if (has(langs, Lang::kNode) && is_node_source_head(head)) st.node = TraceState::Node::kSource;
  if (has(langs, Lang::kGo)) {
    if (head.starts_with("panic: ") || head.starts_with("fatal error: ")) st.go = TraceState::Go::kPanic;
    if (is_goroutine_header(head)) st.go = TraceState::Go::kStack;
  }
}

Continuation continues(LangSet langs, std::string_view line, TraceState& st) {
  Continuation verdict = Continuation::kNo;
  auto take = [&verdict](Continuation c) {
    if (c == Continuation::kYes || (c == Continuation::kMaybe && verdict == Continuation::kNo)) verdict = c;
  };
  const bool node_on = has(langs, Lang::kNode);
  if (node_on && (st.open_object || st.node == TraceState::Node::kSource)) take(node(line, st));
  if (verdict != Continuation::kYes) take(java_like(langs, line, st));
  if (verdict != Continuation::kYes && node_on && st.node == TraceState::Node::kError) take(node(line, st));
  if (verdict != Continuation::kYes && has(langs, Lang::kPython)) take(python(line, st));
  if (verdict != Continuation::kYes && has(langs, Lang::kGo)) take(go(line, st));
  if (verdict != Continuation::kYes && has(langs, Lang::kRuby)) take(ruby(line));
  if (verdict == Continuation::kYes) {
    st.only_head = false;
    // Node prints an error's own properties after its last frame:
    // "    at x (/app/a.js:1:2) {", "  code: 'ECONNREFUSED'", "}".
    if (node_on && line.ends_with(" {") && line.find(" at ") != std::string_view::npos) st.open_object = true;
  }
  return verdict;
}

}  // namespace logship::processors
