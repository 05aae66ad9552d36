// NPY format version 1.0 (numpy/lib/format.py): 6-byte magic "\x93NUMPY", version 1.0, a
// little-endian uint16 header length, then an ASCII Python dict literal padded with spaces and
// a final '\n' so that the data starts at a multiple of 64 bytes, then the raw values.
#include "app/export/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "data/io/atomic_file.h"

namespace qkv {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kPreambleSize = kMagicSize + 2 + 2;  // magic, version, header length
constexpr size_t kAlignment = 64;

std::string shape_literal(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += std::to_string(shape[i]);
    if (i + 1 < shape.size() || shape.size() == 1) text += ",";  // (5,) is a 1-tuple
    if (i + 1 < shape.size()) text += " ";
  }
  return text + ")";
}

// Bytes of `value` in little-endian order, whatever the host's byte order.
void append_le_float(std::string& out, float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  for (int byte = 0; byte < 4; ++byte)
    out.push_back(static_cast<char>((bits >> (8 * byte)) & 0xff));
}

float read_le_float(const unsigned char* bytes) {
  uint32_t bits = 0;
  for (int byte = 3; byte >= 0; --byte) bits = (bits << 8) | bytes[byte];
  float value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// The value of `key` in the header dict: the text after "'key':" up to the next ',' or '}'
// at nesting depth 0 (shape tuples hold commas).
std::string header_value(const std::string& header,
                         const std::string& key,
                         const std::string& path) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) {
    throw std::runtime_error(path + ": NPY header has no '" + key + "': " + header);
  }
  size_t pos = header.find(':', at) + 1;
  int depth = 0;
  std::string value;
  for (; pos < header.size(); ++pos) {
    const char c = header[pos];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    value += c;
  }
  const auto first = value.find_first_not_of(' ');
  const auto last = value.find_last_not_of(' ');
  return first == std::string::npos ? "" : value.substr(first, last - first + 1);
}

std::vector<int64_t> parse_shape(const std::string& literal, const std::string& path) {
  if (literal.size() < 2 || literal.front() != '(' || literal.back() != ')') {
    throw std::runtime_error(path + ": NPY shape is not a tuple: " + literal);
  }
  std::vector<int64_t> shape;
  std::stringstream items(literal.substr(1, literal.size() - 2));
  for (std::string item; std::getline(items, item, ',');) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    shape.push_back(std::stoll(item));
  }
  return shape;
}

}  // namespace

std::string float32_le_bytes(const torch::Tensor& tensor) {
  if (!tensor.defined()) throw std::invalid_argument("float32_le_bytes: undefined tensor");
  const auto values = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  std::string out;
  out.reserve(static_cast<size_t>(values.numel()) * 4);
  const float* data = values.data_ptr<float>();
  for (int64_t i = 0; i < values.numel(); ++i) append_le_float(out, data[i]);
  return out;
}

std::string npy_bytes(const torch::Tensor& tensor) {
  if (!tensor.defined()) throw std::invalid_argument("npy_bytes: undefined tensor");
  const std::vector<int64_t> shape(tensor.sizes().begin(), tensor.sizes().end());
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_literal(shape) + ", }";
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
  const size_t unpadded = kPreambleSize + header.size() + 1;
  header.append((kAlignment - unpadded % kAlignment) % kAlignment, ' ');
  header += '\n';

  std::string out(kMagic, kMagicSize);
  out.push_back('\x01');  // major version
  out.push_back('\x00');  // minor version
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
  out += header;
  return out + float32_le_bytes(tensor);
}

void write_npy(const std::filesystem::path& path, const torch::Tensor& tensor) {
  write_file_atomically(path, npy_bytes(tensor));
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + name);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < kPreambleSize || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0) {
    throw std::runtime_error(name + ": not an NPY file (no \\x93NUMPY magic)");
  }
  if (bytes[6] != 1 || bytes[7] != 0) {
    throw std::runtime_error(name + ": NPY version " + std::to_string(bytes[6]) + "." +
                             std::to_string(bytes[7]) + " is not supported (only 1.0)");
  }
  const size_t header_size = static_cast<unsigned char>(bytes[8]) |
                             (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  if (bytes.size() < kPreambleSize + header_size) {
    throw std::runtime_error(name + ": NPY header is truncated");
  }
  const std::string header = bytes.substr(kPreambleSize, header_size);
  NpyArray array;
  array.dtype = header_value(header, "descr", name);
  if (array.dtype.size() >= 2) array.dtype = array.dtype.substr(1, array.dtype.size() - 2);
  if (array.dtype != "<f4") {
    throw std::runtime_error(name + ": NPY dtype '" + array.dtype + "' is not supported (<f4)");
  }
  array.fortran_order = header_value(header, "fortran_order", name) == "True";
  array.shape = parse_shape(header_value(header, "shape", name), name);
  size_t count = 1;
  for (int64_t dim : array.shape) count *= static_cast<size_t>(dim);
  const size_t offset = kPreambleSize + header_size;
  if (bytes.size() != offset + 4 * count) {
    throw std::runtime_error(name + ": NPY data holds " + std::to_string(bytes.size() - offset) +
                             " bytes, shape " + shape_literal(array.shape) + " needs " +
                             std::to_string(4 * count));
  }
  array.data.resize(count);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  for (size_t i = 0; i < count; ++i) array.data[i] = read_le_float(data + 4 * i);
  return array;
}

torch::Tensor to_tensor(const NpyArray& array) {
  TORCH_CHECK(!array.fortran_order, "to_tensor: Fortran-order NPY arrays are not supported");
  return torch::tensor(array.data, torch::kFloat32).reshape(array.shape);
}

}  // namespace qkv
