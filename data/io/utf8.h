// The one UTF-8 codec of qkv: strict validation and decoding (Python's "utf-8" codec rules:
// no overlong forms, no surrogates, nothing above U+10FFFF), encoding, and walking a string by
// code points; plus the few character classes the Ding cleaning rules need (Latin, Greek and
// Cyrillic letters). Not a Unicode library: no normalisation, no case folding beyond the
// letters listed in utf8.cpp (the metrics' Python-compatible text handling is
// train/metrics/unicode_text.h, built on this codec).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace qkv {

/// Decodes the code point starting at byte `pos` of `text` into `cp` and advances `pos` past
/// it. Returns false (leaving `pos` and `cp` as they were) when no well-formed sequence starts
/// there. Precondition: pos < text.size().
bool decode_code_point(std::string_view text, std::size_t& pos, char32_t& cp);

/// True if `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

/// The code points of `text`. Throws std::invalid_argument "invalid UTF-8 at byte <offset>"
/// when it is not well-formed.
std::u32string decode_utf8(std::string_view text);

/// Decodes the code point starting at byte `pos` of valid UTF-8 `text` and advances `pos`
/// past it. Precondition: pos < text.size() and the text is valid UTF-8 (a malformed byte
/// reads as U+FFFD and is skipped alone).
char32_t next_code_point(std::string_view text, std::size_t& pos);

/// The byte offset where the code point that ends just before byte `pos` starts (pos > 0).
std::size_t previous_code_point_start(std::string_view text, std::size_t pos);

/// Number of code points in valid UTF-8 `text` (what Python's len() gives).
std::size_t code_point_count(std::string_view text);

/// The longest prefix of valid UTF-8 `text` with at most `max_code_points` code points.
std::string_view code_point_prefix(std::string_view text, std::size_t max_code_points);

/// Appends the UTF-8 encoding of `cp` to `out`.
void append_utf8(std::string& out, char32_t cp);

/// The UTF-8 encoding of `text` (the inverse of decode_utf8).
std::string encode_utf8(std::u32string_view text);

/// True for letters of the Latin (incl. Latin-1 and Extended-A/B), Greek and Cyrillic scripts.
bool is_letter(char32_t cp);

/// True for the upper-case letters among those of is_letter().
bool is_upper(char32_t cp);

/// Lower-case form of an upper-case letter of is_upper(); other code points unchanged.
char32_t to_lower(char32_t cp);

}  // namespace qkv
