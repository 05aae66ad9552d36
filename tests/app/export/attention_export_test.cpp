// The `qkv attention` output layout: the documented files exist, NPY files hold the recorded
// tensors (read back in C++, and with numpy when /usr/bin/python3 has it), and the 10-line
// numpy snippet of docs/attention.md recomputes every map and head output from them.
#include "app/export/attention_export.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "app/export/npy.h"
#include "tests/app/export/export_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

constexpr char kPython[] = "/usr/bin/python3";

// Runs a shell command; returns its exit status and stdout + stderr.
std::pair<int, std::string> shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

bool python_has_numpy() {
  return fs::exists(kPython) && shell(std::string(kPython) + " -c 'import numpy'").first == 0;
}

// The ```python block after `marker` in docs/attention.md.
std::string documented_snippet(const std::string& marker) {
  const std::string docs = test::read_file(std::string(QKV_SOURCE_DIR) + "/docs/attention.md");
  const auto at = docs.find(marker);
  if (at == std::string::npos) throw std::runtime_error("docs/attention.md lacks " + marker);
  const auto begin = docs.find("```python\n", at) + 10;
  return docs.substr(begin, docs.find("```", begin) - begin);
}

class ExportAttentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = test::fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    sentences_ = {test::labelled_sentence(5, 4), test::labelled_sentence(3, 6, true, 2)};
  }
  void TearDown() override { fs::remove_all(out_); }

  fs::path out_;
  std::vector<SentenceAttention> sentences_;
};

TEST_F(ExportAttentionTest, WritesTheDocumentedLayout) {
  ExportOptions options;
  options.vectors = true;
  const int64_t files = export_attention(out_, sentences_, options);
  EXPECT_TRUE(fs::is_regular_file(out_ / "index.html"));
  int64_t expected = 1;
  for (size_t i = 0; i < sentences_.size(); ++i) {
    const fs::path dir = out_ / std::to_string(i);
    EXPECT_TRUE(fs::is_regular_file(dir / "attention.json"));
    EXPECT_TRUE(fs::is_regular_file(dir / "npy" / "index.json"));
    for (const SiteAttention& site : sentences_[i].sites) {
      for (const char* kind : {"weights", "query", "key", "value", "output"}) {
        EXPECT_TRUE(fs::is_regular_file(dir / "npy" / (site.site + "." + kind + ".npy")))
            << site.site << " " << kind;
      }
      EXPECT_TRUE(fs::is_regular_file(dir / "png" / (site.site + ".png")));
      EXPECT_TRUE(fs::is_regular_file(dir / "png" / (site.site + ".mean.png")));
    }
    expected += 2 + static_cast<int64_t>(sentences_[i].sites.size()) * (5 + 2);
  }
  EXPECT_EQ(files, expected);
}

TEST_F(ExportAttentionTest, FormatsChooseWhatIsWritten) {
  ExportOptions options;
  set_formats(options, "json,png");
  EXPECT_FALSE(needs_projections(options));
  export_attention(out_, sentences_, options);
  EXPECT_TRUE(fs::exists(out_ / "0" / "attention.json"));
  EXPECT_TRUE(fs::exists(out_ / "0" / "png"));
  EXPECT_FALSE(fs::exists(out_ / "0" / "npy"));
  EXPECT_FALSE(fs::exists(out_ / "index.html"));
  try {
    set_formats(options, "json,svg");
    FAIL() << "svg is not a format";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("'svg' is not one of: json, npy, png, html"),
              std::string::npos);
  }
  EXPECT_THROW(set_formats(options, ""), std::invalid_argument);
}

TEST_F(ExportAttentionTest, NpyFilesHoldTheRecordedTensorsAndTheIndexDescribesThem) {
  write_attention_npy(out_, sentences_[0], /*vectors=*/true);
  std::ifstream in(out_ / "index.json");
  const auto index = nlohmann::json::parse(in);
  EXPECT_EQ(index["format"], "qkv-attention-npy/1");
  ASSERT_EQ(index["sites"].size(), sentences_[0].sites.size());
  for (size_t i = 0; i < sentences_[0].sites.size(); ++i) {
    const SiteAttention& site = sentences_[0].sites[i];
    const auto& entry = index["sites"][i];
    EXPECT_EQ(entry["site"], site.site);
    const std::vector<std::pair<std::string, torch::Tensor>> kinds = {{"weights", site.weights},
                                                                      {"query", site.query},
                                                                      {"key", site.key},
                                                                      {"value", site.value},
                                                                      {"output", site.output}};
    for (const auto& [kind, tensor] : kinds) {
      const NpyArray array = read_npy(out_ / entry["files"][kind].get<std::string>());
      EXPECT_EQ(array.shape, tensor.sizes().vec()) << site.site << " " << kind;
      EXPECT_EQ(entry["shapes"][kind].get<std::vector<int64_t>>(), tensor.sizes().vec());
      EXPECT_TRUE(torch::equal(to_tensor(array), tensor)) << site.site << " " << kind;
    }
  }
}

TEST_F(ExportAttentionTest, NumpyLoadsEveryFileAsFloat32OfTheIndexedShape) {
  if (!python_has_numpy())
    GTEST_SKIP() << kPython << " with numpy not found (apt-get install python3-numpy)";
  write_attention_npy(out_, sentences_[1], /*vectors=*/true);
  const std::string script =
      "import json, sys, numpy as np\n"
      "d = sys.argv[1]\n"
      "n = 0\n"
      "for s in json.load(open(d + '/index.json'))['sites']:\n"
      "    for kind, name in s['files'].items():\n"
      "        a = np.load(d + '/' + name)\n"
      "        assert a.dtype == np.dtype('<f4'), (name, a.dtype)\n"
      "        assert list(a.shape) == s['shapes'][kind], (name, a.shape)\n"
      "        n += 1\n"
      "print('loaded', n)\n";
  std::ofstream(out_ / "check.py") << script;
  const auto [status, output] =
      shell(std::string(kPython) + " " + (out_ / "check.py").string() + " " + out_.string());
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("loaded " + std::to_string(sentences_[1].sites.size() * 5)),
            std::string::npos)
      << output;
}

TEST_F(ExportAttentionTest, DocsNumpySnippetRecomputesEveryMapAndHeadOutput) {
  if (!python_has_numpy())
    GTEST_SKIP() << kPython << " with numpy not found (apt-get install python3-numpy)";
  const std::string snippet = documented_snippet("<!-- snippet: recompute -->");
  int lines = 0;
  for (char c : snippet) lines += c == '\n' ? 1 : 0;
  EXPECT_LE(lines, 10) << "the docs promise a 10-line snippet";
  ExportOptions options;
  options.vectors = true;
  set_formats(options, "npy");
  export_attention(out_, sentences_, options);
  std::ofstream(out_ / "snippet.py") << snippet;
  for (const char* sentence : {"0", "1"}) {
    const auto [status, output] =
        shell(std::string(kPython) + " " + (out_ / "snippet.py").string() + " " +
              (out_ / sentence / "npy").string());
    EXPECT_EQ(status, 0) << output;
    EXPECT_NE(output.find("reproduces"), std::string::npos) << output;
  }
  // The check can fail: a tampered weights file is caught.
  const SiteAttention& site = sentences_[0].sites.back();
  write_npy(out_ / "0" / "npy" / (site.site + ".weights.npy"), site.weights.flip(-1));
  const auto [status, output] = shell(std::string(kPython) + " " + (out_ / "snippet.py").string() +
                                      " " + (out_ / "0" / "npy").string());
  EXPECT_NE(status, 0) << output;
}

}  // namespace
}  // namespace qkv
