// Learning-rate schedules as pure functions of the optimiser step (1-based).
#pragma once

#include <cstdint>

#include "train/config.h"

namespace qkv {

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::kNoam;  // the curve after warmup
  double peak = 1e-3;                       // learning rate at the end of warmup
  int64_t warmup_steps = 4000;              // linear warmup from 0 to `peak`
  int64_t max_steps = 0;                    // linear: decays to 0 at this step
};

/// Learning rate at `step` (>= 1):
///   warmup (all kinds): peak * step / warmup
///   noam:     peak * sqrt(warmup / step) after warmup (inverse square root decay; the same
///             curve as Vaswani et al.'s d_model^-0.5 * min(step^-0.5, step * warmup^-1.5))
///   constant: peak after warmup
///   linear:   peak * (max_steps - step) / (max_steps - warmup) after warmup, never below 0
/// Throws std::invalid_argument for step < 1.
double learning_rate_at(int64_t step, const ScheduleOptions& options);

}  // namespace qkv
