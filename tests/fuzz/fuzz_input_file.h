// A per-process scratch file for targets whose code under test reads a path.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace qkv::fuzz {

/// Writes `input` to a file named after `stem` and the process id in the temp folder, and
/// returns its path (the same path on every call with the same stem).
inline std::filesystem::path write_input_file(std::string_view input, const std::string& stem) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / (stem + "_" + std::to_string(::getpid()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(input.data(), static_cast<std::streamsize>(input.size()));
  return path;
}

}  // namespace qkv::fuzz
