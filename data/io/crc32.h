// The one CRC-32: zlib's (the polynomial of zip, gzip and PNG, and what Python's zlib.crc32
// computes), for the hash split of the corpora, the zip records of checkpoints, the checkpoint
// payload checksum and the tokenizer fingerprint stored in checkpoints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace qkv {

/// CRC-32 of `bytes`, e.g. crc32_of("123456789") == 0xCBF43926.
uint32_t crc32_of(std::string_view bytes);

/// A CRC-32 fed in pieces: feeding "1234" then "56789" gives crc32_of("123456789").
class Crc32 {
 public:
  void add(std::string_view bytes);
  uint32_t value() const { return crc_; }

 private:
  uint32_t crc_ = 0;
};

/// `crc` as 8 lower-case hex digits, e.g. "cbf43926" (the form stored in checkpoints).
std::string crc32_hex(uint32_t crc);

/// crc32_hex of a file's bytes. Throws std::runtime_error "cannot read <path>".
std::string file_crc32(const std::filesystem::path& path);

}  // namespace qkv
