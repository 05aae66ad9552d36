// NPY files: the format numpy.save writes and numpy.load reads (format version 1.0).
// qkv writes float32 little-endian C-order arrays; the reader here exists for tests and for
// tools that want to read them back without Python. Not here: which arrays are exported
// (attention_export.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qkv {

/// An array read from an .npy file.
struct NpyArray {
  std::string dtype;           ///< numpy descr, e.g. "<f4"
  bool fortran_order = false;  ///< true: column-major
  std::vector<int64_t> shape;  ///< e.g. {4, 12, 12}
  std::vector<float> data;     ///< values in file order (only "<f4" arrays are read)
};

/// The values of `tensor` as float32, little-endian, C order (any dtype and device are
/// converted first): the data part of an .npy file, and what the HTML explorer decodes into
/// Float32Arrays. Throws std::invalid_argument for an undefined tensor.
std::string float32_le_bytes(const torch::Tensor& tensor);

/// The bytes of an .npy file holding `tensor` as float32, little-endian, C order (any dtype
/// and device are converted first). Throws std::invalid_argument for an undefined tensor.
std::string npy_bytes(const torch::Tensor& tensor);

/// Writes npy_bytes(tensor) to `path` atomically (data/io/atomic_file.h). Throws
/// std::runtime_error naming the path when it cannot be written.
void write_npy(const std::filesystem::path& path, const torch::Tensor& tensor);

/// Parses an .npy file of float32 little-endian values. Throws std::runtime_error naming the
/// path and the problem (no NPY magic, unsupported version or dtype, truncated data).
NpyArray read_npy(const std::filesystem::path& path);

/// NpyArray as a float32 tensor of its shape (C order only).
torch::Tensor to_tensor(const NpyArray& array);

}  // namespace qkv
