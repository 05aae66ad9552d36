#include "dist/shared_bytes.h"

#include <cstring>

namespace qkv {

std::string share_bytes_from_rank0(ProcessGroup& group,
                                   const std::string& name,
                                   std::string bytes) {
  group.wait_for_rank0(name);
  const auto size = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kInt64);
  group.broadcast_from_rank0({size});
  const int64_t n = size.item<int64_t>();
  if (n == 0) return {};
  auto data = torch::empty({n}, torch::kUInt8);
  if (group.rank() == 0) std::memcpy(data.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  group.broadcast_from_rank0({data});
  if (group.rank() != 0) bytes.assign(reinterpret_cast<const char*>(data.data_ptr<uint8_t>()), n);
  return bytes;
}

}  // namespace qkv
