// Small UTF-8 helpers for the corpus readers: validation, code-point iteration, and the few
// character classes the Ding cleaning rules need (Latin, Greek and Cyrillic letters). Not a
// Unicode library: no normalisation, no case folding beyond the letters listed in utf8.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qkv {

/// True if `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

/// Decodes the code point starting at byte `pos` of valid UTF-8 `text` and advances `pos`
/// past it. Precondition: pos < text.size() and the text is valid UTF-8.
char32_t next_code_point(std::string_view text, std::size_t& pos);

/// Number of code points in valid UTF-8 `text` (what Python's len() gives).
std::size_t code_point_count(std::string_view text);

/// Appends the UTF-8 encoding of `cp` to `out`.
void append_utf8(std::string& out, char32_t cp);

/// True for letters of the Latin (incl. Latin-1 and Extended-A/B), Greek and Cyrillic scripts.
bool is_letter(char32_t cp);

/// True for the upper-case letters among those of is_letter().
bool is_upper(char32_t cp);

/// Lower-case form of an upper-case letter of is_upper(); other code points unchanged.
char32_t to_lower(char32_t cp);

}  // namespace qkv
