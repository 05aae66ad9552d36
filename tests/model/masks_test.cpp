// Tests of model/masks: shapes, polarity (true = may attend) and the causal structure.
#include "model/masks.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace qkv {
namespace {

TEST(Masks, PaddingMaskKeepsRealTokens) {
  auto tokens = torch::tensor({{5, 6, 0, 0}, {7, 8, 9, 3}}, torch::kLong);
  auto keep = make_padding_mask(tokens, /*pad_id=*/0);
  EXPECT_EQ(keep.sizes(), (std::vector<int64_t>{2, 1, 1, 4}));
  EXPECT_EQ(keep.scalar_type(), torch::kBool);
  auto expected = torch::tensor({{true, true, false, false}, {true, true, true, true}});
  EXPECT_TRUE(torch::equal(keep.view({2, 4}), expected));
}

TEST(Masks, PaddingMaskUsesTheGivenPadId) {
  auto tokens = torch::tensor({{5, 1, 1}}, torch::kLong);
  EXPECT_TRUE(torch::equal(make_padding_mask(tokens, /*pad_id=*/1).view({3}),
                           torch::tensor({true, false, false})));
}

TEST(Masks, PaddingMaskRejectsNon2DTokens) {
  EXPECT_THROW(make_padding_mask(torch::zeros({3}, torch::kLong), 0), c10::Error);
}

TEST(Masks, CausalMaskIsLowerTriangularWithDiagonal) {
  auto keep = make_causal_mask(4);
  EXPECT_EQ(keep.sizes(), (std::vector<int64_t>{1, 1, 4, 4}));
  auto expected = torch::tensor({{true, false, false, false},
                                 {true, true, false, false},
                                 {true, true, true, false},
                                 {true, true, true, true}});
  EXPECT_TRUE(torch::equal(keep.view({4, 4}), expected));
  EXPECT_THROW(make_causal_mask(0), c10::Error);
}

TEST(Masks, TargetMaskCombinesPaddingAndCausality) {
  auto tokens = torch::tensor({{2, 5, 0}}, torch::kLong);
  auto keep = make_target_mask(tokens, /*pad_id=*/0);
  EXPECT_EQ(keep.sizes(), (std::vector<int64_t>{1, 1, 3, 3}));
  auto expected = torch::tensor(
      {{true, false, false}, {true, true, false}, {true, true, false}});  // pad key masked
  EXPECT_TRUE(torch::equal(keep.view({3, 3}), expected));
}

}  // namespace
}  // namespace qkv
