// Learning-rate schedules (see schedule.h for the formulas).
#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace qkv {

double learning_rate_at(int64_t step, const ScheduleOptions& options) {
  if (step < 1) throw std::invalid_argument("learning_rate_at: step must be >= 1");
  const auto s = static_cast<double>(step);
  const auto warmup = static_cast<double>(options.warmup_steps);
  if (step <= options.warmup_steps) return options.peak * s / warmup;
  switch (options.kind) {
    case ScheduleKind::kNoam:
      return options.peak * std::sqrt(std::max(warmup, 1.0) / s);
    case ScheduleKind::kConstant:
      return options.peak;
    case ScheduleKind::kLinear: {
      const double span = static_cast<double>(options.max_steps) - warmup;
      if (span <= 0) return 0.0;
      return options.peak * std::max(0.0, (static_cast<double>(options.max_steps) - s) / span);
    }
  }
  throw std::invalid_argument("learning_rate_at: invalid ScheduleKind");  // not a named value
}

}  // namespace qkv
