// require(): the argument and config check of model/, throwing std::invalid_argument with a
// message that names the field and the value (e.g. "model.d_ff: must be > 0, got 0").
#pragma once

#include <stdexcept>
#include <string>

namespace qkv {

/// Throws std::invalid_argument(message) unless `condition` holds.
inline void require(bool condition, const std::string& message) {
  if (!condition) {
    throw std::invalid_argument(message);
  }
}

}  // namespace qkv
