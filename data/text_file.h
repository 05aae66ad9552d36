// Reading and writing whole UTF-8 text files, one entry per line. Reads plain or gzip files
// (zlib detects which from the content); writes through a temporary file and a rename so an
// interrupted writer never leaves a half file under the final name.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace qkv {

/// The lines of a UTF-8 text file, plain or gzip-compressed, without their line ends ("\n" or
/// "\r\n") and without a leading byte-order mark. A last line without "\n" still counts.
/// Throws std::runtime_error naming the file when it is missing, unreadable or a broken gzip
/// stream, and naming the file and the 1-based line when a line is not valid UTF-8.
std::vector<std::string> read_text_lines(const std::filesystem::path& path);

/// Writes `content` to `path` atomically: a temporary file in the same folder, then a rename.
/// Creates missing parent folders. Throws std::runtime_error naming the file on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

/// Writes each line followed by "\n" to `path` atomically (see write_file_atomically).
void write_lines_atomically(const std::filesystem::path& path,
                            const std::vector<std::string>& lines);

}  // namespace qkv
