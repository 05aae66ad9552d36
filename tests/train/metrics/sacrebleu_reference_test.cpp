// Differential tests: the C++ metrics against sacrebleu_reference.py, a plain-Python restatement
// of sacreBLEU 2.x's algorithms that runs Python's own re, str.lower() and str.split(). Random
// corpora mix ASCII and Unicode punctuation, digits, entities, Greek sigmas, Turkish dotted I
// and Python-only whitespace, under many option combinations. Skipped without python3.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "train/metrics/bleu.h"
#include "train/metrics/chrf.h"
#include "train/metrics/tokenizer_13a.h"
#include "train/metrics/unicode_tables.h"
#include "train/metrics/unicode_text.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kScript = QKV_SOURCE_DIR "/tests/train/metrics/sacrebleu_reference.py";

bool have_python() { return std::system("python3 -c 'pass' > /dev/null 2>&1") == 0; }

// The Unicode version of python3's unicodedata ("15.1.0"), "" when it cannot be asked.
std::string python_unicode_version() {
  FILE* pipe = ::popen("python3 -c 'import unicodedata; print(unicodedata.unidata_version)'", "r");
  if (pipe == nullptr) return "";
  char line[64] = {};
  const bool read = std::fgets(line, sizeof(line), pipe) != nullptr;
  ::pclose(pipe);
  std::string version = read ? line : "";
  while (!version.empty() && std::isspace(static_cast<unsigned char>(version.back())))
    version.pop_back();
  return version;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("qkv_metrics_" + std::to_string(::getpid()) + "_" + name);
}

// Runs the reference script on a list of jobs and returns its list of results.
json run_reference(const json& jobs) {
  const fs::path in = temp_path("jobs.json");
  const fs::path out = temp_path("results.json");
  std::ofstream(in, std::ios::binary) << jobs.dump();
  const std::string command =
      "python3 '" + kScript + "' < '" + in.string() + "' > '" + out.string() + "'";
  const int status = std::system(command.c_str());
  const std::string text = read_file(out);
  fs::remove(in);
  fs::remove(out);
  if (status != 0) {
    ADD_FAILURE() << "reference script failed: " << command;
    return json::array();
  }
  return json::parse(text);
}

// Tokens that exercise every 13a rule, chrF's punctuation splitting and Python's str.lower().
const std::vector<std::string> kTokens = {
    "the",     "cat",   "The",   "CAT",   "sat",    "on",        "mat",        "a",
    "A",       "house", "Haus",  "dog",   "3",      "3.5",       "1,000",      "1990-2000",
    "2.",      "-5",    "x.y",   "end.",  "(hi)",   "don't",     "well-known", "\"quoted\"",
    "a,b",     "x/y",   "!!",    "?",     "...",    "--",        "&",          "@user",
    "#tag",    "$5",    "50%",   "&amp;", "&quot;", "&lt;b&gt;", "&amp;quot;", "<skipped>",
    "„Hallo“", "«Oui»", "—",     "–",     "…",      "¿Qué?",     "¡Hola!",     "straße",
    "STRASSE", "ΟΔΟΣ",  "ΣΑΣ",   "Σ",     "Α'Σ",    "İstanbul",  "ǅ",          "ﬁ",
    "日本語",  "。",    "、",    "٣.٥",   "😀",      "e\u0301",   "Ａ",         "Ⅷ",
    "ⅷ",       "Ωmega", "naïve",
};
const std::vector<std::string> kSeparators = {" ",
                                              " ",
                                              " ",
                                              " ",
                                              "  ",
                                              "\t",
                                              "\u00a0",
                                              "\u3000",
                                              "\u2009",
                                              "\u200b",
                                              "\x1c",
                                              "",
                                              "-\n",
                                              "\n"};

std::string random_segment(std::mt19937& rng, int max_tokens) {
  std::uniform_int_distribution<int> length(1, max_tokens);
  std::uniform_int_distribution<std::size_t> token(0, kTokens.size() - 1);
  std::uniform_int_distribution<std::size_t> separator(0, kSeparators.size() - 1);
  std::string text;
  const int n = length(rng);
  for (int i = 0; i < n; ++i) {
    if (i > 0) {
      text += kSeparators[separator(rng)];
    }
    text += kTokens[token(rng)];
  }
  return text;
}

// A hypothesis close to `ref`: its words with some dropped, replaced or repeated.
std::string perturb(std::mt19937& rng, const std::string& ref) {
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  if (coin(rng) < 0.08) {
    return "";
  }
  std::string out;
  std::istringstream words(ref);
  std::string word;
  std::uniform_int_distribution<std::size_t> token(0, kTokens.size() - 1);
  while (words >> word) {
    const double r = coin(rng);
    if (r < 0.15) {
      continue;
    }
    out += (out.empty() ? "" : " ") + (r < 0.3 ? kTokens[token(rng)] : word);
    if (r > 0.93) {
      out += " " + word;
    }
  }
  if (coin(rng) < 0.1) {
    out += " \u00a0\t";  // trailing Python whitespace
  }
  return out;
}

json bleu_options_json(const BleuOptions& o) {
  const char* smooth = o.smoothing == BleuSmoothing::kExp     ? "exp"
                       : o.smoothing == BleuSmoothing::kFloor ? "floor"
                       : o.smoothing == BleuSmoothing::kAddK  ? "add-k"
                                                              : "none";
  json j = {{"lowercase", o.lowercase},
            {"tokenize", o.tokenizer == BleuTokenizer::k13a ? "13a" : "none"},
            {"smooth", smooth},
            {"max_order", o.max_ngram_order},
            {"effective_order", o.effective_order}};
  if (o.smooth_value) {
    j["smooth_value"] = *o.smooth_value;
  }
  return j;
}

json chrf_options_json(const ChrfOptions& o) {
  return {{"lowercase", o.lowercase},
          {"whitespace", o.whitespace},
          {"char_order", o.char_order},
          {"word_order", o.word_order},
          {"beta", o.beta},
          {"eps_smoothing", o.eps_smoothing}};
}

std::vector<BleuOptions> bleu_variants() {
  std::vector<BleuOptions> variants(9);
  variants[1].lowercase = true;
  variants[2].tokenizer = BleuTokenizer::kNone;
  variants[3].smoothing = BleuSmoothing::kFloor;
  variants[4].smoothing = BleuSmoothing::kAddK;
  variants[5].smoothing = BleuSmoothing::kNone;
  variants[6].effective_order = true;
  variants[7].smoothing = BleuSmoothing::kFloor;
  variants[7].smooth_value = 0.3;
  variants[8].max_ngram_order = 2;
  variants[8].lowercase = true;
  return variants;
}

std::vector<ChrfOptions> chrf_variants() {
  std::vector<ChrfOptions> variants(7);
  variants[1].word_order = 2;
  variants[2].eps_smoothing = true;
  variants[3].whitespace = true;
  variants[4].lowercase = true;
  variants[4].word_order = 2;
  variants[5].beta = 1;
  variants[6].char_order = 3;
  variants[6].word_order = 1;
  return variants;
}

struct Corpus {
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> ref_streams;
};

Corpus random_corpus(std::mt19937& rng, std::size_t lines, std::size_t streams, int max_tokens) {
  Corpus corpus;
  corpus.ref_streams.resize(streams);
  for (std::size_t i = 0; i < lines; ++i) {
    const std::string ref = random_segment(rng, max_tokens);
    corpus.hyps.push_back(perturb(rng, ref));
    corpus.ref_streams[0].push_back(ref);
    for (std::size_t s = 1; s < streams; ++s) {
      // Extra references: another perturbation, sometimes empty (variable reference count).
      corpus.ref_streams[s].push_back(rng() % 5 == 0 ? "" : perturb(rng, ref) + "x");
    }
  }
  return corpus;
}

TEST(SacrebleuReference, BleuAndChrfMatchOnRandomUnicodeCorpora) {
  if (!have_python()) {
    GTEST_SKIP() << "python3 not available";
  }
  std::mt19937 rng(20240611);
  const std::vector<BleuOptions> bleu_opts = bleu_variants();
  const std::vector<ChrfOptions> chrf_opts = chrf_variants();
  std::vector<Corpus> corpora;
  json jobs = json::array();
  for (int trial = 0; trial < 36; ++trial) {
    // Short segments (max 3 tokens) now and then, to hit orders without n-grams.
    corpora.push_back(random_corpus(rng, 25, trial % 4 == 3 ? 2 : 1, trial % 6 == 5 ? 3 : 14));
    const Corpus& c = corpora.back();
    jobs.push_back({{"hyps", c.hyps},
                    {"ref_streams", c.ref_streams},
                    {"bleu", bleu_options_json(bleu_opts[trial % bleu_opts.size()])},
                    {"chrf", chrf_options_json(chrf_opts[trial % chrf_opts.size()])},
                    {"tokenize", c.ref_streams[0]}});
  }
  const json results = run_reference(jobs);
  ASSERT_EQ(results.size(), corpora.size());
  for (std::size_t t = 0; t < corpora.size(); ++t) {
    SCOPED_TRACE("trial " + std::to_string(t));
    const Corpus& c = corpora[t];
    const json& expected = results[t];
    const BleuScore bleu =
        corpus_bleu_multi(c.hyps, c.ref_streams, bleu_opts[t % bleu_opts.size()]);
    EXPECT_EQ(bleu.counts, expected["bleu"]["counts"].get<std::vector<int64_t>>());
    EXPECT_EQ(bleu.totals, expected["bleu"]["totals"].get<std::vector<int64_t>>());
    EXPECT_EQ(bleu.sys_len, expected["bleu"]["sys_len"].get<int64_t>());
    EXPECT_EQ(bleu.ref_len, expected["bleu"]["ref_len"].get<int64_t>());
    EXPECT_NEAR(bleu.bp, expected["bleu"]["bp"].get<double>(), 1e-12);
    EXPECT_NEAR(bleu.score, expected["bleu"]["score"].get<double>(), 1e-9);
    const auto precisions = expected["bleu"]["precisions"].get<std::vector<double>>();
    ASSERT_EQ(bleu.precisions.size(), precisions.size());
    for (std::size_t n = 0; n < precisions.size(); ++n) {
      EXPECT_NEAR(bleu.precisions[n], precisions[n], 1e-9) << "order " << n + 1;
    }
    const ChrfScore chrf =
        corpus_chrf_multi(c.hyps, c.ref_streams, chrf_opts[t % chrf_opts.size()]);
    EXPECT_EQ(chrf.stats, expected["chrf"]["stats"].get<std::vector<int64_t>>());
    EXPECT_NEAR(chrf.score, expected["chrf"]["score"].get<double>(), 1e-9);
    const auto tokenized = expected["tokenize"].get<std::vector<std::string>>();
    for (std::size_t i = 0; i < tokenized.size(); ++i) {
      EXPECT_EQ(tokenize_13a(std::string_view(c.ref_streams[0][i])), tokenized[i])
          << "line " << i << ": " << c.ref_streams[0][i];
    }
  }
}

// Every code point of planes 0-3 and 14 (surrogates excluded), lowercased on its own and in
// the contexts the Final_Sigma rule looks at: "0" c "Σ" tests whether c is cased, "Α" c "Σ0"
// whether c is case-ignorable (or cased).
TEST(SacrebleuReference, LowercaseMatchesPythonOnEveryCodePoint) {
  if (!have_python()) {
    GTEST_SKIP() << "python3 not available";
  }
  // Code points assigned after the tables' Unicode version lower (or count as case-ignorable)
  // differently by design: compare only against the Python the tables were generated from.
  const std::string version = python_unicode_version();
  if (version != unicode_tables::kUnicodeVersion) {
    GTEST_SKIP() << "python3 has Unicode " << version << "; the tables are Unicode "
                 << unicode_tables::kUnicodeVersion << " (generate_unicode_tables.py)";
  }
  std::u32string text;
  const auto add = [&](char32_t c) {
    text += U"0";
    text += c;
    text += U"\u03a30\u0391";
    text += c;
    text += U"\u03a3";
  };
  for (char32_t c = 0; c < 0x40000; ++c) {
    if (c < 0xD800 || c > 0xDFFF) {
      add(c);
    }
  }
  for (char32_t c = 0xE0000; c < 0xE1000; ++c) {
    add(c);
  }
  const fs::path in = temp_path("lower_in.txt");
  const fs::path out = temp_path("lower_out.txt");
  std::ofstream(in, std::ios::binary) << encode_utf8(text);
  const std::string command =
      "python3 '" + kScript + "' --lower '" + in.string() + "' '" + out.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const std::u32string expected = decode_utf8(read_file(out));
  fs::remove(in);
  fs::remove(out);
  const std::u32string actual = python_lower(text);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] != expected[i]) {
      FAIL() << "first difference at index " << i << ": got U+" << std::hex
             << static_cast<uint32_t>(actual[i]) << ", Python gives U+"
             << static_cast<uint32_t>(expected[i]);
    }
  }
}

}  // namespace
}  // namespace qkv
