// Unicode text handling for the metrics, with Python's semantics: sacreBLEU works on Python
// `str` (sequences of code points), so BLEU/chrF must split, strip and lowercase exactly as
// CPython does. UTF-8 in and out through data/io/utf8's codec (decode_utf8, encode_utf8);
// std::u32string (one char32_t per code point) inside.
// Not a general Unicode library: no normalisation, no locale, no grapheme clusters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/io/utf8.h"  // decode_utf8 (as strict as Python's codec), encode_utf8

namespace qkv {

/// True for the code points Python's str.split()/str.strip() treat as whitespace:
/// ASCII \t \n \v \f \r \x1c-\x1f and space, plus U+0085, U+00A0, U+1680, U+2000-U+200A,
/// U+2028, U+2029, U+202F, U+205F and U+3000.
bool is_python_whitespace(char32_t c);

/// Python's str.lower(): full lowercase mapping (U+0130 becomes "i" + U+0307) and the
/// Final_Sigma rule (capital sigma becomes U+03C2 at the end of a word, U+03C3 elsewhere).
std::u32string python_lower(std::u32string_view text);

/// Python's str.split() without arguments: the maximal runs of non-whitespace code points.
std::vector<std::u32string_view> python_split(std::u32string_view text);

/// Python's str.strip() / str.rstrip() without arguments.
std::u32string_view python_strip(std::u32string_view text);
std::u32string_view python_rstrip(std::u32string_view text);

/// Python's "".join(text.split()): the text with every whitespace code point removed.
std::u32string remove_python_whitespace(std::u32string_view text);

/// The Unicode version of the generated tables (that of the Python that generated them).
const char* python_unicode_version();

}  // namespace qkv
