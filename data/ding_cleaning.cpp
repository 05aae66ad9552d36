// Text rules of the Ding extraction. The thresholds and word lists were chosen by reading the
// pairs each rule removes from /usr/share/trans/de-en (2023-01-30 edition): every swapped pair
// it finds is truly swapped, and the length-ratio rule removes loose paraphrases such as
// "Der Groschen ist gefallen!" vs a long English idiom.
#include "data/ding_cleaning.h"

#include <algorithm>
#include <array>

#include "data/io/utf8.h"

namespace qkv {
namespace {

constexpr int kMinSentenceWords = 3;

// Frequent function words; the two lists share no word, so a word is evidence for one side.
constexpr std::array<std::string_view, 23> kEnglishWords = {
    "the",  "is",   "are",  "you", "he",   "she",  "it",  "we",   "they", "of", "and", "not",
    "this", "that", "what", "my",  "your", "have", "has", "with", "for",  "to", "were"};
constexpr std::array<std::string_view, 31> kGermanWords = {
    "der", "die",   "das", "ist",   "sind", "ich",  "du",  "er",   "sie", "es",  "wir",
    "ihr", "nicht", "und", "ein",   "eine", "zu",   "mit", "auf",  "für", "von", "den",
    "dem", "des",   "im",  "einen", "hat",  "habe", "bin", "bist", "kein"};

bool is_space(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\v' || cp == '\f' || cp == '\r' ||
         cp == 0x00A0;
}

bool is_apostrophe_variant(char32_t cp) {
  return cp == 0x2019 || cp == 0x2018 || cp == 0x00B4 || cp == '`' || cp == 0x02BC;
}

// True when the code point just before byte `pos` is a letter or digit (a regex \b test).
bool follows_word_character(std::string_view text, std::size_t pos) {
  if (pos == 0) return false;
  std::size_t start = previous_code_point_start(text, pos);
  const char32_t cp = next_code_point(text, start);
  return is_letter(cp) || (cp >= '0' && cp <= '9') || cp == '_';
}

// Counts words of `text` found in `words` (lower-cased, letters only).
template <std::size_t N>
int count_words(std::string_view text, const std::array<std::string_view, N>& words) {
  int count = 0;
  std::string word;
  auto finish_word = [&] {
    if (!word.empty() && std::find(words.begin(), words.end(), word) != words.end()) ++count;
    word.clear();
  };
  for (std::size_t pos = 0; pos < text.size();) {
    const char32_t cp = next_code_point(text, pos);
    if (is_letter(cp)) {
      append_utf8(word, to_lower(cp));
    } else {
      finish_word();
    }
  }
  finish_word();
  return count;
}

int count_german_letters(std::string_view text) {
  int count = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    switch (next_code_point(text, pos)) {
      case U'ä':
      case U'ö':
      case U'ü':
      case U'Ä':
      case U'Ö':
      case U'Ü':
      case U'ß':
        ++count;
        break;
      default:
        break;
    }
  }
  return count;
}

int english_evidence(std::string_view text) { return count_words(text, kEnglishWords); }
int german_evidence(std::string_view text) {
  return count_words(text, kGermanWords) + count_german_letters(text);
}

}  // namespace

std::string strip_ding_annotations(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const char open = text[pos];
    const char close = open == '{' ? '}' : open == '[' ? ']' : open == '<' ? '>' : '\0';
    if (close != '\0') {
      const std::size_t end = text.find(close, pos + 1);
      if (end != std::string_view::npos) {
        pos = end;  // skip the whole annotation
        continue;
      }
    }
    out += open;
  }
  return out;
}

std::string normalize_sentence_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = next_code_point(text, pos);
    if (is_space(cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    if (is_apostrophe_variant(cp)) cp = '\'';
    append_utf8(out, cp);
  }
  return out;
}

bool is_full_sentence(std::string_view text) {
  if (text.empty()) return false;
  std::size_t pos = 0;
  if (!is_upper(next_code_point(text, pos))) return false;
  const char last = text.back();
  if (last != '.' && last != '!' && last != '?') return false;
  const auto words = 1 + std::count(text.begin(), text.end(), ' ');
  return words >= kMinSentenceWords;
}

std::optional<std::string> remove_optional_material(std::string_view text) {
  std::string kept;
  bool inside = false;
  for (const char c : text) {
    if (c == '(') {
      if (inside) return std::nullopt;  // nested
      inside = true;
    } else if (c == ')') {
      if (!inside) return std::nullopt;  // closes nothing
      inside = false;
    } else if (!inside) {
      kept += c;
    }
  }
  if (inside) return std::nullopt;  // never closed
  // Removing "(aber)" from "Du musst (aber) gehen." leaves a double space, and removing a
  // trailing "(for sb.)" a space before the final punctuation: tidy both.
  std::string out = normalize_sentence_text(kept);
  std::string tidy;
  tidy.reserve(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool space_before_punctuation =
        out[i] == ' ' && i + 1 < out.size() &&
        std::string_view(".,!?;:").find(out[i + 1]) != std::string_view::npos;
    if (!space_before_punctuation) tidy += out[i];
  }
  if (!is_full_sentence(tidy)) return std::nullopt;
  return tidy;
}

bool languages_look_swapped(std::string_view german, std::string_view english) {
  return english_evidence(german) > german_evidence(german) &&
         german_evidence(english) > english_evidence(english);
}

bool has_slash_alternatives(std::string_view text) {
  return text.find('/') != std::string_view::npos;
}

bool has_ellipsis(std::string_view text) {
  return text.find("...") != std::string_view::npos ||
         text.find("\xE2\x80\xA6") != std::string_view::npos;  // U+2026 …
}

bool has_placeholder(std::string_view text) {
  constexpr std::array<std::string_view, 7> kPlaceholders = {
      "sb.", "sth.", "jdm.", "jdn.", "jds.", "jd.", "etw."};
  for (const std::string_view placeholder : kPlaceholders) {
    for (std::size_t pos = text.find(placeholder); pos != std::string_view::npos;
         pos = text.find(placeholder, pos + 1)) {
      if (!follows_word_character(text, pos)) return true;
    }
  }
  return false;
}

bool length_ratio_exceeds(std::string_view a, std::string_view b, double max_ratio) {
  const auto length_a = static_cast<double>(code_point_count(a));
  const auto length_b = static_cast<double>(code_point_count(b));
  return std::max(length_a, length_b) > max_ratio * std::min(length_a, length_b);
}

}  // namespace qkv
