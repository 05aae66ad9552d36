// app/line_batches: stdin lines in batches of what is already waiting.
#include "app/line_batches.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace qkv {
namespace {

using Lines = std::vector<std::string>;

struct Pipe {
  int fds[2];
  Pipe() { EXPECT_EQ(::pipe(fds), 0); }
  ~Pipe() {
    ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  void write(const std::string& text) const {
    EXPECT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void close_writer() {
    ::close(fds[1]);
    fds[1] = -1;
  }
};

TEST(LineBatchReader, EverythingWaitingIsOneBatchAndTheLastLineNeedsNoNewline) {
  Pipe pipe;
  pipe.write("a\nb\r\n\nc");
  pipe.close_writer();
  LineBatchReader reader(pipe.fds[0]);
  EXPECT_EQ(reader.next(), (Lines{"a", "b", "", "c"}));
  EXPECT_TRUE(reader.next().empty());
}

TEST(LineBatchReader, ALineIsAnsweredWithoutWaitingForTheNext) {
  Pipe pipe;
  LineBatchReader reader(pipe.fds[0]);
  pipe.write("typed\npartial");
  EXPECT_EQ(reader.next(), (Lines{"typed"}));  // returns although the input goes on
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pipe.write(" line\n");
    pipe.close_writer();
  });
  EXPECT_EQ(reader.next(), (Lines{"partial line"}));
  later.join();
  EXPECT_TRUE(reader.next().empty());
}

TEST(LineBatchReader, BatchesHoldAtMostMaxLines) {
  Pipe pipe;
  pipe.write("1\n2\n3\n4\n5\n");
  pipe.close_writer();
  LineBatchReader reader(pipe.fds[0], 2);
  EXPECT_EQ(reader.next(), (Lines{"1", "2"}));
  EXPECT_EQ(reader.next(), (Lines{"3", "4"}));
  EXPECT_EQ(reader.next(), (Lines{"5"}));
  EXPECT_TRUE(reader.next().empty());
}

}  // namespace
}  // namespace qkv
