// Crash safety of the one atomic writer: the target holds its old or its new content, never a
// part (after a write error and after the writer is killed), the temporary file is removed on
// errors and named so the trainer's cleanup finds it after a kill, and errors name the path.
#include "data/io/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using ::testing::HasSubstr;

std::vector<std::string> file_names(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

std::string runtime_error_of(const fs::path& path, std::string_view bytes) {
  try {
    write_file_atomically(path, bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::runtime_error thrown";
  return {};
}

TEST(WriteFileAtomically, WritesAllBytesAndReplacesTheOldContent) {
  TempDir dir;
  const std::string binary("a\0b\r\n\xFF", 6);
  write_file_atomically(dir / "out.bin", binary);
  EXPECT_EQ(test::read_file(dir / "out.bin"), binary);
  write_file_atomically(dir / "out.bin", "new");
  EXPECT_EQ(test::read_file(dir / "out.bin"), "new");
  write_file_atomically(dir / "out.bin", "");
  EXPECT_EQ(test::read_file(dir / "out.bin"), "");
  EXPECT_EQ(file_names(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(WriteFileAtomically, FailedWriteKeepsTheOldContentAndRemovesTheTemporaryFile) {
  TempDir dir;
  write_file_atomically(dir / "keep.txt", "old");
  const std::string other(3 << 20, 'x');  // three write chunks
  for (const std::size_t fail_after : {std::size_t{0}, std::size_t{1} << 20, other.size() - 1}) {
    EXPECT_THROW(write_file_atomically_failing_after(dir / "keep.txt", other, fail_after),
                 std::runtime_error)
        << fail_after;
    EXPECT_EQ(test::read_file(dir / "keep.txt"), "old") << fail_after;
    EXPECT_EQ(file_names(dir.path()), std::vector<std::string>{"keep.txt"}) << fail_after;
  }
  // Failing after exactly all bytes is no failure.
  write_file_atomically_failing_after(dir / "keep.txt", other, other.size());
  EXPECT_EQ(test::read_file(dir / "keep.txt"), other);
}

TEST(WriteFileAtomically, ErrorsNameThePathAndTheOsError) {
  TempDir dir;
  const fs::path missing = dir / "no" / "such" / "folder" / "x.pt";
  EXPECT_EQ(runtime_error_of(missing, "x"),
            "cannot write " + missing.string() + ": No such file or directory");
  EXPECT_FALSE(fs::exists(dir / "no"));  // the folder is not created behind the caller's back

  test::write_file(dir / "plain_file", "x");
  EXPECT_THAT(
      runtime_error_of(dir / "plain_file" / "out", "x"),
      HasSubstr("cannot write " + (dir / "plain_file" / "out").string() + ": Not a directory"));

  fs::create_directories(dir / "a_folder");  // the target itself is a folder: rename fails
  EXPECT_THAT(runtime_error_of(dir / "a_folder", "x"),
              HasSubstr("cannot write " + (dir / "a_folder").string() + ": "));
  EXPECT_EQ(file_names(dir.path()).size(), 2U) << "a temporary file was left behind";
}

TEST(LinkFileAtomically, ReplacesThePathWithALinkToTheTarget) {
  TempDir dir;
  write_file_atomically(dir / "step-1.pt", "one");
  write_file_atomically(dir / "step-2.pt", "two");
  link_file_atomically(dir / "step-1.pt", dir / "best.pt");
  EXPECT_TRUE(fs::equivalent(dir / "best.pt", dir / "step-1.pt"));
  link_file_atomically(dir / "step-2.pt", dir / "best.pt");
  EXPECT_TRUE(fs::equivalent(dir / "best.pt", dir / "step-2.pt"));
  EXPECT_EQ(test::read_file(dir / "best.pt"), "two");
  EXPECT_EQ(file_names(dir.path()).size(), 3U) << "a temporary link was left behind";
  try {
    link_file_atomically(dir / "step-9.pt", dir / "best.pt");
    FAIL() << "linking a missing file must be an error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot write " + (dir / "best.pt").string() + ": No such file or directory");
  }
  EXPECT_EQ(test::read_file(dir / "best.pt"), "two");
}

// A writer killed at any moment leaves the old or the new content under the target name, and
// at most its temporary file ".<name>.tmp-<pid>" beside it.
TEST(WriteFileAtomically, KilledWriterLeavesTheOldOrTheNewContentNeverAPart) {
  TempDir dir;
  const fs::path target = dir / "last.pt";
  const std::string old_content(1 << 20, 'o');
  const std::string new_content(32 << 20, 'n');
  for (int attempt = 0; attempt < 12; ++attempt) {
    write_file_atomically(target, old_content);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      write_file_atomically(target, new_content);
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt * 4));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    const std::string content = test::read_file(target);
    EXPECT_TRUE(content == old_content || content == new_content)
        << "attempt " << attempt << ": " << content.size() << " bytes under the final name";
    const std::string temporary = ".last.pt.tmp-" + std::to_string(child);
    for (const std::string& name : file_names(dir.path())) {
      EXPECT_TRUE(name == "last.pt" || name == temporary) << name;
    }
    fs::remove(dir / temporary);
  }
}

}  // namespace
}  // namespace qkv
