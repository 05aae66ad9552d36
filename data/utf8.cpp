// UTF-8 validation and decoding by hand (zlib and the standard library have none), plus the
// letter classes used by the Ding cleaning rules. Ranges are listed explicitly so the rules do
// not depend on the process locale.
#include "data/utf8.h"

namespace qkv {
namespace {

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

bool is_valid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t min_value = 0;
    if ((lead & 0xE0U) == 0xC0U) {
      length = 2, cp = lead & 0x1FU, min_value = 0x80;
    } else if ((lead & 0xF0U) == 0xE0U) {
      length = 3, cp = lead & 0x0FU, min_value = 0x800;
    } else if ((lead & 0xF8U) == 0xF0U) {
      length = 4, cp = lead & 0x07U, min_value = 0x10000;
    } else {
      return false;  // a continuation byte where a character should start, or 0xF8..0xFF
    }
    if (i + length > n) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if (!is_continuation(bytes[i + k])) return false;
      cp = (cp << 6) | (bytes[i + k] & 0x3FU);
    }
    if (cp < min_value || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

char32_t next_code_point(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = 1;
  char32_t cp = lead;
  if (lead >= 0xF0) {
    length = 4, cp = lead & 0x07U;
  } else if (lead >= 0xE0) {
    length = 3, cp = lead & 0x0FU;
  } else if (lead >= 0xC0) {
    length = 2, cp = lead & 0x1FU;
  }
  for (std::size_t k = 1; k < length && pos + k < text.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(text[pos + k]) & 0x3FU);
  }
  pos += length;
  return cp;
}

std::size_t code_point_count(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    if (!is_continuation(static_cast<unsigned char>(c))) ++count;
  }
  return count;
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
