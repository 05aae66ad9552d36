// KeyValueCache: an amortised-growth buffer of past keys and values (see kv_cache.h).
#include "model/kv_cache.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>

#include "model/kernels/bf16_rows.h"

namespace qkv {

namespace {

constexpr int64_t kMinCapacity = 16;  // positions allocated at the first append

// Copies the first `length` positions of `buffer` [B, H, C, Dh] into a new buffer of `storage`
// with room for `capacity` positions.
torch::Tensor grow(const torch::Tensor& buffer,
                   int64_t length,
                   int64_t capacity,
                   const torch::Tensor& like,
                   torch::ScalarType storage) {
  auto grown = torch::empty({like.size(0), like.size(1), capacity, like.size(3)},
                            like.options().dtype(storage));
  if (length > 0) {
    grown.narrow(/*dim=*/2, /*start=*/0, length).copy_(buffer.narrow(2, 0, length));
  }
  return grown;  // [B, H, capacity, Dh]
}

// Rows `index` (int64 [B'] on the CPU) of a contiguous CPU buffer [B, H, C, Dh], copying only
// the first `length` positions of each: index_select would copy the spare capacity too, and
// beam search reorders every cache at every step.
torch::Tensor select_rows(const torch::Tensor& buffer, const torch::Tensor& index, int64_t length) {
  const int64_t rows = buffer.size(0), heads = buffer.size(1);
  const auto order = index.contiguous();
  const int64_t* source_rows = order.data_ptr<int64_t>();
  for (int64_t r = 0; r < order.numel(); ++r) {
    TORCH_CHECK(source_rows[r] >= 0 && source_rows[r] < rows,
                "KeyValueCache::reorder: index ",
                source_rows[r],
                " out of range for ",
                rows,
                " rows");
  }
  auto selected = torch::empty({order.numel(), heads, buffer.size(2), buffer.size(3)},
                               buffer.options());  // [B', H, C, Dh]
  const auto element = static_cast<int64_t>(buffer.element_size());
  const int64_t matrix = buffer.size(2) * buffer.size(3) * element;  // bytes of one (row, head)
  const auto used = static_cast<size_t>(length * buffer.size(3) * element);
  const auto* from = static_cast<const char*>(buffer.data_ptr());
  auto* to = static_cast<char*>(selected.data_ptr());
  at::parallel_for(0, order.numel() * heads, /*grain_size=*/64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t r = i / heads, h = i % heads;
      std::memcpy(to + i * matrix, from + (source_rows[r] * heads + h) * matrix, used);
    }
  });
  return selected;
}

// buffer[:, :, start : start + n] = fresh [B, H, n, Dh], rounded to the buffer's dtype. On the
// CPU, row by row with memcpy or bf16::from_float: LibTorch's strided copy_ costs more than
// the copying itself at decoding sizes (fresh is a strided view of a projection's output).
void write_positions(torch::Tensor& buffer, int64_t start, const torch::Tensor& fresh) {
  const bool rows_fit =
      buffer.device().is_cpu() && fresh.device().is_cpu() && buffer.is_contiguous() &&
      fresh.stride(3) == 1 && fresh.scalar_type() == torch::kFloat32 &&
      (buffer.scalar_type() == torch::kFloat32 || buffer.scalar_type() == torch::kBFloat16);
  if (!rows_fit) {
    buffer.narrow(/*dim=*/2, start, fresh.size(2)).copy_(fresh);
    return;
  }
  const int64_t heads = fresh.size(1), n = fresh.size(2), dh = fresh.size(3);
  const int64_t capacity = buffer.size(2);
  const bool to_bf16 = buffer.scalar_type() == torch::kBFloat16;
  const float* from = fresh.data_ptr<float>();
  auto* to = static_cast<char*>(buffer.data_ptr());
  const auto element = static_cast<int64_t>(buffer.element_size());
  for (int64_t b = 0; b < fresh.size(0); ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t t = 0; t < n; ++t) {
        const float* row = from + b * fresh.stride(0) + h * fresh.stride(1) + t * fresh.stride(2);
        char* out = to + (((b * heads + h) * capacity) + start + t) * dh * element;
        if (to_bf16) {
          bf16::from_float(row, reinterpret_cast<uint16_t*>(out), dh);
        } else {
          std::memcpy(out, row, static_cast<size_t>(dh) * sizeof(float));
        }
      }
    }
  }
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
    const auto k_stored = k_new.to(storage_), v_stored = v_new.to(storage_);
    k_buffer_ = length_ == 0 ? k_stored : torch::cat({view().k, k_stored}, /*dim=*/2);
    v_buffer_ = length_ == 0 ? v_stored : torch::cat({view().v, v_stored}, /*dim=*/2);
    length_ += n;
    return view();
  }
  const int64_t capacity = k_buffer_.defined() ? k_buffer_.size(2) : 0;
  if (length_ + n > capacity) {
    // Doubling keeps the total copying linear in the number of decoded positions.
    const int64_t new_capacity = std::max({2 * capacity, length_ + n, kMinCapacity});
    k_buffer_ = grow(k_buffer_, length_, new_capacity, k_new, storage_);
    v_buffer_ = grow(v_buffer_, length_, new_capacity, v_new, storage_);
  }
  write_positions(k_buffer_, length_, k_new);
  write_positions(v_buffer_, length_, v_new);
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
  // The new buffers keep the spare capacity, so that the next append need not grow them.
  const bool raw_copy =
      k_buffer_.device().is_cpu() && index.device().is_cpu() && k_buffer_.is_contiguous() &&
      v_buffer_.is_contiguous() &&
      !(torch::GradMode::is_enabled() && (k_buffer_.requires_grad() || v_buffer_.requires_grad()));
  if (raw_copy) {
    k_buffer_ = select_rows(k_buffer_, index, length_);  // [B', H, capacity, Dh]
    v_buffer_ = select_rows(v_buffer_, index, length_);  // [B', H, capacity, Dh]
    return;
  }
  k_buffer_ = k_buffer_.index_select(/*dim=*/0, index);  // [B', H, capacity, Dh]
  v_buffer_ = v_buffer_.index_select(/*dim=*/0, index);  // [B', H, capacity, Dh]
}

}  // namespace qkv
