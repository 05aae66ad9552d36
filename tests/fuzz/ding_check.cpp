// check_ding_input (see fuzz_checks.h): the path `qkv prepare` takes, from the file on.
#include <stdexcept>
#include <string>

#include "data/ding_cleaning.h"
#include "data/ding_corpus.h"
#include "data/io/utf8.h"
#include "tests/fuzz/fuzz_checks.h"
#include "tests/fuzz/fuzz_input_file.h"

namespace qkv::fuzz {
namespace {

std::string check_side(const std::string& text) {
  if (!is_valid_utf8(text)) return "kept invalid UTF-8: '" + text + "'";
  if (!is_full_sentence(text)) return "kept a text that is not a full sentence: '" + text + "'";
  if (text.find_first_of("\t\n\r") != std::string::npos) {
    return "kept a tab or line break: '" + text + "'";
  }
  return "";
}

}  // namespace

std::string check_ding_input(std::string_view input) {
  DingSentences sentences;
  try {
    sentences = read_ding_sentences(write_input_file(input, "qkv_fuzz_ding"));
  } catch (const std::runtime_error&) {
    return "";  // invalid UTF-8 or a broken gzip stream: named errors
  }
  if (sentences.counts.kept != static_cast<int64_t>(sentences.pairs.size())) {
    return "counts.kept differs from the number of pairs returned";
  }
  for (const auto& pair : sentences.pairs) {
    for (const std::string* side : {&pair.source, &pair.target}) {
      if (std::string problem = check_side(*side); !problem.empty()) return problem;
    }
  }
  return "";
}

}  // namespace qkv::fuzz
