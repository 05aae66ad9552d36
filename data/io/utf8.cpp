// UTF-8 validation, decoding and encoding by hand (zlib and the standard library have none;
// std::codecvt is deprecated and lax), plus the letter classes used by the Ding cleaning rules.
// Ranges are listed explicitly so the rules do not depend on the process locale.
#include "data/io/utf8.h"

#include <stdexcept>

namespace qkv {
namespace {

constexpr char32_t kReplacementCharacter = 0xFFFD;

bool is_continuation(unsigned char byte) { return (byte & 0xC0U) == 0x80U; }

// Latin Extended-A alternates upper/lower case; the parity of upper case flips at U+0139 and
// again at U+014A and U+0179.
bool is_upper_latin_extended_a(char32_t cp) {
  if (cp >= 0x0100 && cp <= 0x0137) return cp % 2 == 0;
  if (cp >= 0x0139 && cp <= 0x0148) return cp % 2 == 1;
  if (cp >= 0x014A && cp <= 0x0177) return cp % 2 == 0;
  if (cp == 0x0178) return true;  // Ÿ
  if (cp >= 0x0179 && cp <= 0x017E) return cp % 2 == 1;
  return false;
}

// Cyrillic supplementary letters also come in upper/lower pairs.
bool is_upper_cyrillic_pair(char32_t cp) {
  if ((cp >= 0x0460 && cp <= 0x0481) || (cp >= 0x048A && cp <= 0x04BF)) return cp % 2 == 0;
  if (cp == 0x04C0) return true;
  if (cp >= 0x04C1 && cp <= 0x04CE) return cp % 2 == 1;
  if (cp >= 0x04D0 && cp <= 0x052F) return cp % 2 == 0;
  return false;
}

}  // namespace

bool decode_code_point(std::string_view text, std::size_t& pos, char32_t& cp) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) {
    cp = lead;
    ++pos;
    return true;
  }
  // Sequence length and the allowed range of the second byte (the table of RFC 3629, which is
  // what rules out overlong forms, surrogates and code points above U+10FFFF).
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  char32_t value = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, value = lead & 0x1FU;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, value = lead & 0x0FU;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, value = lead & 0x07U;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return false;  // a continuation byte where a character should start, C0, C1 or F5..FF
  }
  if (length > text.size() - pos) return false;
  for (std::size_t k = 1; k < length; ++k) {
    const auto byte = static_cast<unsigned char>(text[pos + k]);
    if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xBF)) return false;
    value = (value << 6) | (byte & 0x3FU);
  }
  cp = value;
  pos += length;
  return true;
}

bool is_valid_utf8(std::string_view text) {
  char32_t cp = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    if (!decode_code_point(text, pos, cp)) return false;
  }
  return true;
}

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  char32_t cp = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    if (!decode_code_point(text, pos, cp)) {
      throw std::invalid_argument("invalid UTF-8 at byte " + std::to_string(pos));
    }
    out.push_back(cp);
  }
  return out;
}

char32_t next_code_point(std::string_view text, std::size_t& pos) {
  char32_t cp = 0;
  if (decode_code_point(text, pos, cp)) return cp;
  ++pos;
  return kReplacementCharacter;
}

std::size_t previous_code_point_start(std::string_view text, std::size_t pos) {
  std::size_t start = pos - 1;
  while (start > 0 && is_continuation(static_cast<unsigned char>(text[start]))) --start;
  return start;
}

std::size_t code_point_count(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    if (!is_continuation(static_cast<unsigned char>(c))) ++count;
  }
  return count;
}

std::string_view code_point_prefix(std::string_view text, std::size_t max_code_points) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_continuation(static_cast<unsigned char>(text[i])) && ++count > max_code_points) {
      return text.substr(0, i);
    }
  }
  return text;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t cp : text) append_utf8(out, cp);
  return out;
}

bool is_letter(char32_t cp) {
  if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) return true;
  if (cp >= 0x00C0 && cp <= 0x024F) return cp != 0x00D7 && cp != 0x00F7;  // Latin-1, Ext-A/B
  if (cp >= 0x0386 && cp <= 0x03FF) return cp != 0x0387;                  // Greek
  if (cp >= 0x0400 && cp <= 0x052F) return cp < 0x0482 || cp > 0x0489;    // Cyrillic
  return cp == 0x00B5;                                                    // micro sign
}

bool is_upper(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return true;
  if (cp >= 0x00C0 && cp <= 0x00DE) return cp != 0x00D7;
  if (cp >= 0x0100 && cp <= 0x017F) return is_upper_latin_extended_a(cp);
  if (cp == 0x0386 || (cp >= 0x0388 && cp <= 0x038F && cp != 0x038B && cp != 0x038D)) return true;
  if (cp >= 0x0391 && cp <= 0x03A9) return cp != 0x03A2;
  if (cp >= 0x0400 && cp <= 0x042F) return true;
  return is_upper_cyrillic_pair(cp);
}

char32_t to_lower(char32_t cp) {
  if (!is_upper(cp)) return cp;
  if (cp <= 'Z' || (cp >= 0x00C0 && cp <= 0x00DE)) return cp + 0x20;
  if (cp == 0x0178) return 0x00FF;
  if (cp == 0x0386) return 0x03AC;
  if (cp >= 0x0388 && cp <= 0x038A) return cp + 37;
  if (cp == 0x038C) return 0x03CC;
  if (cp == 0x038E || cp == 0x038F) return cp + 63;
  if (cp >= 0x0391 && cp <= 0x03A9) return cp + 0x20;
  if (cp >= 0x0400 && cp <= 0x040F) return cp + 0x50;
  if (cp >= 0x0410 && cp <= 0x042F) return cp + 0x20;
  if (cp == 0x04C0) return 0x04CF;
  return cp + 1;  // the alternating Latin Extended-A and Cyrillic pairs
}

}  // namespace qkv
