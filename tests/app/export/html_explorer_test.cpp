// HTML explorer: one self-contained file (no network), its embedded data are the recorded
// tensors exactly, Cyrillic text stays UTF-8, tokens cannot break out of the data element, and
// the page loads in headless Chromium without console errors, shows the right number of heads
// and layers and the Cyrillic sentence, and passes its own self-test
// (tests/app/export/check_explorer.sh; skipped without Chromium).
#include "app/export/html_explorer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tests/app/export/export_test_util.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;

// The text inside <script type="application/json" id="qkv-data">, and its JSON.
std::string embedded_text(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"qkv-data\">";
  const auto begin = page.find(open) + open.size();
  return page.substr(begin, page.find("</script>", begin) - begin);
}

nlohmann::json embedded_data(const std::string& page) {
  return nlohmann::json::parse(embedded_text(page));
}

std::vector<float> decode_base64_floats(const std::string& text) {
  auto value = [](char c) -> uint32_t {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : 63;
  };
  std::string bytes;
  for (size_t i = 0; i + 3 < text.size(); i += 4) {
    const uint32_t chunk = value(text[i]) << 18 | value(text[i + 1]) << 12 |
                           (text[i + 2] == '=' ? 0 : value(text[i + 2]) << 6) |
                           (text[i + 3] == '=' ? 0 : value(text[i + 3]));
    bytes += static_cast<char>(chunk >> 16);
    if (text[i + 2] != '=') bytes += static_cast<char>(chunk >> 8);
    if (text[i + 3] != '=') bytes += static_cast<char>(chunk);
  }
  std::vector<float> floats(bytes.size() / 4);
  std::memcpy(floats.data(), bytes.data(), floats.size() * 4);  // little-endian host
  return floats;
}

// A hand-made probe snapshot in the format of app/export/probe_attention.h.
void write_snapshot(const fs::path& path, int64_t step) {
  const nlohmann::json rows = {{0.7, 0.2, 0.1}, {0.1, 0.8, 0.1}};  // [T=2, S=3]
  const nlohmann::json snapshot = {{"format", "qkv-attention-probes/1"},
                                   {"step", step},
                                   {"axes", "cross_attn[layer][head][query][key]"},
                                   {"probes",
                                    {{{"source", "Hallo Welt"},
                                      {"translation", step < 100 ? "Hello" : "Hello world"},
                                      {"source_tokens", {"\u2581Hallo", "\u2581Welt", "</s>"}},
                                      {"target_tokens", {"<s>", "\u2581Hello"}},
                                      {"predicted_tokens", {"\u2581Hello", "</s>"}},
                                      {"cross_attn", {{rows, rows}, {rows, rows}}}}}}};
  std::ofstream(path) << snapshot.dump();
}

class HtmlExplorerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(HtmlExplorerTest, IsOneSelfContainedFileWithoutNetworkAccess) {
  const std::string page = explorer_html({test::labelled_sentence()}, {"run test", {}});
  // Nothing that loads: no src/href to a URL, no CSS url(), no fetch/XHR/import. (The SVG
  // namespace "http://www.w3.org/2000/svg" is a name, not a request.)
  for (const char* load : {" src=",
                           "href=\"http",
                           "url(",
                           "fetch(",
                           "XMLHttpRequest",
                           "import(",
                           "@import",
                           "<iframe",
                           "WebSocket"}) {
    EXPECT_EQ(page.find(load), std::string::npos) << load;
  }
  EXPECT_NE(page.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.find("@@"), std::string::npos) << "a template marker was left";
  EXPECT_NE(page.find("run test"), std::string::npos);
}

TEST_F(HtmlExplorerTest, EmbeddedTensorsAreTheRecordedFloat32Values) {
  const SentenceAttention sentence = test::labelled_sentence(5, 3);
  const auto data = embedded_data(explorer_html({sentence}, {}));
  ASSERT_EQ(data["sentences"].size(), 1u);
  const auto& s = data["sentences"][0];
  EXPECT_EQ(s["model"]["num_heads"], sentence.num_heads);
  EXPECT_EQ(s["source"]["tokens"].get<std::vector<std::string>>(), sentence.source_tokens);
  ASSERT_EQ(s["sites"].size(), sentence.sites.size());
  for (size_t i = 0; i < sentence.sites.size(); ++i) {
    const SiteAttention& site = sentence.sites[i];
    const std::vector<std::pair<std::string, torch::Tensor>> tensors = {{"weights", site.weights},
                                                                        {"query", site.query},
                                                                        {"key", site.key},
                                                                        {"value", site.value},
                                                                        {"output", site.output}};
    for (const auto& [name, tensor] : tensors) {
      const auto floats = decode_base64_floats(s["sites"][i][name].get<std::string>());
      const auto flat = tensor.contiguous().view({-1});
      ASSERT_EQ(static_cast<int64_t>(floats.size()), flat.numel()) << site.site << " " << name;
      EXPECT_TRUE(torch::equal(torch::tensor(floats), flat)) << site.site << " " << name;
    }
  }
}

TEST_F(HtmlExplorerTest, EmbedsTheSwitchedOffHeadsOnlyWhenThereAreAny) {
  SentenceAttention sentence = test::labelled_sentence();
  EXPECT_FALSE(embedded_data(explorer_html({sentence}, {}))["sentences"][0].contains("heads_off"));
  sentence.heads_off = parse_head_mask("decoder.1.cross_attn:1");
  EXPECT_EQ(embedded_data(explorer_html({sentence}, {}))["sentences"][0]["heads_off"],
            nlohmann::json::parse(R"({"decoder.1.cross_attn": [1]})"));
}

TEST_F(HtmlExplorerTest, TokensCannotCloseTheDataElement) {
  SentenceAttention sentence = test::labelled_sentence();
  sentence.source_tokens[0] = "</script><script>alert(1)</script>";
  sentence.source_text = "@@JS@@ @@DATA@@";
  const std::string page = explorer_html({sentence}, {"<b>title</b>", {}});
  EXPECT_EQ(page.find("</script><script>alert(1)"), std::string::npos);
  EXPECT_EQ(page.find("<b>title</b>"), std::string::npos);
  const auto data = embedded_data(page);
  EXPECT_EQ(data["sentences"][0]["source"]["tokens"][0], "</script><script>alert(1)</script>");
  EXPECT_EQ(data["sentences"][0]["source"]["text"], "@@JS@@ @@DATA@@");
}

// Russian and German text reaches the page as UTF-8 bytes (no \u escapes, no replacement
// characters), declared as UTF-8 before the first non-ASCII byte, within the first 1024 bytes
// where browsers look for it.
TEST_F(HtmlExplorerTest, CyrillicTextIsKeptAsUtf8) {
  const SentenceAttention sentence = test::labelled_sentence();
  const std::string russian = "\u2581\u041f\u0440\u0438\u0432\u0435\u0442";  // ▁Привет
  ASSERT_THAT(sentence.source_tokens, ::testing::Contains(russian));
  const std::string title = "en \u2192 ru: \u043c\u0438\u0440";
  const std::string page = explorer_html({sentence}, {title, {}});

  const size_t charset = page.find("<meta charset=\"utf-8\">");
  const size_t first_non_ascii = static_cast<size_t>(
      std::find_if(page.begin(), page.end(), [](char c) { return (c & 0x80) != 0; }) -
      page.begin());
  EXPECT_LT(charset, first_non_ascii);
  EXPECT_LT(charset, 1024u);
  EXPECT_NE(page.find(sentence.source_text), std::string::npos);  // "Straße schön, Привет мир"
  EXPECT_NE(page.find("\"" + russian + "\""), std::string::npos);
  EXPECT_NE(page.find(title), std::string::npos);
  EXPECT_EQ(embedded_text(page).find("\\u04"), std::string::npos) << "Cyrillic escaped";
  EXPECT_EQ(page.find("\xef\xbf\xbd"), std::string::npos) << "a replacement character";

  const auto data = embedded_data(page)["sentences"][0];
  EXPECT_EQ(data["source"]["text"], sentence.source_text);
  EXPECT_EQ(data["source"]["tokens"].get<std::vector<std::string>>(), sentence.source_tokens);
  EXPECT_EQ(data["target"]["tokens"].get<std::vector<std::string>>(), sentence.target_tokens);
  EXPECT_EQ(data["target"]["predicted_tokens"].get<std::vector<std::string>>(),
            sentence.predicted_tokens);
}

TEST_F(HtmlExplorerTest, RefusesSentencesWithoutProjectionsAndBadTimelines) {
  EXPECT_THROW(explorer_html({}, {}), std::invalid_argument);
  EXPECT_THROW(explorer_html({test::labelled_sentence(3, 3, /*projections=*/false)}, {}),
               std::invalid_argument);
  std::ofstream(dir_ / "step-1.json") << "{\"format\": \"something else\"}";
  EXPECT_THROW(explorer_html({test::labelled_sentence()}, {"", {dir_ / "step-1.json"}}),
               std::runtime_error);
}

TEST_F(HtmlExplorerTest, LoadsInHeadlessChromiumShowsAllHeadsAndLayersAndPassesItsSelfTest) {
  write_snapshot(dir_ / "step-50.json", 50);
  write_snapshot(dir_ / "step-100.json", 100);
  const std::vector<SentenceAttention> sentences = {test::labelled_sentence(6, 5),
                                                    test::labelled_sentence(3, 7, true, 2)};
  write_html_explorer(dir_ / "index.html",
                      sentences,
                      {"chromium test", {dir_ / "step-50.json", dir_ / "step-100.json"}});
  // The sentence line must show the source text, Cyrillic included, as it is.
  const auto [code, output] = test::check_explorer((dir_ / "index.html").string() + " 2 2 2 2 '" +
                                                   sentences[0].source_text + "'");
  if (code == 77) GTEST_SKIP() << output;
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("PASS"), std::string::npos) << output;
}

// A head marked switched off must have recorded zeros: the self-test catches a page whose
// heads_off does not match its outputs. (The passing case, a page written by `qkv attention
// --heads-off`, is tests/app/cmd_attention_test.cpp.)
TEST_F(HtmlExplorerTest, SelfTestFailsWhenASwitchedOffHeadHasAnOutput) {
  SentenceAttention sentence = test::labelled_sentence(4, 3);
  sentence.heads_off = parse_head_mask("decoder.1.cross_attn:0");
  write_html_explorer(dir_ / "index.html", {sentence}, {"chromium test", {}});
  const auto [code, output] = test::check_explorer((dir_ / "index.html").string() + " 2 2 2");
  if (code == 77) GTEST_SKIP() << output;
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(output.find("switched off, but its recorded output is not zero"), std::string::npos)
      << output;
}

}  // namespace
}  // namespace qkv
