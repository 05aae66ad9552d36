// Text file I/O for the corpus readers: gzread handles plain and gzip files alike, so one
// code path reads both. Validation happens per line so errors can name the line.
#include "data/text_file.h"

#include <unistd.h>
#include <zlib.h>

#include <array>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "data/utf8.h"

namespace qkv {
namespace {

struct GzFileCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFilePtr = std::unique_ptr<std::remove_pointer_t<gzFile>, GzFileCloser>;

// Moves one finished line into `lines` after the checks that need its line number.
void finish_line(std::string& line,
                 std::vector<std::string>& lines,
                 const std::filesystem::path& path) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (lines.empty() && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // byte-order mark
  if (!is_valid_utf8(line)) {
    throw std::runtime_error(path.string() + ":" + std::to_string(lines.size() + 1) +
                             ": invalid UTF-8; convert the file to UTF-8 (e.g. with iconv)");
  }
  lines.push_back(std::move(line));
  line.clear();
}

}  // namespace

std::vector<std::string> read_text_lines(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw std::runtime_error(path.string() + ": no such file");
  }
  GzFilePtr file(gzopen(path.c_str(), "rb"));
  if (!file) throw std::runtime_error(path.string() + ": cannot open for reading");
  gzbuffer(file.get(), 1U << 17);

  std::vector<std::string> lines;
  std::string line;
  std::array<char, 1U << 16> chunk{};
  while (true) {
    const int got = gzread(file.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      throw std::runtime_error(path.string() + ": read error: " + message);
    }
    if (got == 0) {
      // gzread reports a gzip stream cut short only through gzerror, after the data it had.
      int code = Z_OK;
      const char* message = gzerror(file.get(), &code);
      if (code == Z_BUF_ERROR) {
        throw std::runtime_error(path.string() + ": truncated gzip file (" + message + ")");
      }
      break;
    }
    const std::string_view view(chunk.data(), static_cast<std::size_t>(got));
    std::size_t start = 0;
    for (std::size_t end = view.find('\n'); end != std::string_view::npos;
         end = view.find('\n', start)) {
      line.append(view.substr(start, end - start));
      finish_line(line, lines, path);
      start = end + 1;
    }
    line.append(view.substr(start));
  }
  if (!line.empty()) finish_line(line, lines, path);
  return lines;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  if (path.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) {
      throw std::runtime_error(path.parent_path().string() +
                               ": cannot create folder: " + error.message());
    }
  }
  // The temporary name carries the process id so two writers never share one.
  std::filesystem::path partial = path;
  partial += ".partial." + std::to_string(::getpid());
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      throw std::runtime_error(path.string() + ": cannot write (disk full or no permission?)");
    }
  }
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw std::runtime_error(path.string() +
                             ": cannot move the finished file into place: " + error.message());
  }
}

void write_lines_atomically(const std::filesystem::path& path,
                            const std::vector<std::string>& lines) {
  std::size_t size = 0;
  for (const auto& line : lines) size += line.size() + 1;
  std::string content;
  content.reserve(size);
  for (const auto& line : lines) {
    content += line;
    content += '\n';
  }
  write_file_atomically(path, content);
}

}  // namespace qkv
