#include "train/checkpoint/safetensors.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>

#include "data/io/atomic_file.h"

namespace qkv {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors stores little-endian bytes; this writer copies memory as it is");

std::string dtype_name(const torch::Tensor& tensor, const std::string& name) {
  switch (tensor.scalar_type()) {
    case torch::kFloat32:
      return "F32";
    case torch::kFloat64:
      return "F64";
    case torch::kFloat16:
      return "F16";
    case torch::kBFloat16:
      return "BF16";
    case torch::kInt64:
      return "I64";
    case torch::kInt32:
      return "I32";
    case torch::kUInt8:
      return "U8";
    case torch::kBool:
      return "BOOL";
    default:
      break;
  }
  throw std::invalid_argument("safetensors: tensor '" + name + "' has a dtype it cannot hold (" +
                              std::string(c10::toString(tensor.scalar_type())) + ")");
}

}  // namespace

void save_safetensors(const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const std::filesystem::path& path) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> contiguous;
  int64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    contiguous.push_back(tensor.detach().to(torch::kCPU).contiguous());
    const int64_t bytes = contiguous.back().numel() * contiguous.back().element_size();
    header[name] = {{"dtype", dtype_name(tensor, name)},
                    {"shape", tensor.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // tensors start 8-byte aligned
  std::string file(8, '\0');
  uint64_t length = json.size();
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  file += json;
  file.reserve(file.size() + static_cast<size_t>(offset));
  for (const auto& tensor : contiguous) {
    file.append(static_cast<const char*>(tensor.data_ptr()),
                static_cast<size_t>(tensor.numel() * tensor.element_size()));
  }
  write_file_atomically(path, file);
}

}  // namespace qkv
