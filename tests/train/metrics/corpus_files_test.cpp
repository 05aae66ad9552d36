// Reading segment files as sacreBLEU's command line does, and the errors for missing files
// and misaligned files.
#include "train/metrics/corpus_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace qkv {
namespace {

namespace fs = std::filesystem;

class CorpusFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qkv_metrics_files_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& bytes) const {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  static std::string error_of(const fs::path& hyp, const fs::path& ref) {
    try {
      read_hyp_ref_segments(hyp, ref);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path dir_;
};

TEST_F(CorpusFilesTest, SplitsOnNewlinesAndStripsTrailingWhitespace) {
  // CRLF, trailing tab and no-break space are stripped; leading space is kept; a missing
  // final newline still ends a line; an empty line is a segment.
  const fs::path path = write("a.txt", "one\r\n two\t\u00a0\n\nlast");
  EXPECT_EQ(read_segments(path), (std::vector<std::string>{"one", " two", "", "last"}));
  EXPECT_TRUE(read_segments(write("empty.txt", "")).empty());
  EXPECT_EQ(read_segments(write("nl.txt", "\n")), (std::vector<std::string>{""}));
}

TEST_F(CorpusFilesTest, KeepsAByteOrderMarkAsPythonDoes) {
  // sacreBLEU opens files with Python's "utf-8" codec, which keeps U+FEFF in the first line.
  EXPECT_EQ(read_segments(write("bom.txt", "\xEF\xBB\xBFone\ntwo\n")),
            (std::vector<std::string>{"\xEF\xBB\xBFone", "two"}));
}

TEST_F(CorpusFilesTest, AFolderIsNotAFileToScore) {
  fs::create_directories(dir_ / "folder.txt");
  try {
    read_segments(dir_ / "folder.txt");
    FAIL() << "a folder must be rejected";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("folder.txt: no such file"), std::string::npos)
        << e.what();
  }
}

TEST_F(CorpusFilesTest, MissingFileIsNamed) {
  const std::string message = error_of(dir_ / "nope.txt", write("r.txt", "x\n"));
  EXPECT_NE(message.find("nope.txt"), std::string::npos) << message;
  EXPECT_NE(message.find("no such file"), std::string::npos) << message;
}

TEST_F(CorpusFilesTest, LineCountMismatchNamesBothFilesAndCounts) {
  const fs::path hyp = write("hyp.txt", "a\nb\nc\n");
  const fs::path ref = write("ref.txt", "a\nb\n");
  const std::string message = error_of(hyp, ref);
  EXPECT_EQ(message,
            "hypotheses " + hyp.string() + " have 3 lines but references " + ref.string() +
                " have 2; they must be line-aligned");
}

TEST_F(CorpusFilesTest, AlignedSegmentsUseTheGivenLabels) {
  const fs::path src = write("src.txt", "a\n");
  const fs::path ref = write("ref.txt", "a\nb\n");
  try {
    read_aligned_segments(src, "sources", ref, "references");
    FAIL() << "different line counts must be rejected";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "sources " + src.string() + " have 1 lines but references " + ref.string() +
                  " have 2; they must be line-aligned");
  }
  const AlignedSegments both = read_aligned_segments(ref, "a", ref, "b");
  EXPECT_EQ(both.first, both.second);
}

TEST_F(CorpusFilesTest, InvalidUtf8NamesFileAndLine) {
  const fs::path path = write("bad.txt", "ok\nbad \xFF\n");
  try {
    read_segments(path);
    FAIL() << "invalid UTF-8 must be rejected";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:2: invalid UTF-8"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace qkv
