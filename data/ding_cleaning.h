// The text rules behind the Ding sentence extraction (ding_corpus.h): annotation stripping,
// normalisation, the full-sentence test and the cleaning checks. Pure functions on UTF-8
// strings, so each rule can be tested alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qkv {

/// `text` without its {...}, [...] and <...> annotations (an opening bracket without a
/// matching closing one stays).
std::string strip_ding_annotations(std::string_view text);

/// Apostrophe variants (’ ‘ ´ ` ʼ) become ', whitespace runs (incl. no-break space) one
/// space, and surrounding whitespace goes.
std::string normalize_sentence_text(std::string_view text);

/// True for normalised text that starts with an upper-case letter, ends in '.', '!' or '?',
/// and has at least 3 space-separated words.
bool is_full_sentence(std::string_view text);

/// `text` with its optional "(...)" material removed and re-normalised, if it is still a full
/// sentence; nullopt for nested or unbalanced parentheses or when no sentence is left.
std::optional<std::string> remove_optional_material(std::string_view text);

/// True when `german` reads as English and `english` reads as German (counting frequent
/// function words of each language, and umlauts/ß as German evidence).
bool languages_look_swapped(std::string_view german, std::string_view english);

/// True when `text` holds "/" alternatives such as "close/end".
bool has_slash_alternatives(std::string_view text);

/// True when `text` is a "..." or "…" template.
bool has_ellipsis(std::string_view text);

/// True when `text` holds a placeholder word: sb. sth. jdm. jdn. jds. jd. etw.
bool has_placeholder(std::string_view text);

/// True when one side has more than `max_ratio` times the characters (code points) of the other.
bool length_ratio_exceeds(std::string_view a, std::string_view b, double max_ratio);

}  // namespace qkv
