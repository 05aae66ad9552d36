// Tests of model/head_mask: the --heads-off SPEC parser and the check against a model's shape.
#include "model/head_mask.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace qkv {
namespace {

using ::testing::HasSubstr;

// The message of the std::invalid_argument that `call` throws ("" if none).
template <class Call>
std::string error_of(Call&& call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(ParseHeadMask, ReadsSitesAndHeadsSortedAndMerged) {
  const HeadMask mask =
      parse_head_mask(" decoder.2.cross_attn:3,1 ; encoder.0.self_attn:0;decoder.2.cross_attn:1,2");
  ASSERT_EQ(mask.heads_off.size(), 2U);
  EXPECT_EQ(mask.heads_off.at("decoder.2.cross_attn"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(mask.heads_off.at("encoder.0.self_attn"), (std::vector<int64_t>{0}));
  EXPECT_FALSE(mask.empty());
  EXPECT_TRUE(HeadMask{}.empty());
}

TEST(ParseHeadMask, RejectsBadSyntaxNamingThePart) {
  EXPECT_THAT(error_of([] { parse_head_mask(""); }), HasSubstr("empty head mask"));
  EXPECT_THAT(error_of([] { parse_head_mask("  "); }), HasSubstr("empty head mask"));
  EXPECT_THAT(error_of([] { parse_head_mask("decoder.0.cross_attn"); }),
              HasSubstr("'decoder.0.cross_attn' has no ':HEADS'"));
  EXPECT_THAT(error_of([] { parse_head_mask("decoder.0.cross_attn:1;;encoder.0.self_attn:0"); }),
              HasSubstr("empty entry"));
  EXPECT_THAT(error_of([] { parse_head_mask("decoder.0.cross_attn:1,x"); }),
              HasSubstr("decoder.0.cross_attn: head 'x' is not a head number"));
  EXPECT_THAT(error_of([] { parse_head_mask("decoder.0.cross_attn:-1"); }), HasSubstr("head '-1'"));
  EXPECT_THAT(error_of([] { parse_head_mask("decoder.0.cross_attn:"); }), HasSubstr("head ''"));
  EXPECT_THAT(error_of([] { parse_head_mask("decoder.0.cross_attn:1,"); }), HasSubstr("head ''"));
}

TEST(ParseHeadMask, RejectsUnknownSiteNames) {
  for (const std::string site : {"encoder.0.cross_attn",
                                 "decoder.x.self_attn",
                                 "decoder.0",
                                 "middle.0.self_attn",
                                 "decoder.0.self_attn.extra",
                                 "decoder.-1.self_attn"}) {
    EXPECT_THAT(error_of([&] { parse_head_mask(site + ":0"); }),
                HasSubstr("unknown attention site '" + site + "'"))
        << site;
  }
}

TEST(CheckHeadMask, RejectsLayersAndHeadsTheModelLacks) {
  EXPECT_EQ(error_of([] {
              check_head_mask(parse_head_mask("encoder.2.self_attn:0;decoder.1.cross_attn:3"),
                              /*encoder_layers=*/3,
                              /*decoder_layers=*/2,
                              /*num_heads=*/4);
            }),
            "");
  EXPECT_THAT(
      error_of([] { check_head_mask(parse_head_mask("decoder.2.cross_attn:0"), 3, 2, 4); }),
      HasSubstr("unknown attention site 'decoder.2.cross_attn': the decoder has layers 0..1"));
  EXPECT_THAT(error_of([] { check_head_mask(parse_head_mask("encoder.0.self_attn:4"), 3, 2, 4); }),
              HasSubstr("encoder.0.self_attn: head 4 is out of range: this model has heads 0..3"));
}

}  // namespace
}  // namespace qkv
