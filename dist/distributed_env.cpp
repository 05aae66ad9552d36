// Parsing of the launcher's variables (torchrun's names), each error one line naming the
// variable and its value.
#include "dist/distributed_env.h"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace qkv {
namespace {

// The whole of `text` as a number, or a "NAME=text is not a whole number" error. Strict: no
// spaces or signs around it, so a typo never silently becomes another rank.
int64_t whole_number(const std::string& name, const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [last, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || last != end) {
    throw std::runtime_error(name + "=" + text + " is not a whole number");
  }
  return value;
}

std::optional<std::string> non_empty(const EnvironmentLookup& lookup, const std::string& name) {
  auto value = lookup(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::optional<int64_t> number_or_unset(const EnvironmentLookup& lookup, const std::string& name) {
  const auto text = non_empty(lookup, name);
  if (!text) return std::nullopt;
  return whole_number(name, *text);
}

// A rank-like variable: 0 <= value < world_size.
int checked_rank(const std::string& name, int64_t value, int64_t world_size) {
  if (value < 0) throw std::runtime_error(name + "=" + std::to_string(value) + " is negative");
  if (value >= world_size) {
    throw std::runtime_error(name + "=" + std::to_string(value) +
                             " is not below WORLD_SIZE=" + std::to_string(world_size));
  }
  return static_cast<int>(value);
}

std::string required(const EnvironmentLookup& lookup, const std::string& name, int world_size) {
  auto value = non_empty(lookup, name);
  if (!value) {
    throw std::runtime_error("WORLD_SIZE=" + std::to_string(world_size) + " but " + name +
                             " is not set");
  }
  return *value;
}

uint16_t checked_port(const std::string& text) {
  const int64_t port = whole_number("MASTER_PORT", text);
  if (port < 1 || port > std::numeric_limits<uint16_t>::max()) {
    throw std::runtime_error("MASTER_PORT=" + text + " is not a TCP port (1 to 65535)");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

std::string DistributedEnv::describe() const {
  if (!is_distributed()) return "a single process";
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " (local rank " +
         std::to_string(local_rank) + "), master " + master_addr + ":" +
         std::to_string(master_port);
}

DistributedEnv parse_distributed_env(const EnvironmentLookup& lookup) {
  DistributedEnv env;
  const int64_t world_size = number_or_unset(lookup, "WORLD_SIZE").value_or(1);
  if (world_size < 1) {
    throw std::runtime_error("WORLD_SIZE=" + std::to_string(world_size) + " must be at least 1");
  }
  if (world_size > std::numeric_limits<int>::max()) {
    throw std::runtime_error("WORLD_SIZE=" + std::to_string(world_size) + " is too large");
  }
  env.world_size = static_cast<int>(world_size);
  const auto rank = number_or_unset(lookup, "RANK");
  if (!env.is_distributed()) {
    // A stray RANK=1 without a group is a launch mistake, not a single run.
    if (rank) checked_rank("RANK", *rank, world_size);
    return env;
  }
  if (!rank) {
    throw std::runtime_error("WORLD_SIZE=" + std::to_string(world_size) + " but RANK is not set");
  }
  env.rank = checked_rank("RANK", *rank, world_size);
  const auto local_rank = number_or_unset(lookup, "LOCAL_RANK");
  env.local_rank = local_rank ? checked_rank("LOCAL_RANK", *local_rank, world_size) : env.rank;
  const auto local_world_size = number_or_unset(lookup, "LOCAL_WORLD_SIZE");
  if (local_world_size && (*local_world_size < 1 || *local_world_size > world_size)) {
    throw std::runtime_error("LOCAL_WORLD_SIZE=" + std::to_string(*local_world_size) +
                             " is not between 1 and WORLD_SIZE=" + std::to_string(world_size));
  }
  env.local_world_size = static_cast<int>(local_world_size.value_or(world_size));
  env.master_addr = required(lookup, "MASTER_ADDR", env.world_size);
  env.master_port = checked_port(required(lookup, "MASTER_PORT", env.world_size));
  env.agent_store = non_empty(lookup, "TORCHELASTIC_USE_AGENT_STORE") == std::string("True");
  const auto restarts = number_or_unset(lookup, "TORCHELASTIC_RESTART_COUNT").value_or(0);
  if (restarts < 0) {
    throw std::runtime_error("TORCHELASTIC_RESTART_COUNT=" + std::to_string(restarts) +
                             " is negative");
  }
  env.restart_count = restarts;
  return env;
}

DistributedEnv distributed_env_from_process() {
  return parse_distributed_env([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace qkv
