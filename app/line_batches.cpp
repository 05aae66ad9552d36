// LineBatchReader (see line_batches.h).
#include "app/line_batches.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace qkv {

LineBatchReader::LineBatchReader(int fd, size_t max_lines) : fd_(fd), max_lines_(max_lines) {}

bool LineBatchReader::read_some() {
  char chunk[65536];
  while (true) {
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno != EINTR)
      throw std::runtime_error(std::string("cannot read stdin: ") + std::strerror(errno));
  }
}

bool LineBatchReader::more_waiting() const {
  pollfd fd{fd_, POLLIN, 0};
  return ::poll(&fd, 1, /*timeout=*/0) > 0 && (fd.revents & (POLLIN | POLLHUP)) != 0;
}

std::vector<std::string> LineBatchReader::next() {
  std::vector<std::string> lines;
  size_t start = 0;
  // Complete lines of the buffer into `lines`, up to the batch size.
  auto take_lines = [&] {
    for (size_t end;
         lines.size() < max_lines_ && (end = buffer_.find('\n', start)) != std::string::npos;
         start = end + 1) {
      std::string line = buffer_.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
    }
  };
  // 1. Wait for one line (or the end); 2. take whatever else is already waiting.
  while (!ended_ && buffer_.find('\n') == std::string::npos) ended_ = !read_some();
  take_lines();
  while (!ended_ && lines.size() < max_lines_ && more_waiting()) {
    ended_ = !read_some();
    take_lines();
  }
  buffer_.erase(0, start);
  if (ended_ && !buffer_.empty() && lines.size() < max_lines_) {
    if (buffer_.back() == '\r') buffer_.pop_back();
    lines.push_back(std::move(buffer_));
    buffer_.clear();
  }
  return lines;
}

}  // namespace qkv
