// The 13a tokenizer (see tokenizer_13a.h). Each regex of tokenizer_re.py is emulated by one
// left-to-right scan with the same non-overlapping match semantics as Python's re.sub.
#include "train/metrics/tokenizer_13a.h"

#include <array>
#include <utility>

#include "train/metrics/unicode_text.h"

namespace qkv {
namespace {

bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool is_period_or_comma(char32_t c) { return c == U'.' || c == U','; }

// [\{-\~\[-\` -\&\(-\+\:-\@\/]: the ASCII punctuation 13a always pads with spaces. Missing on
// purpose: ' (0x27), ',' '-' '.' (0x2C-0x2E), handled by the later rules or never split.
bool is_13a_punctuation(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == U'/';
}

// str.replace(from, to): non-overlapping occurrences, left to right.
std::u32string replace_all(const std::u32string& text,
                           std::u32string_view from,
                           std::u32string_view to) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = text.find(from, pos);
    if (hit == std::u32string::npos) {
      out.append(text, pos, std::u32string::npos);
      return out;
    }
    out.append(text, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
}

// re.sub(r'(A)(B)', repl, text) for single-code-point groups A and B: scans left to right;
// where text[i] matches A and text[i+1] matches B, emits `before_first` A `between` B
// `after_second` and resumes after B; otherwise copies text[i].
template <typename FirstMatch, typename SecondMatch>
std::u32string substitute_pairs(std::u32string_view text,
                                FirstMatch first,
                                SecondMatch second,
                                std::u32string_view before_first,
                                std::u32string_view between,
                                std::u32string_view after_second) {
  std::u32string out;
  out.reserve(text.size() + text.size() / 4);
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 1 < text.size() && first(text[i]) && second(text[i + 1])) {
      out.append(before_first);
      out.push_back(text[i]);
      out.append(between);
      out.push_back(text[i + 1]);
      out.append(after_second);
      i += 2;
    } else {
      out.push_back(text[i]);
      ++i;
    }
  }
  return out;
}

}  // namespace

std::u32string tokenize_13a(std::u32string_view line) {
  // 1. Language-independent part (Tokenizer13a.__call__), then " {} ".format(line).
  std::u32string text(line);
  const std::array<std::pair<std::u32string_view, std::u32string_view>, 7> replacements = {{
      {U"<skipped>", U""},
      {U"-\n", U""},
      {U"\n", U" "},
      {U"&quot;", U"\""},
      {U"&amp;", U"&"},
      {U"&lt;", U"<"},
      {U"&gt;", U">"},
  }};
  for (const auto& [from, to] : replacements) {
    text = replace_all(text, from, to);
  }
  text = U" " + text + U" ";

  // 2. ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> ' \1 '
  std::u32string padded;
  padded.reserve(text.size() * 2);
  for (const char32_t c : text) {
    if (is_13a_punctuation(c)) {
      padded.push_back(U' ');
      padded.push_back(c);
      padded.push_back(U' ');
    } else {
      padded.push_back(c);
    }
  }
  const auto not_digit = [](char32_t c) { return !is_ascii_digit(c); };
  // 3a. ([^0-9])([\.,]) -> '\1 \2 '   (period and comma unless preceded by a digit)
  text = substitute_pairs(padded, not_digit, is_period_or_comma, U"", U" ", U" ");
  // 3b. ([\.,])([^0-9]) -> ' \1 \2'   (period and comma unless followed by a digit)
  text = substitute_pairs(text, is_period_or_comma, not_digit, U" ", U" ", U"");
  // 4. ([0-9])(-) -> '\1 \2 '         (dash when preceded by a digit)
  const auto is_dash = [](char32_t c) { return c == U'-'; };
  text = substitute_pairs(text, is_ascii_digit, is_dash, U"", U" ", U" ");

  // 5. ' '.join(line.strip().split())
  std::u32string joined;
  joined.reserve(text.size());
  for (const std::u32string_view word : python_split(text)) {
    if (!joined.empty()) {
      joined.push_back(U' ');
    }
    joined.append(word);
  }
  return joined;
}

std::string tokenize_13a(std::string_view line) {
  return encode_utf8(tokenize_13a(std::u32string_view(decode_utf8(line))));
}

}  // namespace qkv
