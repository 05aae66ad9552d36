// KeyValueCache: an amortised-growth buffer of past keys and values (see kv_cache.h).
#include "model/kv_cache.h"

#include <algorithm>

namespace qkv {

namespace {

constexpr int64_t kMinCapacity = 16;  // positions allocated at the first append

// Copies the first `length` positions of `buffer` [B, H, C, Dh] into a new buffer with room
// for `capacity` positions.
torch::Tensor grow(const torch::Tensor& buffer,
                   int64_t length,
                   int64_t capacity,
                   const torch::Tensor& like) {
  auto grown = torch::empty({like.size(0), like.size(1), capacity, like.size(3)}, like.options());
  if (length > 0) {
    grown.narrow(/*dim=*/2, /*start=*/0, length).copy_(buffer.narrow(2, 0, length));
  }
  return grown;  // [B, H, capacity, Dh]
}

}  // namespace

KeyValue KeyValueCache::append(const torch::Tensor& k_new, const torch::Tensor& v_new) {
  TORCH_CHECK(k_new.dim() == 4 && k_new.sizes() == v_new.sizes(),
              "KeyValueCache::append: k and v must both be [B, H, n, Dh], got ",
              k_new.sizes(),
              " and ",
              v_new.sizes());
  const int64_t n = k_new.size(2);
  if (length_ > 0) {
    TORCH_CHECK(k_new.size(0) == k_buffer_.size(0) && k_new.size(1) == k_buffer_.size(1) &&
                    k_new.size(3) == k_buffer_.size(3),
                "KeyValueCache::append: new keys ",
                k_new.sizes(),
                " do not match the cache ",
                k_buffer_.sizes());
  }
  if (torch::GradMode::is_enabled()) {
    // Writing into a buffer in place would invalidate views that autograd saved for backward.
    k_buffer_ = length_ == 0 ? k_new : torch::cat({view().k, k_new}, /*dim=*/2);
    v_buffer_ = length_ == 0 ? v_new : torch::cat({view().v, v_new}, /*dim=*/2);
    length_ += n;
    return view();
  }
  const int64_t capacity = k_buffer_.defined() ? k_buffer_.size(2) : 0;
  if (length_ + n > capacity) {
    // Doubling keeps the total copying linear in the number of decoded positions.
    const int64_t new_capacity = std::max({2 * capacity, length_ + n, kMinCapacity});
    k_buffer_ = grow(k_buffer_, length_, new_capacity, k_new);
    v_buffer_ = grow(v_buffer_, length_, new_capacity, v_new);
  }
  k_buffer_.narrow(/*dim=*/2, /*start=*/length_, n).copy_(k_new);
  v_buffer_.narrow(/*dim=*/2, /*start=*/length_, n).copy_(v_new);
  length_ += n;
  return view();
}

KeyValue KeyValueCache::view() const {
  if (length_ == 0) {
    return {};
  }
  return {k_buffer_.narrow(/*dim=*/2, /*start=*/0, length_),   // [B, H, T, Dh]
          v_buffer_.narrow(/*dim=*/2, /*start=*/0, length_)};  // [B, H, T, Dh]
}

void KeyValueCache::reorder(const torch::Tensor& index) {
  if (length_ == 0) {
    return;
  }
  // The whole buffer (spare capacity included, at most as large as the filled part) is
  // selected, so that the next append does not have to grow it again.
  k_buffer_ = k_buffer_.index_select(/*dim=*/0, index);  // [B', H, capacity, Dh]
  v_buffer_ = v_buffer_.index_select(/*dim=*/0, index);  // [B', H, capacity, Dh]
}

}  // namespace qkv
