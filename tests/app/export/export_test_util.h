// Test helpers for app/export tests: sentences collected from a small random-weight model
// (tests/inference/inference_test_util.h), labelled with German and Cyrillic pieces (the
// labels need not match the ids: writers only draw them).
#pragma once

#include <sys/wait.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "inference/attention_maps.h"
#include "tests/inference/inference_test_util.h"

namespace qkv::test {

/// Labels for `ids` cycling through German and Cyrillic pieces, `last` appended.
inline std::vector<std::string> labels(size_t n,
                                       const std::string& first,
                                       const std::string& last) {
  static const std::vector<std::string> pieces = {"\u2581Stra\u00dfe",
                                                  "n",
                                                  "\u2581sch\u00f6n",
                                                  "\u2581\u041f\u0440\u0438\u0432\u0435\u0442",
                                                  "\u2581\u043c\u0438\u0440",
                                                  "\u2581Haus",
                                                  "t\u00fcr",
                                                  "\u2581gr\u00fc\u00dft"};
  std::vector<std::string> out;
  if (!first.empty()) out.push_back(first);
  while (out.size() + (last.empty() ? 0 : 1) < n) out.push_back(pieces[out.size() % pieces.size()]);
  if (!last.empty()) out.push_back(last);
  return out;
}

/// A sentence of `source_length` + </s> source and <s> + `target_length` target positions,
/// collected from tiny_model(seed), labelled.
inline SentenceAttention labelled_sentence(int64_t source_length = 5,
                                           int64_t target_length = 4,
                                           bool projections = true,
                                           uint64_t seed = 1) {
  Transformer model = tiny_model(seed);
  TokenPair tokens;
  tokens.source = content_ids(source_length);
  tokens.target = content_ids(target_length, 10);
  SentenceAttention sentence = collect_attention(model, tokens, projections);
  sentence.source_text = "Straße schön, Привет мир";
  sentence.target_text = "Haustür grüßt";
  sentence.source_tokens = labels(sentence.source_ids.size(), "", "</s>");
  sentence.target_tokens = labels(sentence.target_ids.size(), "<s>", "");
  sentence.predicted_tokens = labels(sentence.predicted_ids.size(), "", "</s>");
  return sentence;
}

/// Contents of a text file.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

/// What tests/app/export/check_explorer.sh printed (stdout and stderr) and its exit code (77:
/// skipped, no Chromium) for `args`, a shell-quoted argument line after the script's path.
struct ExplorerCheck {
  int code = -1;
  std::string output;
};
inline ExplorerCheck check_explorer(const std::string& args) {
  const std::string command =
      std::string(QKV_SOURCE_DIR) + "/tests/app/export/check_explorer.sh " + args + " 2>&1";
  ExplorerCheck result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace qkv::test
