// Tests of model/embedding: the sinusoidal formula, learned positions, token scaling.
#include "model/embedding.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace qkv {
namespace {

TEST(Embedding, SinusoidalTableFollowsTheFormula) {
  const int64_t positions = 50;
  const int64_t d = 16;
  auto table = sinusoidal_positions(positions, d);
  ASSERT_EQ(table.sizes(), (std::vector<int64_t>{positions, d}));
  auto values = table.accessor<float, 2>();
  for (int64_t pos = 0; pos < positions; ++pos) {
    for (int64_t i = 0; i < d / 2; ++i) {
      const double angle = static_cast<double>(pos) / std::pow(10000.0, 2.0 * i / d);
      EXPECT_NEAR(values[pos][2 * i], std::sin(angle), 1e-6) << pos << "," << i;
      EXPECT_NEAR(values[pos][2 * i + 1], std::cos(angle), 1e-6) << pos << "," << i;
    }
  }
  EXPECT_THROW(sinusoidal_positions(10, 15), std::invalid_argument);
}

TEST(Embedding, SinusoidalPositionsAreABufferAndSliceByStart) {
  PositionalEncoding positions(PositionalEncodingOptions{20, 8, /*learned=*/false});
  EXPECT_TRUE(positions->parameters().empty());
  ASSERT_EQ(positions->named_buffers().size(), 1u);
  EXPECT_TRUE(torch::equal(positions(5, 3), sinusoidal_positions(20, 8).narrow(0, 5, 3)));
  EXPECT_THROW(positions(18, 3), c10::Error);
}

TEST(Embedding, LearnedPositionsAreAParameterThatTrains) {
  PositionalEncoding positions(PositionalEncodingOptions{20, 8, /*learned=*/true});
  auto named = positions->named_parameters();
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named.begin()->key(), "weight");
  positions(2, 4).sum().backward();
  auto grad = named["weight"].grad();
  EXPECT_EQ(grad.narrow(0, 2, 4).abs().sum().item<double>(), 4 * 8);
  EXPECT_EQ(grad.narrow(0, 6, 14).abs().sum().item<double>(), 0.0);
}

TEST(Embedding, TokensAreScaledBySqrtDModelAndPositionsAdded) {
  auto table = torch::randn({10, 9});
  auto tokens = torch::tensor({{1, 4, 4}, {0, 9, 2}}, torch::kLong);
  auto positions = torch::randn({3, 9});
  auto embedded = embed_tokens(tokens, table, positions);  // [2, 3, 9]
  auto expected = table.index_select(0, tokens.flatten()).view({2, 3, 9}) * 3.0 + positions;
  EXPECT_TRUE(torch::allclose(embedded, expected, 1e-6, 1e-6));
}

}  // namespace
}  // namespace qkv
