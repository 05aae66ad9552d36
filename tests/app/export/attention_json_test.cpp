// attention.json: the document has exactly the shape docs/attention.md documents (the schema
// block there is parsed and compared key by key, type by type), its arrays have the shapes the
// token counts imply, and its numbers read back as the recorded float32 values.
#include "app/export/attention_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/app/export/export_test_util.h"

namespace qkv {
namespace {

using nlohmann::json;

// The ```json block that follows `marker` in docs/attention.md.
json documented_block(const std::string& marker) {
  const std::string docs = test::read_file(std::string(QKV_SOURCE_DIR) + "/docs/attention.md");
  const auto at = docs.find(marker);
  if (at == std::string::npos) throw std::runtime_error("docs/attention.md lacks " + marker);
  const auto begin = docs.find("```json\n", at) + 8;
  const auto end = docs.find("```", begin);
  return json::parse(docs.substr(begin, end - begin));
}

// Same keys and JSON types; arrays are compared through their first element (the documented
// example holds one element of each array that has elements).
void expect_same_shape(const json& documented, const json& actual, const std::string& path) {
  ASSERT_EQ(documented.type_name(), std::string(actual.type_name())) << path;
  if (documented.is_object()) {
    for (const auto& [key, value] : documented.items()) {
      ASSERT_TRUE(actual.contains(key)) << path << "." << key << " is documented but missing";
      expect_same_shape(value, actual[key], path + "." + key);
    }
    for (const auto& [key, value] : actual.items()) {
      EXPECT_TRUE(documented.contains(key)) << path << "." << key << " is not documented";
    }
  } else if (documented.is_array() && !documented.empty()) {
    ASSERT_FALSE(actual.empty()) << path;
    for (const auto& element : actual) expect_same_shape(documented[0], element, path + "[]");
  }
}

// The number type ("number_float" or "number_integer") may differ between a documented example
// and output (1 vs 1.0), so compare types after mapping all numbers to "number".
json normalise_numbers(const json& value) {
  if (value.is_number()) return 0.5;
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, item] : value.items()) out[key] = normalise_numbers(item);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) out.push_back(normalise_numbers(item));
    return out;
  }
  return value;
}

// heads_off is keyed by site names, which differ between the example and a test model: keep
// only its first value, compared like an array's first element.
json heads_off_by_value(json document) {
  if (document.contains("heads_off")) {
    document["heads_off"] = json::array({document["heads_off"].front()});
  }
  return document;
}

std::vector<int64_t> dims(const json& nested) {
  std::vector<int64_t> out;
  const json* at = &nested;
  while (at->is_array()) {
    out.push_back(static_cast<int64_t>(at->size()));
    if (at->empty()) break;
    at = &(*at)[0];
  }
  return out;
}

TEST(AttentionJson, ValidatesAgainstTheSchemaDocumentedInDocsWithVectors) {
  SentenceAttention sentence = test::labelled_sentence();
  sentence.heads_off = parse_head_mask("decoder.1.cross_attn:0,1");  // documented, optional
  const json actual = json::parse(attention_json(sentence, /*include_vectors=*/true));
  const json documented = documented_block("<!-- schema: attention.json -->");
  expect_same_shape(normalise_numbers(heads_off_by_value(documented)),
                    normalise_numbers(heads_off_by_value(actual)),
                    "$");
}

TEST(AttentionJson, WithoutVectorsSitesLackExactlyTheFourVectorKeys) {
  const SentenceAttention sentence = test::labelled_sentence(4, 3, /*projections=*/false);
  const json actual = json::parse(attention_json(sentence, /*include_vectors=*/false));
  json documented = documented_block("<!-- schema: attention.json -->");
  for (const char* key : {"query", "key", "value", "output"}) documented["sites"][0].erase(key);
  documented.erase("heads_off");  // only when heads were switched off
  expect_same_shape(normalise_numbers(documented), normalise_numbers(actual), "$");
  EXPECT_THROW(attention_json(sentence, /*include_vectors=*/true), std::invalid_argument);
}

TEST(AttentionJson, ArraysHaveTheShapesOfTheTokensAndRowsAreQueries) {
  const SentenceAttention sentence = test::labelled_sentence(6, 3);
  const json doc = json::parse(attention_json(sentence, true));
  const auto s = static_cast<int64_t>(doc["source"]["tokens"].size());
  const auto t = static_cast<int64_t>(doc["target"]["tokens"].size());
  const int64_t h = doc["model"]["num_heads"], dh = doc["model"]["d_head"];
  EXPECT_EQ(s, 7);
  EXPECT_EQ(t, 4);
  EXPECT_EQ(doc["target"]["predicted_tokens"].size(), static_cast<size_t>(t));
  EXPECT_NE(doc["axes"].get<std::string>().find("rows are queries, columns are keys"),
            std::string::npos);
  ASSERT_EQ(doc["sites"].size(), sentence.sites.size());
  for (const auto& site : doc["sites"]) {
    const std::string type = site["type"];
    const int64_t tq = site["queries"] == "source" ? s : t;
    const int64_t tk = site["keys"] == "source" ? s : t;
    EXPECT_EQ(site["queries"], type == "encoder_self" ? "source" : "target");
    EXPECT_EQ(site["keys"], type == "decoder_self" ? "target" : "source");
    EXPECT_EQ(site["mask"], type == "decoder_self" ? "causal" : "none");
    EXPECT_EQ(site["shape"].get<std::vector<int64_t>>(), (std::vector<int64_t>{h, tq, tk}));
    EXPECT_EQ(dims(site["weights"]), (std::vector<int64_t>{h, tq, tk}));
    EXPECT_EQ(dims(site["query"]), (std::vector<int64_t>{h, tq, dh}));
    EXPECT_EQ(dims(site["key"]), (std::vector<int64_t>{h, tk, dh}));
    EXPECT_EQ(dims(site["value"]), (std::vector<int64_t>{h, tk, dh}));
    EXPECT_EQ(dims(site["output"]), (std::vector<int64_t>{h, tq, dh}));
  }
}

TEST(AttentionJson, NumbersReadBackAsTheRecordedFloat32Values) {
  const SentenceAttention sentence = test::labelled_sentence();
  const json doc = json::parse(attention_json(sentence, true));
  for (size_t i = 0; i < sentence.sites.size(); ++i) {
    const auto& site = sentence.sites[i];
    const auto weights = site.weights.contiguous();
    const auto keys = site.key.contiguous();
    for (int64_t h = 0; h < weights.size(0); ++h) {
      for (int64_t q = 0; q < weights.size(1); ++q) {
        for (int64_t k = 0; k < weights.size(2); ++k) {
          ASSERT_EQ(doc["sites"][i]["weights"][h][q][k].get<float>(),
                    weights[h][q][k].item<float>());
        }
      }
      ASSERT_EQ(doc["sites"][i]["key"][h][0][1].get<float>(), keys[h][0][1].item<float>());
    }
  }
  // Unicode tokens pass through unchanged.
  EXPECT_EQ(doc["source"]["tokens"][3], "\u2581\u041f\u0440\u0438\u0432\u0435\u0442");
}

// With heads switched off the document gains "heads_off" and nothing else; with all heads on it
// has no such field and is byte for byte what it was before the field existed.
TEST(AttentionJson, HeadsOffIsOneFieldPresentOnlyWhenHeadsWereSwitchedOff) {
  SentenceAttention sentence = test::labelled_sentence();
  const std::string all_on = attention_json(sentence, /*include_vectors=*/false);
  EXPECT_EQ(all_on.find("heads_off"), std::string::npos);

  sentence.heads_off = parse_head_mask("encoder.0.self_attn:1;decoder.1.cross_attn:0,1");
  const std::string off = attention_json(sentence, /*include_vectors=*/false);
  EXPECT_EQ(json::parse(off)["heads_off"],
            json::parse(R"({"decoder.1.cross_attn": [0, 1], "encoder.0.self_attn": [1]})"));
  // Keys are sorted: the field sits between "format" and "model".
  const std::string field =
      R"("heads_off":{"decoder.1.cross_attn":[0,1],"encoder.0.self_attn":[1]},)";
  const auto at = off.find(field);
  ASSERT_NE(at, std::string::npos) << off.substr(0, 300);
  EXPECT_EQ(std::string(off).erase(at, field.size()), all_on);
}

}  // namespace
}  // namespace qkv
