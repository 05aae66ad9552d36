// The data.pkl check of train/checkpoint/pickle.h: what torch.save writes passes; every
// opcode sequence that could make LibTorch 1.13's unpickler misbehave is named, with the byte
// position of the opcode; storages must fit their records.
#include "train/checkpoint/pickle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/train/checkpoint/pickle_bytes.h"

namespace qkv {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;
using test::persistent_id;
using test::pickle;

TEST(CheckpointPickle, WellFormedPicklesPass) {
  EXPECT_EQ(check_checkpoint_pickle(pickle("N."), {}), "");
  EXPECT_EQ(check_checkpoint_pickle(pickle("}q\x00(K\x01K\x02u."s), {}), "");  // {1: 2}
  // A storage of 16 floats in a 64-byte record, and an empty one with no record at all.
  EXPECT_EQ(
      check_checkpoint_pickle(pickle(persistent_id("FloatStorage", "0", 16) + "."), {{"0", 64}}),
      "");
  EXPECT_EQ(check_checkpoint_pickle(pickle(persistent_id("FloatStorage", "7", 0) + "."), {}), "");
}

TEST(CheckpointPickle, UnsafeOpcodesAreNamed) {
  const std::map<std::string, uint64_t> none;
  EXPECT_THAT(check_checkpoint_pickle(pickle("R."), none), HasSubstr("stack underflow"));
  EXPECT_THAT(check_checkpoint_pickle(pickle(std::string("X\xff\xff\xff\xff"
                                                         "abc.",
                                                         9)),
                                      none),
              HasSubstr("a length points past the end"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("K\x01r\xff\xff\xff\x7f."), none),
              HasSubstr("memo index out of order"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("K\x01h\x05."), none),
              HasSubstr("memo index out of range"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("t."), none), HasSubstr("no MARK"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("(K\x01"
                                             "e."),
                                      none),
              HasSubstr("no container below the MARK"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("(K\x01"
                                             "0."),
                                      none),
              HasSubstr("stack underflow"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("K\x01"), none), HasSubstr("no STOP opcode"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("\xff."), none), HasSubstr("unsupported opcode"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("J\x01"), none), HasSubstr("truncated"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("ctorch\nFloat"), none),
              HasSubstr("unterminated text argument"));
}

TEST(CheckpointPickle, StorageSizesMustFitTheirRecords) {
  const std::map<std::string, uint64_t> records = {{"0", 64}};
  EXPECT_THAT(
      check_checkpoint_pickle(pickle(persistent_id("FloatStorage", "0", 17) + "."), records),
      HasSubstr("storage 0 claims 17 elements but its record holds 64 bytes"));
  EXPECT_THAT(
      check_checkpoint_pickle(pickle(persistent_id("DoubleStorage", "0", 9) + "."), records),
      HasSubstr("claims 9 elements"));
  EXPECT_THAT(check_checkpoint_pickle(pickle(persistent_id("FloatStorage", "1", 1) + "."), records),
              HasSubstr("storage 1 has no record"));
  EXPECT_THAT(
      check_checkpoint_pickle(pickle(persistent_id("NoSuchStorage", "0", 1) + "."), records),
      HasSubstr("unknown storage type torch.NoSuchStorage"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("K\x01Q."), records),
              HasSubstr("a persistent id is not a 5-tuple"));
  // The element count as a negative LONG1.
  std::string negative = persistent_id("FloatStorage", "0", 1);
  negative.replace(negative.size() - 4, 2, std::string("\x8a\x01\xff", 3));
  EXPECT_THAT(check_checkpoint_pickle(pickle(negative + "."), records), HasSubstr("negative size"));
  // Values that come back from the memo are still known: "storage" is put, popped, and got.
  std::string memoized = persistent_id("FloatStorage", "0", 17);
  const std::string storage_text = memoized.substr(1, 12);  // X <len> "storage"
  memoized.replace(1, 12, "h\x00"s);
  EXPECT_THAT(
      check_checkpoint_pickle(pickle(storage_text + "q\x00"s + "0" + memoized + "."), records),
      HasSubstr("claims 17 elements"));
}

TEST(CheckpointPickle, ProblemsNameTheOpcodePosition) {
  // Byte 0-1 is PROTO 2; K\x01 at 2-3; R (REDUCE, needs two items) at byte 4.
  EXPECT_EQ(check_checkpoint_pickle(pickle("K\x01R."), {}), "stack underflow (opcode at byte 4)");
  EXPECT_EQ(check_checkpoint_pickle(pickle(""), {}), "no STOP opcode");
}

TEST(CheckpointPickle, NothingAfterStopIsRead) {
  EXPECT_EQ(check_checkpoint_pickle(pickle("N.\xff\xff garbage"), {}), "");
}

TEST(CheckpointPickle, MarksNestAndCollectOnlyAboveTheirMark) {
  // [[1], 2]: an inner list collected above its own MARK, then APPENDS onto the outer list.
  EXPECT_EQ(check_checkpoint_pickle(pickle("](](K\x01"
                                           "eK\x02"
                                           "e."),
                                    {}),
            "");
  // POP_MARK drops what lies above the mark; what was below stays usable.
  EXPECT_EQ(check_checkpoint_pickle(pickle("N(K\x01K\x02"
                                           "1."),
                                    {}),
            "");
  // Items below the innermost mark cannot be popped by a plain opcode.
  EXPECT_THAT(check_checkpoint_pickle(pickle("N(0."), {}), HasSubstr("stack underflow"));
}

TEST(CheckpointPickle, MemoizeGivesTheNextIdInOrder) {
  // MEMOIZE stores as id 0, BINGET 0 reads it back; BINGET 1 was never stored.
  EXPECT_EQ(check_checkpoint_pickle(pickle("N\x94h\x00"
                                           "0."s),
                                    {}),
            "");
  EXPECT_THAT(check_checkpoint_pickle(pickle("N\x94h\x01."), {}),
              HasSubstr("memo index out of range"));
}

}  // namespace
}  // namespace qkv
