// heads.json and the table of `qkv heads`: every head, site, layer and pruning step with its
// scores, the method stated, and the table's signed importances.
#include "app/export/head_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/app/export/head_study_fixture.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;

TEST(HeadReport, JsonHasEveryUnitAndTheMethod) {
  const auto j = nlohmann::json::parse(
      heads_json(test::bleu_study(), {"runs/x", "runs/x/checkpoints/best.pt", 42, "valid", 1.5}));
  EXPECT_EQ(j["run"], "runs/x");
  EXPECT_EQ(j["step"], 42);
  EXPECT_EQ(j["metric"], "bleu");
  EXPECT_EQ(j["method"],
            "heads ranked by teacher-forced loss on all 818 sentences of the split; BLEU by "
            "greedy decoding of its first 200 sentences");
  EXPECT_EQ(j["full"]["metric"], 20.0);
  ASSERT_EQ(j["heads"].size(), 4u);
  EXPECT_EQ(j["heads"][2]["site"], "decoder.0.cross_attn");
  EXPECT_EQ(j["heads"][2]["head"], 0);
  EXPECT_EQ(j["heads"][2]["importance"], -2.0);
  EXPECT_EQ(j["heads"][2]["loss_importance"], 0.3);
  EXPECT_EQ(j["sites_off"][1]["name"], "decoder.0.cross_attn");
  EXPECT_EQ(j["layers_off"][1]["importance"], -15.0);
  ASSERT_EQ(j["pruning"].size(), 5u);
  EXPECT_TRUE(j["pruning"][0]["head"].is_null());
  EXPECT_EQ(j["pruning"][4]["head"], "decoder.0.cross_attn:0");
  EXPECT_EQ(j["pruning"][4]["metric"], 9.0);
  EXPECT_EQ(j["seconds"], 1.5);
}

TEST(HeadReport, TableShowsSignedImportancesAndThePruningSteps) {
  const std::string table = heads_table(test::bleu_study());
  EXPECT_THAT(table, HasSubstr("all heads on: BLEU 20.00, loss 3.5000"));
  EXPECT_THAT(table,
              HasSubstr("decoder.0.cross_attn      -2.00    +0.00     -10.00"));  // heads, site
  EXPECT_THAT(table, HasSubstr("encoder.0.self_attn     +0.0100  -0.0020    +0.1000"));  // loss
  EXPECT_THAT(table, HasSubstr("decoder.0                -15.00 BLEU"));
  EXPECT_THAT(table, HasSubstr("        4  decoder.0.cross_attn:0         9.00   4.5000"));
}

}  // namespace
}  // namespace qkv
