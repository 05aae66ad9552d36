// Model weights as a safetensors file (https://huggingface.co/docs/safetensors), the format
// that numpy, PyTorch, JAX and most model tools read without running a pickle:
//   8 bytes    N, the header's length (uint64, little-endian)
//   N bytes    JSON: {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//                     "__metadata__": {"<key>": "<string value>"}}, space-padded to 8 bytes
//   the rest   every tensor's bytes, row-major, little-endian, in header order
// Offsets count from the end of the header. Written atomically (data/io/atomic_file.h).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "train/checkpoint/checkpoint.h"

namespace qkv {

/// Writes `tensors` (any device; copied to the CPU) and `metadata` to `path`. Throws
/// std::invalid_argument naming the tensor whose dtype safetensors cannot hold.
void save_safetensors(const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const std::filesystem::path& path);

}  // namespace qkv
