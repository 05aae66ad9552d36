// serve/requests: request bodies parsed over the run's decode config; every bad field is an
// ApiError(400) that names it; the limits are those of the CLI (inference/request_limits.h).
#include "serve/requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "serve/api_error.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;

ExperimentConfig run_config() {
  ExperimentConfig config;
  config.decode.beam_size = 4;
  config.model.max_positions = 100;
  return config;
}

std::string error_of(const std::string& body, bool attention = false) {
  try {
    if (attention) {
      parse_attention_request(body, run_config());
    } else {
      parse_translate_request(body, run_config());
    }
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.what();
  }
  return "no error";
}

TEST(Requests, TranslateFieldsOverTheRunsDecodeConfig) {
  const TranslateRequest one = parse_translate_request(R"({"text": "Hi."})", run_config());
  EXPECT_TRUE(one.single);
  EXPECT_EQ(one.texts, std::vector<std::string>{"Hi."});
  EXPECT_EQ(one.options.decode.beam_size, 4);  // the run's
  const TranslateRequest many = parse_translate_request(
      R"({"texts": ["a", "b"], "beam": 3, "nbest": 2, "length_penalty": 0.5,
          "length_penalty_type": "average", "max_len": 20})",
      run_config());
  EXPECT_FALSE(many.single);
  EXPECT_EQ(many.texts.size(), 2u);
  EXPECT_EQ(many.options.decode.beam_size, 3);
  EXPECT_EQ(many.options.n_best, 2);
  EXPECT_DOUBLE_EQ(many.options.decode.length_penalty_alpha, 0.5);
  EXPECT_EQ(many.options.decode.length_penalty_type, LengthPenaltyType::kAverage);
  EXPECT_EQ(many.options.max_output_tokens, 20);
}

TEST(Requests, EveryBadFieldIsNamed) {
  EXPECT_THAT(error_of("{"), HasSubstr("body: not valid JSON"));
  EXPECT_THAT(error_of("\"a\""), HasSubstr("body: must be a JSON object, got string"));
  EXPECT_THAT(error_of(R"({"text": "a", "beam_size": 2})"), HasSubstr("unknown field 'beam_size'"));
  EXPECT_THAT(error_of(R"({})"), HasSubstr("text: give either text or texts"));
  EXPECT_THAT(error_of(R"({"text": "a", "texts": ["b"]})"), HasSubstr("either text or texts"));
  EXPECT_THAT(error_of(R"({"texts": []})"), HasSubstr("texts: must be a non-empty array"));
  EXPECT_THAT(error_of(R"({"texts": ["a", 2]})"), HasSubstr("texts[1]: must be a string"));
  EXPECT_THAT(error_of(R"({"text": "a", "beam": 2.5})"), HasSubstr("beam: must be an integer"));
  EXPECT_THAT(error_of(R"({"text": "a", "beam": 65})"),
              HasSubstr("beam: must be at most 64, got 65"));
  EXPECT_THAT(error_of(R"({"text": "a", "nbest": 5})"),
              HasSubstr("nbest: must be between 1 and the beam size 4"));
  EXPECT_THAT(error_of(R"({"text": "a", "length_penalty": -1})"), HasSubstr("length_penalty:"));
  EXPECT_THAT(error_of(R"({"text": "a", "length_penalty_type": "x"})"), HasSubstr("gnmt, average"));
  EXPECT_THAT(error_of(R"({"text": "a", "max_len": 100})"),
              HasSubstr("max_len: must be at most 99"));
  EXPECT_THAT(error_of("{\"text\": \"" + std::string(20000, 'a') + "\"}"),
              HasSubstr("text: longer than 16384 bytes"));
}

TEST(Requests, AttentionFields) {
  const AttentionRequest request = parse_attention_request(
      R"({"text": "a", "target": "b", "vectors": true, "format": "html", "beam": 1})",
      run_config());
  EXPECT_EQ(request.text, "a");
  EXPECT_EQ(request.target, "b");
  EXPECT_TRUE(request.vectors);
  EXPECT_TRUE(request.html);
  EXPECT_EQ(request.options.decode.beam_size, 1);
  EXPECT_THAT(error_of(R"({"target": "b"})", true), HasSubstr("text: required"));
  EXPECT_THAT(error_of(R"({"text": "a", "vectors": 1})", true),
              HasSubstr("vectors: must be true or false"));
  EXPECT_THAT(error_of(R"({"text": "a", "nbest": 2})", true), HasSubstr("unknown field 'nbest'"));
}

TEST(Requests, HeadsOffIsAHeadMaskSpecCheckedAgainstTheModel) {
  // The run's model has 3 encoder and 3 decoder layers of 4 heads (ModelConfig's defaults).
  const TranslateRequest translate = parse_translate_request(
      R"({"text": "a", "heads_off": "decoder.2.cross_attn:1,3;encoder.0.self_attn:0"})",
      run_config());
  ASSERT_TRUE(translate.heads_off.has_value());
  EXPECT_EQ(translate.heads_off->heads_off.at("decoder.2.cross_attn"),
            (std::vector<int64_t>{1, 3}));
  EXPECT_FALSE(parse_translate_request(R"({"text": "a"})", run_config()).heads_off.has_value());
  const AttentionRequest attention = parse_attention_request(
      R"({"text": "a", "heads_off": "decoder.0.self_attn:2"})", run_config());
  ASSERT_TRUE(attention.heads_off.has_value());
  EXPECT_EQ(attention.heads_off->heads_off.size(), 1u);
  EXPECT_THAT(error_of(R"({"text": "a", "heads_off": "decoder.3.cross_attn:0"})"),
              HasSubstr("heads_off: unknown attention site 'decoder.3.cross_attn'"));
  EXPECT_THAT(error_of(R"({"text": "a", "heads_off": "decoder.0.cross_attn:4"})", true),
              HasSubstr("heads_off: decoder.0.cross_attn: head 4 is out of range"));
  EXPECT_THAT(error_of(R"({"text": "a", "heads_off": ""})"), HasSubstr("heads_off: empty"));
  EXPECT_THAT(error_of(R"({"text": "a", "heads_off": 3})"),
              HasSubstr("heads_off: must be a string"));
}

}  // namespace
}  // namespace qkv
