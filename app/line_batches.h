// Lines of a stream in batches of what is already there: the first read waits for a line, then
// every complete line already waiting is taken without waiting more. `qkv translate` reading
// stdin translates each batch at once: a pipe or a redirected file arrives in large batches
// (as fast as --input), while a person typing gets each line answered at once.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace qkv {

class LineBatchReader {
 public:
  /// Reads file descriptor `fd` (not owned), at most `max_lines` lines per batch.
  explicit LineBatchReader(int fd, size_t max_lines = 4096);

  /// The next lines (without "\n" or "\r\n"; a last line without "\n" counts), at least one;
  /// empty at the end of the input. Throws std::runtime_error when reading fails.
  std::vector<std::string> next();

 private:
  bool read_some();           // one read(); false at the end of the input
  bool more_waiting() const;  // poll() with no timeout

  int fd_;
  size_t max_lines_;
  std::string buffer_;
  bool ended_ = false;
};

}  // namespace qkv
