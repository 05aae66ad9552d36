// Single numbers agreed over the group: token counts to normalise the summed gradients, losses
// to log, and a stop flag (Ctrl-C, time limit) that must stop every rank at the same step.
#pragma once

#include <cstdint>

#include "dist/process_group.h"

namespace qkv {

/// The sum of `value` over all ranks (exact for integers).
int64_t sum_over_ranks(ProcessGroup& group, int64_t value);

/// The sum of `value` over all ranks, in float64.
double sum_over_ranks(ProcessGroup& group, double value);

/// True on every rank when `flag` is true on at least one.
bool any_rank(ProcessGroup& group, bool flag);

}  // namespace qkv
