#include "data/io/text_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Runs `fn` and returns the message of the std::runtime_error it must throw.
template <class Fn>
std::string runtime_error_of(Fn fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::runtime_error thrown";
  return {};
}

TEST(ReadTextLines, ReadsPlainFilesWithAnyLineEnd) {
  TempDir dir;
  test::write_file(dir / "a.txt", "\xEF\xBB\xBFone\r\ntwo\n\nlast without newline");
  EXPECT_THAT(read_text_lines(dir / "a.txt"),
              ElementsAre("one", "two", "", "last without newline"));
}

TEST(ReadTextLines, OnlyTheCarriageReturnBeforeANewlineIsDropped) {
  TempDir dir;
  test::write_file(dir / "cr.txt", "a\rb\r\n\n\r\nlast\r");
  EXPECT_THAT(read_text_lines(dir / "cr.txt"), ElementsAre("a\rb", "", "", "last"));
  test::write_file(dir / "newline.txt", "\n");
  EXPECT_THAT(read_text_lines(dir / "newline.txt"), ElementsAre(""));
}

TEST(ReadTextLines, CanKeepTheByteOrderMarkAndSkipTheUtf8Check) {
  TempDir dir;
  test::write_file(dir / "bom.txt", "\xEF\xBB\xBFone\nCaf\xE9\n");
  LineReading raw;
  raw.strip_byte_order_mark = false;
  raw.require_utf8 = false;
  EXPECT_THAT(read_text_lines(dir / "bom.txt", raw), ElementsAre("\xEF\xBB\xBFone", "Caf\xE9"));
  // Only the start of the file holds a byte-order mark.
  test::write_file(dir / "second.txt", "one\n\xEF\xBB\xBFtwo\n");
  EXPECT_THAT(read_text_lines(dir / "second.txt"), ElementsAre("one", "\xEF\xBB\xBFtwo"));
}

TEST(ReadTextLines, AFolderIsNotAFile) {
  TempDir dir;
  std::filesystem::create_directories(dir / "folder.en");
  EXPECT_THAT(runtime_error_of([&] { read_text_lines(dir / "folder.en"); }),
              HasSubstr((dir / "folder.en").string() + ": no such file"));
}

TEST(ReadTextLines, ReadsGzipFilesLikePlainOnes) {
  TempDir dir;
  std::string long_line(200000, 'x');  // longer than one read chunk
  test::write_gzip(dir / "a.gz", "Grüße\n" + long_line + "\nend\n");
  EXPECT_THAT(read_text_lines(dir / "a.gz"), ElementsAre("Grüße", long_line, "end"));
}

TEST(ReadTextLines, EmptyFileHasNoLines) {
  TempDir dir;
  test::write_file(dir / "empty.txt", "");
  EXPECT_TRUE(read_text_lines(dir / "empty.txt").empty());
}

TEST(ReadTextLines, MissingFileIsNamed) {
  TempDir dir;
  const auto path = dir / "nowhere.en";
  EXPECT_THAT(runtime_error_of([&] { read_text_lines(path); }),
              HasSubstr(path.string() + ": no such file"));
}

TEST(ReadTextLines, InvalidUtf8NamesFileAndLine) {
  TempDir dir;
  test::write_file(dir / "latin1.de", "gut\nauch gut\nCaf\xE9\n");
  const std::string message = runtime_error_of([&] { read_text_lines(dir / "latin1.de"); });
  EXPECT_THAT(message, HasSubstr((dir / "latin1.de").string() + ":3: invalid UTF-8"));
}

TEST(ReadTextLines, BrokenGzipIsAnError) {
  TempDir dir;
  test::write_gzip(dir / "whole.gz", std::string(100000, 'a') + "\n");
  const std::string bytes = test::read_file(dir / "whole.gz");
  test::write_file(dir / "cut.gz", bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(runtime_error_of([&] { read_text_lines(dir / "cut.gz"); }),
              HasSubstr((dir / "cut.gz").string()));
}

TEST(WriteLinesAtomically, WritesLinesAndLeavesNoTemporaryFile) {
  TempDir dir;
  const auto path = dir / "sub" / "folder" / "out.txt";
  write_lines_atomically(path, {"a", "ü", ""});
  EXPECT_EQ(test::read_file(path), "a\nü\n\n");
  write_lines_atomically(path, {"replaced"});
  EXPECT_EQ(test::read_file(path), "replaced\n");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(WriteLinesAtomically, UnwritableFolderIsAnError) {
  TempDir dir;
  test::write_file(dir / "plain_file", "x");
  EXPECT_THAT(runtime_error_of([&] { write_lines_atomically(dir / "plain_file" / "out", {"x"}); }),
              HasSubstr("cannot write " + (dir / "plain_file" / "out").string()));
}

}  // namespace
}  // namespace qkv
