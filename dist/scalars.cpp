// Scalars over the group: a one-element tensor through ProcessGroup::all_reduce_sum.
#include "dist/scalars.h"

namespace qkv {

int64_t sum_over_ranks(ProcessGroup& group, int64_t value) {
  const auto tensor = torch::tensor({value}, torch::kInt64);
  group.all_reduce_sum({tensor});
  return tensor.item<int64_t>();
}

double sum_over_ranks(ProcessGroup& group, double value) {
  const auto tensor = torch::tensor({value}, torch::kFloat64);
  group.all_reduce_sum({tensor});
  return tensor.item<double>();
}

bool any_rank(ProcessGroup& group, bool flag) {
  return sum_over_ranks(group, int64_t{flag ? 1 : 0}) > 0;
}

}  // namespace qkv
