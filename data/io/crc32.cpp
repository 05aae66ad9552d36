// CRC-32 through zlib, which is the reference implementation (see crc32.h).
#include "data/io/crc32.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace qkv {

void Crc32::add(std::string_view bytes) {
  uLong crc = crc_;
  // zlib's crc32() takes at most UINT_MAX bytes per call; feed longer inputs in pieces.
  while (!bytes.empty()) {
    const std::size_t piece = std::min<std::size_t>(bytes.size(), std::numeric_limits<uInt>::max());
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(piece));
    bytes.remove_prefix(piece);
  }
  crc_ = static_cast<uint32_t>(crc);
}

uint32_t crc32_of(std::string_view bytes) {
  Crc32 crc;
  crc.add(bytes);
  return crc.value();
}

std::string crc32_hex(uint32_t crc) {
  std::array<char, 9> text{};
  std::snprintf(text.data(), text.size(), "%08x", crc);
  return text.data();
}

std::string file_crc32(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  Crc32 crc;
  std::array<char, 1U << 16> buffer{};
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    crc.add(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
  }
  return crc32_hex(crc.value());
}

}  // namespace qkv
