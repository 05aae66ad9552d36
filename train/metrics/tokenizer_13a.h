// sacreBLEU's default BLEU tokenizer "13a" (a reimplementation of mteval-v13a.pl as found in
// sacrebleu/tokenizers/tokenizer_13a.py + tokenizer_re.py), applied to code points exactly as
// Python applies those ASCII regexes to a Unicode str: only ASCII punctuation is split off,
// so e.g. „Hallo“ stays one token (sacreBLEU's "intl" tokenizer, which differs, is not here).
#pragma once

#include <string>
#include <string_view>

namespace qkv {

/// Tokenizes one segment with 13a and returns the tokens joined by single spaces:
///   1. removes "<skipped>", joins "-\n", turns "\n" into " ", and unescapes &quot; &amp;
///      &lt; &gt; (in that order, each a plain left-to-right replace-all);
///   2. pads the ASCII punctuation {|}~ [\]^_` space!"#$%& ()*+ :;<=>?@ / with spaces;
///   3. splits "." and "," off unless preceded by a digit, then unless followed by a digit;
///   4. splits "-" off after a digit; 5. collapses whitespace (Python str.split()).
std::u32string tokenize_13a(std::u32string_view line);

/// The same on UTF-8 text. Throws std::invalid_argument on invalid UTF-8.
std::string tokenize_13a(std::string_view line);

}  // namespace qkv
