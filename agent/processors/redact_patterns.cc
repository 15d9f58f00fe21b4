#include "agent/processors/redact_patterns.h"

#include <algorithm>

namespace logship::processors {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || is_upper(c); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
bool is_b64url(char c) { return is_alnum(c) || c == '-' || c == '_'; }
bool is_token68(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}
bool is_email_local(char c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_label(char c) { return is_alnum(c) || c == '-'; }

char lower(char c) { return is_upper(c) ? static_cast<char>(c + 32) : c; }

bool left_ok(std::string_view s, size_t i) { return i == 0 || !is_alnum(s[i - 1]); }
bool right_ok(std::string_view s, size_t e) { return e >= s.size() || !is_alnum(s[e]); }

void find_cards(std::string_view s, std::vector<PatternMatch>& out) {
  size_t i = 0;
  while (i < s.size()) {
    if (!is_digit(s[i])) {
      ++i;
      continue;
    }
    if (const size_t e = card_at(s, i, true); e != 0) {
      out.push_back({i, e, RedactKind::kCreditCard});
      i = e;
      continue;
    }
    while (i < s.size() && is_digit(s[i])) ++i;  // not a card start: skip the digits
  }
}

void find_bearer(std::string_view s, std::vector<PatternMatch>& out) {
  for (size_t i = 0; i + 6 < s.size(); ++i) {
    if (lower(s[i]) != 'b' || lower(s[i + 1]) != 'e' || lower(s[i + 2]) != 'a' ||
        lower(s[i + 3]) != 'r' || lower(s[i + 4]) != 'e' || lower(s[i + 5]) != 'r' ||
        !left_ok(s, i)) {
      continue;
    }
    size_t t = i + 6;
    if (t >= s.size() || (s[t] != ' ' && s[t] != '\t')) continue;
    while (t < s.size() && (s[t] == ' ' || s[t] == '\t')) ++t;
    size_t e = t;
    bool symbol_or_digit = false;
    while (e < s.size() && is_token68(s[e])) {
      symbol_or_digit |= !is_alpha(s[e]);
      ++e;
    }
    while (e < s.size() && s[e] == '=') ++e;
    const size_t len = e - t;
    if ((len >= 8 && symbol_or_digit) || len >= 20) {
      out.push_back({t, e, RedactKind::kBearer});
      i = e;
    }
  }
}

void find_jwt(std::string_view s, std::vector<PatternMatch>& out) {
  size_t from = 0;
  for (;;) {
    const size_t i = s.find("eyJ", from);
    if (i == std::string_view::npos) return;
    from = i + 3;
    if (i > 0 && is_b64url(s[i - 1])) continue;
    size_t e = i;
    size_t parts[3] = {0, 0, 0};
    int part = 0;
    for (; e < s.size(); ++e) {
      if (is_b64url(s[e])) {
        ++parts[part];
      } else if (s[e] == '.' && part < 2) {
        ++part;
      } else {
        break;
      }
    }
    if (part == 2 && parts[0] >= 10 && parts[1] >= 2) {
      out.push_back({i, e, RedactKind::kJwt});
      from = e;
    }
  }
}

void find_aws(std::string_view s, std::vector<PatternMatch>& out) {
  for (size_t i = 0; i + 20 <= s.size(); ++i) {
    if (s[i] != 'A' || (s[i + 1] != 'K' && s[i + 1] != 'S') || s[i + 2] != 'I' ||
        s[i + 3] != 'A' || !left_ok(s, i)) {
      continue;
    }
    size_t e = i + 4;
    while (e < i + 20 && (is_upper(s[e]) || is_digit(s[e]))) ++e;
    if (e == i + 20 && right_ok(s, e)) {
      out.push_back({i, e, RedactKind::kAwsKey});
      i = e - 1;
    }
  }
}

void find_private_keys(std::string_view s, std::vector<PatternMatch>& out) {
  size_t from = 0;
  for (;;) {
    const size_t i = s.find("-----BEGIN ", from);
    if (i == std::string_view::npos) return;
    from = i + 11;
    const size_t close = s.find("-----", from);
    if (close == std::string_view::npos || close - from > 64) continue;
    if (!s.substr(from, close - from).ends_with("PRIVATE KEY")) continue;
    size_t e = s.size();
    if (const size_t end_line = s.find("-----END ", close + 5); end_line != std::string_view::npos) {
      const size_t end_close = s.find("-----", end_line + 9);
      if (end_close != std::string_view::npos) e = end_close + 5;
    }
    out.push_back({i, e, RedactKind::kPrivateKey});
    from = e;
  }
}

void find_emails(std::string_view s, std::vector<PatternMatch>& out) {
  size_t from = 0;
  size_t last_end = 0;
  for (;;) {
    const size_t at = s.find('@', from);
    if (at == std::string_view::npos) return;
    from = at + 1;
    size_t b = at;
    while (b > last_end && is_email_local(s[b - 1])) --b;
    while (b < at && s[b] == '.') ++b;
    if (b == at) continue;
    // Domain: labels separated by single dots; the last label is the TLD.
    size_t e = at + 1;
    size_t last_dot = 0;
    for (;;) {
      const size_t label = e;
      while (e < s.size() && is_label(s[e])) ++e;
      if (e == label) break;
      if (e + 1 < s.size() && s[e] == '.' && is_label(s[e + 1])) {
        last_dot = e;
        ++e;
        continue;
      }
      break;
    }
    if (last_dot == 0) continue;
    size_t tld_letters = 0;
    for (size_t k = last_dot + 1; k < e; ++k) tld_letters += is_alpha(s[k]) ? 1 : 0;
    if (tld_letters < 2 || tld_letters != e - last_dot - 1) continue;
    out.push_back({b, e, RedactKind::kEmail});
    from = last_end = e;
  }
}

}  // namespace

bool luhn_valid(std::string_view text) {
  int sum = 0;
  bool dbl = false;
  for (size_t k = text.size(); k-- > 0;) {
    if (!is_digit(text[k])) continue;
    int d = text[k] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

size_t digit_run_start(std::string_view s, size_t i) {
  while (i > 0) {
    if (is_digit(s[i - 1])) {
      --i;
    } else if (i >= 2 && (s[i - 1] == ' ' || s[i - 1] == '-') && is_digit(s[i - 2])) {
      i -= 2;
    } else {
      break;
    }
  }
  return i;
}

size_t card_at(std::string_view s, size_t i, bool check_left) {
  if (i + 4 > s.size() || s[i] < '2' || s[i] > '6') return 0;
  if (!is_digit(s[i + 1]) || !is_digit(s[i + 2]) || !is_digit(s[i + 3])) return 0;  // first group >= 4
  if (check_left && !left_ok(s, i)) return 0;
  // The maximal run: digits with single separators between them, one
  // separator kind throughout.
  size_t digits = 0;
  char sep = 0;
  size_t e = i;
  while (e < s.size()) {
    if (is_digit(s[e])) {
      ++digits;
      ++e;
    } else if ((s[e] == ' ' || s[e] == '-') && (sep == 0 || sep == s[e]) && e + 1 < s.size() &&
               is_digit(s[e + 1])) {
      sep = s[e];
      ++e;
    } else {
      break;
    }
    if (digits > 19) return 0;
  }
  if (digits < 13 || !right_ok(s, e)) return 0;
  // The first six digits, for the issuer ranges.
  unsigned prefix = 0;
  for (size_t k = i, got = 0; got < 6; ++k) {
    if (is_digit(s[k])) {
      prefix = prefix * 10 + static_cast<unsigned>(s[k] - '0');
      ++got;
    }
  }
  if (!card_issuer_ok(prefix, digits)) return 0;
  return luhn_valid(s.substr(i, e - i)) ? e : 0;
}

bool card_issuer_ok(unsigned p6, size_t digits) {
  const unsigned p2 = p6 / 10000, p3 = p6 / 1000, p4 = p6 / 100;
  const bool long_card = digits >= 16 && digits <= 19;
  if (p6 / 100000 == 4) return digits == 13 || digits == 16 || digits == 19;  // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return digits == 16;  // Mastercard
  if (p2 == 34 || p2 == 37) return digits == 15;                                  // Amex
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) {             // Diners
    return digits >= 14 && digits <= 19;
  }
  if (p4 >= 3528 && p4 <= 3589) return long_card;                                  // JCB
  if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || p2 == 62) return long_card;  // Discover, UnionPay
  return false;
}

void find_patterns(std::string_view text, PatternSet kinds, std::vector<PatternMatch>& out) {
  const size_t first = out.size();
  if (kinds & pattern_bit(RedactKind::kPrivateKey)) find_private_keys(text, out);
  if (kinds & pattern_bit(RedactKind::kJwt)) find_jwt(text, out);
  if (kinds & pattern_bit(RedactKind::kBearer)) find_bearer(text, out);
  if (kinds & pattern_bit(RedactKind::kAwsKey)) find_aws(text, out);
  if (kinds & pattern_bit(RedactKind::kCreditCard)) find_cards(text, out);
  if (kinds & pattern_bit(RedactKind::kEmail)) find_emails(text, out);
  if (out.size() - first <= 1) return;
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
            [](const PatternMatch& a, const PatternMatch& b) {
              if (a.begin != b.begin) return a.begin < b.begin;
              if (a.end != b.end) return a.end > b.end;
              return a.kind > b.kind;  // same span: the later, more specific kind (jwt over bearer)
            });
  // Drop matches that overlap an earlier one (a JWT inside a private key,
  // digits inside a bearer token).
  size_t keep = first + 1;
  for (size_t k = first + 1; k < out.size(); ++k) {
    if (out[k].begin >= out[keep - 1].end) out[keep++] = out[k];
  }
  out.resize(keep);
}

void replace_matches(std::string_view text, const std::vector<PatternMatch>& matches,
                     std::string& out) {
  size_t pos = 0;
  for (const PatternMatch& m : matches) {
    out.append(text.substr(pos, m.begin - pos));
    out.append("[REDACTED:");
    out.append(kRedactKindNames[static_cast<size_t>(m.kind)]);
    out.push_back(']');
    pos = m.end;
  }
  out.append(text.substr(pos));
}

}  // namespace logship::processors
