// Reference regrouping shared by BLEU and chrF: sacreBLEU's rules for empty references and
// the "nrefs" signature field.
#include "train/metrics/references.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace qkv {
namespace {

TEST(CollectReferences, RegroupsStreamsBySegment) {
  const std::vector<std::vector<std::string>> streams = {{"a1", "b1"}, {"a2", "b2"}};
  const SegmentReferences refs = collect_references("BLEU", 2, streams);
  ASSERT_EQ(refs.per_segment.size(), 2u);
  EXPECT_EQ(refs.per_segment[1], (std::vector<std::string_view>{"b1", "b2"}));
  EXPECT_EQ(refs.nrefs, "2");
}

TEST(CollectReferences, DropsEmptyReferencesAndReportsVariableCounts) {
  const std::vector<std::vector<std::string>> streams = {{"a1", "b1"}, {"", "b2"}};
  const SegmentReferences refs = collect_references("BLEU", 2, streams);
  EXPECT_EQ(refs.per_segment[0], (std::vector<std::string_view>{"a1"}));
  EXPECT_EQ(refs.nrefs, "var");
}

TEST(CollectReferences, ErrorsNameTheProblem) {
  const auto message_of = [](const std::vector<std::vector<std::string>>& streams,
                             std::size_t hyps) {
    try {
      collect_references("chrF", hyps, streams);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message_of({{"a"}}, 0), "chrF: no hypotheses to score");
  EXPECT_EQ(message_of({}, 1), "chrF: no references given");
  EXPECT_EQ(message_of({{"a", "b"}}, 3),
            "chrF: 3 hypotheses but reference stream 1 has 2 lines; they must have one line per "
            "hypothesis");
  EXPECT_NE(message_of({{"a", ""}, {"b", ""}}, 2).find("reference of line 2 is empty"),
            std::string::npos);
}

}  // namespace
}  // namespace qkv
