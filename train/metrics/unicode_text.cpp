// Python-compatible whitespace, splitting and lowercasing (see unicode_text.h).
// The Unicode facts come from the generated tables in unicode_tables.cpp.
#include "train/metrics/unicode_text.h"

#include <algorithm>

#include "train/metrics/unicode_tables.h"

namespace qkv {
namespace {

constexpr char32_t kCapitalSigma = 0x03A3;
constexpr char32_t kSmallSigma = 0x03C3;
constexpr char32_t kFinalSigma = 0x03C2;
constexpr char32_t kCapitalIWithDot = 0x0130;    // lowercases to two code points:
constexpr char32_t kCombiningDotAbove = 0x0307;  // "i" + U+0307

bool in_ranges(char32_t c, const unicode_tables::CodePointRange* ranges, std::size_t size) {
  const auto* end = ranges + size;
  // The first range whose last code point is >= c; c is inside it or in no range at all.
  const auto* it =
      std::lower_bound(ranges, end, c, [](const unicode_tables::CodePointRange& r, char32_t v) {
        return r.last < v;
      });
  return it != end && it->first <= c;
}

// Single-code-point lowercase mapping (everything except U+0130 and the sigma rule).
char32_t lower_simple(char32_t c) {
  if (c < 0x80) {
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  }
  const auto* begin = unicode_tables::kLower;
  const auto* end = begin + unicode_tables::kLowerSize;
  const auto* it = std::lower_bound(
      begin, end, c, [](const unicode_tables::LowerRun& r, char32_t v) { return r.last < v; });
  if (it == end || it->first > c || (c - it->first) % static_cast<char32_t>(it->stride) != 0) {
    return c;
  }
  return static_cast<char32_t>(static_cast<int64_t>(c) + it->delta);
}

bool is_case_ignorable(char32_t c) {
  return in_ranges(c, unicode_tables::kCaseIgnorable, unicode_tables::kCaseIgnorableSize);
}

// Cased and not case-ignorable: the only cased code points the Final_Sigma rule inspects.
bool is_cased(char32_t c) {
  return in_ranges(c, unicode_tables::kCased, unicode_tables::kCasedSize);
}

// CPython's handle_capital_sigma: the sigma at `i` is final when the first code point before
// it that is not case-ignorable is cased, and the first one after it (if any) is not cased.
char32_t lower_capital_sigma(std::u32string_view text, std::size_t i) {
  std::size_t j = i;
  while (j > 0 && is_case_ignorable(text[j - 1])) {
    --j;
  }
  if (j == 0 || !is_cased(text[j - 1])) {
    return kSmallSigma;
  }
  std::size_t k = i + 1;
  while (k < text.size() && is_case_ignorable(text[k])) {
    ++k;
  }
  return (k == text.size() || !is_cased(text[k])) ? kFinalSigma : kSmallSigma;
}

}  // namespace

bool is_python_whitespace(char32_t c) {
  if (c < 0x80) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  }
  return in_ranges(c, unicode_tables::kWhitespace, unicode_tables::kWhitespaceSize);
}

std::u32string python_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == kCapitalSigma) {
      out.push_back(lower_capital_sigma(text, i));
    } else if (c == kCapitalIWithDot) {
      out.push_back(U'i');
      out.push_back(kCombiningDotAbove);
    } else {
      out.push_back(lower_simple(c));
    }
  }
  return out;
}

std::vector<std::u32string_view> python_split(std::u32string_view text) {
  std::vector<std::u32string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_python_whitespace(text[i])) {
      ++i;
    }
    const std::size_t start = i;
    while (i < text.size() && !is_python_whitespace(text[i])) {
      ++i;
    }
    if (i > start) {
      words.push_back(text.substr(start, i - start));
    }
  }
  return words;
}

std::u32string_view python_rstrip(std::u32string_view text) {
  std::size_t end = text.size();
  while (end > 0 && is_python_whitespace(text[end - 1])) {
    --end;
  }
  return text.substr(0, end);
}

std::u32string_view python_strip(std::u32string_view text) {
  const std::u32string_view right = python_rstrip(text);
  std::size_t start = 0;
  while (start < right.size() && is_python_whitespace(right[start])) {
    ++start;
  }
  return right.substr(start);
}

std::u32string remove_python_whitespace(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (const char32_t c : text) {
    if (!is_python_whitespace(c)) {
      out.push_back(c);
    }
  }
  return out;
}

const char* python_unicode_version() { return unicode_tables::kUnicodeVersion; }

}  // namespace qkv
