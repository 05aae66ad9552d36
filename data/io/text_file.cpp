// Text file I/O for the corpus readers and every other line-based file: gzread handles plain
// and gzip files alike, so one code path reads both. Validation happens per line so errors can
// name the line.
#include "data/io/text_file.h"

#include <zlib.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "data/io/atomic_file.h"
#include "data/io/utf8.h"

namespace qkv {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

struct GzFileCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFilePtr = std::unique_ptr<std::remove_pointer_t<gzFile>, GzFileCloser>;

// Collects lines by the rule in text_file.h from the chunks gzread returns.
class LineCollector {
 public:
  LineCollector(const std::filesystem::path& path, const LineReading& reading)
      : path_(path), reading_(reading) {}

  void add_chunk(std::string_view chunk) {
    for (std::size_t end = chunk.find('\n'); end != std::string_view::npos;
         end = chunk.find('\n')) {
      line_.append(chunk.substr(0, end));
      finish_line();
      chunk.remove_prefix(end + 1);
    }
    line_.append(chunk);
  }

  std::vector<std::string> finish() && {
    if (!line_.empty()) finish_line();
    return std::move(lines_);
  }

 private:
  // Moves the current line into lines_ after the checks that need its line number.
  void finish_line() {
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (lines_.empty() && reading_.strip_byte_order_mark &&
        std::string_view(line_).substr(0, kByteOrderMark.size()) == kByteOrderMark) {
      line_.erase(0, kByteOrderMark.size());
    }
    if (reading_.require_utf8 && !is_valid_utf8(line_)) {
      throw std::runtime_error(path_.string() + ":" + std::to_string(lines_.size() + 1) +
                               ": invalid UTF-8; convert the file to UTF-8 (e.g. with iconv)");
    }
    lines_.push_back(std::move(line_));
    line_.clear();
  }

  const std::filesystem::path& path_;
  const LineReading& reading_;
  std::vector<std::string> lines_;
  std::string line_;
};

GzFilePtr open_for_reading(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw std::runtime_error(path.string() + ": no such file");  // a folder too (bad_inputs.sh)
  }
  GzFilePtr file(gzopen(path.c_str(), "rb"));
  if (!file) throw std::runtime_error(path.string() + ": cannot open for reading");
  gzbuffer(file.get(), 1U << 17);
  return file;
}

// gzread's count, or an error naming the file. gzread reports a gzip stream cut short only
// through gzerror, after the data it had, so the end of the data is checked too.
std::size_t read_chunk(gzFile file,
                       std::array<char, 1U << 16>& chunk,
                       const std::filesystem::path& path) {
  const int got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
  int code = Z_OK;
  if (got < 0) {
    throw std::runtime_error(path.string() + ": read error: " + gzerror(file, &code));
  }
  if (got == 0) {
    const char* message = gzerror(file, &code);
    if (code == Z_BUF_ERROR) {
      throw std::runtime_error(path.string() + ": truncated gzip file (" + message + ")");
    }
  }
  return static_cast<std::size_t>(got);
}

}  // namespace

std::vector<std::string> read_text_lines(const std::filesystem::path& path,
                                         const LineReading& reading) {
  const GzFilePtr file = open_for_reading(path);
  LineCollector lines(path, reading);
  std::array<char, 1U << 16> chunk{};
  for (std::size_t got = read_chunk(file.get(), chunk, path); got > 0;
       got = read_chunk(file.get(), chunk, path)) {
    lines.add_chunk(std::string_view(chunk.data(), got));
  }
  return std::move(lines).finish();
}

void write_lines_atomically(const std::filesystem::path& path,
                            const std::vector<std::string>& lines) {
  if (path.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) {
      throw std::runtime_error("cannot write " + path.string() + ": cannot create folder " +
                               path.parent_path().string() + ": " + error.message());
    }
  }
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
