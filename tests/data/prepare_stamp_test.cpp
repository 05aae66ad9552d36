#include "data/prepare_stamp.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

TEST(PrepareStamp, WriteThenReadGivesItBack) {
  TempDir dir;
  PrepareStamp stamp;
  stamp.fingerprint = "ding-en-de en-de /usr/share/trans/de-en:25611714:123";
  stamp.train_pairs = 15179;
  stamp.valid_pairs = 818;
  stamp.test_pairs = 829;
  stamp.rule_counts = {{"dropped: slash alternatives", 2528}, {"kept", 16826}};
  write_prepare_stamp(dir / "prepared.stamp", stamp);
  const auto read = read_prepare_stamp(dir / "prepared.stamp");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->fingerprint, stamp.fingerprint);
  EXPECT_EQ(read->train_pairs, 15179);
  EXPECT_EQ(read->valid_pairs, 818);
  EXPECT_EQ(read->test_pairs, 829);
  EXPECT_TRUE(read->has_test);
  EXPECT_EQ(read->rule_counts, stamp.rule_counts);
}

TEST(PrepareStamp, AbsentTestSplitRoundTrips) {
  TempDir dir;
  PrepareStamp stamp;
  stamp.fingerprint = "files";
  stamp.has_test = false;
  write_prepare_stamp(dir / "s", stamp);
  const auto read = read_prepare_stamp(dir / "s");
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE(read->has_test);
  EXPECT_TRUE(read->rule_counts.empty());
}

TEST(PrepareStamp, MissingOtherVersionOrDamagedStampsAreIgnored) {
  TempDir dir;
  EXPECT_FALSE(read_prepare_stamp(dir / "none").has_value());
  test::write_file(dir / "old",
                   "qkv prepared corpus v0\nfingerprint x\nsplit train 1\n"
                   "split valid 1\nsplit test 1\n");
  EXPECT_FALSE(read_prepare_stamp(dir / "old").has_value());
  test::write_file(dir / "cut", "qkv prepared corpus v1\nfingerprint x\nsplit train 1\n");
  EXPECT_FALSE(read_prepare_stamp(dir / "cut").has_value());
  test::write_file(dir / "junk",
                   "qkv prepared corpus v1\nfingerprint x\nsplit train many\n"
                   "split valid 1\nsplit test 1\n");
  EXPECT_FALSE(read_prepare_stamp(dir / "junk").has_value());
}

TEST(InputFingerprint, ChangesWithFileContentsAndNamesMissingFiles) {
  TempDir dir;
  test::write_file(dir / "a.en", "one\n");
  const std::string before = input_fingerprint("files en-de", {dir / "a.en"});
  EXPECT_THAT(before, HasSubstr("files en-de " + (dir / "a.en").string() + ":4:"));
  EXPECT_EQ(before, input_fingerprint("files en-de", {dir / "a.en"}));
  test::write_file(dir / "a.en", "one\ntwo\n");
  EXPECT_NE(before, input_fingerprint("files en-de", {dir / "a.en"}));
  EXPECT_NE(before, input_fingerprint("files de-en", {dir / "a.en"}));
  EXPECT_THAT(input_fingerprint("x", {dir / "b.en"}), HasSubstr("b.en:missing"));
}

}  // namespace
}  // namespace qkv
