// Reading and writing whole UTF-8 text files, one entry per line: the one line reader of qkv.
// Reads plain or gzip files (zlib detects which from the content). The rule about lines:
//   - a line ends at "\n"; a "\r" right before it is dropped too ("\r\n" files read the same),
//     any other "\r" is kept;
//   - empty lines are kept, as empty strings (line numbers in errors stay those of an editor);
//   - a last line without "\n" still counts; a final "\n" does not start another line, so an
//     empty file has no lines and "\n" has one empty line;
//   - a UTF-8 byte-order mark at the start of the file is dropped (unless asked to keep it).
// Writes go through write_file_atomically (data/io/atomic_file.h).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace qkv {

/// What read_text_lines checks and strips beyond the rule above.
struct LineReading {
  /// Drop a byte-order mark at the start. sacreBLEU's reader keeps it, so the metrics do too.
  bool strip_byte_order_mark = true;
  /// Throw on a line that is not valid UTF-8. Off for files whose broken lines the caller
  /// skips itself (a metrics.jsonl line torn by a killed run).
  bool require_utf8 = true;
};

/// The lines of a text file, plain or gzip-compressed, by the rule above.
/// Throws std::runtime_error naming the file when it is missing (or not a regular file: "<path>:
/// no such file"), unreadable or a broken gzip stream, and naming the file and the 1-based line
/// ("<path>:<line>: invalid UTF-8; ...") when a line is not valid UTF-8.
std::vector<std::string> read_text_lines(const std::filesystem::path& path,
                                         const LineReading& reading = {});

/// Writes each line followed by "\n" to `path` atomically (see write_file_atomically),
/// creating missing parent folders first (prepared corpora go to a folder made on first use).
void write_lines_atomically(const std::filesystem::path& path,
                            const std::vector<std::string>& lines);

}  // namespace qkv
