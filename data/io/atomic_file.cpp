// The atomic writer (see atomic_file.h) in POSIX calls, because the standard library cannot
// fsync. Steps: open a temporary file beside the target, write everything, fsync, rename over
// the target, fsync the folder so the rename itself survives a power cut. The atomic link
// shares the last two steps.
#include "data/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace qkv {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kWriteChunk = std::size_t{1} << 20;

std::string os_error() { return std::strerror(errno); }

[[noreturn]] void throw_cannot_write(const fs::path& path, const std::string& why) {
  throw std::runtime_error("cannot write " + path.string() + ": " + why);
}

fs::path folder_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// ".<name>.tmp-<pid>": hidden, beside the target (so the rename stays on one file system), and
// unique per process. The trainer removes such leftovers of killed runs by this name.
fs::path temporary_beside(const fs::path& path) {
  return folder_of(path) / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
}

// Writes all of `bytes` to `fd`; an empty string on success, else why not.
std::string write_all(int fd, std::string_view bytes, std::size_t fail_after_bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const std::size_t chunk = std::min(bytes.size() - written, kWriteChunk);
    if (written + chunk > fail_after_bytes) {
      return "simulated write failure (no space left on device)";
    }
    const ssize_t n = ::write(fd, bytes.data() + written, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error();
    }
    written += static_cast<std::size_t>(n);
  }
  return ::fsync(fd) == 0 ? std::string() : os_error();
}

// Best effort: a folder that cannot be opened or synced still holds the renamed file.
void sync_folder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Renames the finished temporary file over `path` and syncs the folder; on failure removes the
// temporary file and throws.
void move_into_place(const fs::path& temporary, const fs::path& path) {
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string error = os_error();
    ::unlink(temporary.c_str());
    throw_cannot_write(path, error);
  }
  sync_folder(folder_of(path));
}

void write_through_temporary(const fs::path& path,
                             std::string_view bytes,
                             std::size_t fail_after_bytes) {
  const fs::path temporary = temporary_beside(path);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_cannot_write(path, os_error());
  std::string error = write_all(fd, bytes, fail_after_bytes);
  if (::close(fd) != 0 && error.empty()) error = os_error();
  if (!error.empty()) {
    ::unlink(temporary.c_str());
    throw_cannot_write(path, error);
  }
  move_into_place(temporary, path);
}

}  // namespace

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  write_through_temporary(path, bytes, std::numeric_limits<std::size_t>::max());
}

void link_file_atomically(const fs::path& target, const fs::path& path) {
  const fs::path temporary = temporary_beside(path);
  ::unlink(temporary.c_str());  // a leftover of a killed process that had the same id
  if (::link(target.c_str(), temporary.c_str()) != 0) throw_cannot_write(path, os_error());
  move_into_place(temporary, path);
}

void write_file_atomically_failing_after(const fs::path& path,
                                         std::string_view bytes,
                                         std::size_t fail_after_bytes) {
  write_through_temporary(path, bytes, fail_after_bytes);
}

}  // namespace qkv
