// Where this process sits in a data-parallel group, read from the variables a launcher such as
// torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Parsing only: no
// sockets here (dist/process_group.h joins the group).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace qkv {

struct DistributedEnv {
  int rank = 0;              // RANK: this process's index in the group, 0 .. world_size - 1
  int world_size = 1;        // WORLD_SIZE: processes in the group; 1 (or unset) = no group
  int local_rank = 0;        // LOCAL_RANK: index among this machine's processes (default RANK)
  int local_world_size = 1;  // LOCAL_WORLD_SIZE: processes on this machine (default WORLD_SIZE)
  std::string master_addr;   // MASTER_ADDR: host where rank 0 serves the rendezvous store
  uint16_t master_port = 0;  // MASTER_PORT: that store's TCP port
  // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent already serves the store at
  // MASTER_ADDR:MASTER_PORT (its static rendezvous, the default), so every rank is a client and
  // keys go under "/worker/attempt_<TORCHELASTIC_RESTART_COUNT>/", as in torch.distributed.
  bool agent_store = false;
  int64_t restart_count = 0;  // TORCHELASTIC_RESTART_COUNT: restarts of the group so far

  bool is_distributed() const { return world_size > 1; }
  /// "rank 1 of 2 (local rank 1), master 127.0.0.1:29500", or "a single process".
  std::string describe() const;
};

/// The value of an environment variable, or nullopt when it is unset.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// Reads and checks the launcher's variables through `lookup`. WORLD_SIZE unset or 1 means a
/// single process. An empty value counts as unset. Throws std::runtime_error with one line
/// naming the variable, e.g. "WORLD_SIZE=2 but MASTER_ADDR is not set", "RANK=5 is not below
/// WORLD_SIZE=2", "MASTER_PORT=x is not a whole number".
DistributedEnv parse_distributed_env(const EnvironmentLookup& lookup);

/// parse_distributed_env() on this process's environment.
DistributedEnv distributed_env_from_process();

}  // namespace qkv
