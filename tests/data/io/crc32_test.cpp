// The one CRC-32: known check values, agreement with Python's zlib.crc32 (which the hash split
// relies on), streaming in pieces, and the hex form stored in checkpoints.
#include "data/io/crc32.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

TEST(Crc32Of, KnownCheckValues) {
  EXPECT_EQ(crc32_of("123456789"), 0xCBF43926U);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(crc32_of("The quick brown fox jumps over the lazy dog"), 0x414FA339U);
  EXPECT_EQ(crc32_of(std::string_view("\0", 1)), 0xD202EF8DU);
}

// Expected values were computed with Python 3.11: zlib.crc32(s.encode("utf-8")).
TEST(Crc32Of, MatchesPythonZlib) {
  EXPECT_EQ(crc32_of(""), 0U);
  EXPECT_EQ(crc32_of("Hallo Welt"), 1344803957U);
  EXPECT_EQ(crc32_of("Größe"), 2490273813U);  // UTF-8 bytes, not code points
  EXPECT_EQ(crc32_of("ä"), 1890972035U);
  EXPECT_EQ(crc32_of(" The night is long. "), 3433414039U);
}

TEST(Crc32, PiecesGiveTheCrcOfTheWhole) {
  Crc32 crc;
  EXPECT_EQ(crc.value(), 0U);
  crc.add("1234");
  crc.add("");
  crc.add("56789");
  EXPECT_EQ(crc.value(), 0xCBF43926U);
}

TEST(Crc32Hex, EightLowerCaseDigitsWithLeadingZeros) {
  EXPECT_EQ(crc32_hex(0xCBF43926U), "cbf43926");
  EXPECT_EQ(crc32_hex(0x0000ABCDU), "0000abcd");
  EXPECT_EQ(crc32_hex(0U), "00000000");
}

TEST(FileCrc32, HashesTheFileBytesAcrossReadChunks) {
  TempDir dir;
  test::write_file(dir / "check.txt", "123456789");
  EXPECT_EQ(file_crc32(dir / "check.txt"), "cbf43926");
  const std::string big(200000, 'q');  // several 64 KiB read chunks
  test::write_file(dir / "big.bin", big);
  EXPECT_EQ(file_crc32(dir / "big.bin"), crc32_hex(crc32_of(big)));
  test::write_file(dir / "empty", "");
  EXPECT_EQ(file_crc32(dir / "empty"), "00000000");
}

TEST(FileCrc32, MissingFileIsNamed) {
  TempDir dir;
  try {
    file_crc32(dir / "spm.model");
    FAIL() << "a missing file must be an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read " + (dir / "spm.model").string()));
  }
}

}  // namespace
}  // namespace qkv
