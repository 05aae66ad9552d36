// The one place where qkv_dist's code differs between the c10d versions of the LibTorch it
// builds with: Debian 12's 1.13 and Debian 13's 2.6 (see model/torch_compat.h for the rest of
// the project). Everything else in dist/ uses what both share: TCPStore(host, TCPStoreOptions),
// ProcessGroupGloo(store, rank, size, Options) and its allreduce/broadcast/allgather, which
// return c10d::Work in both. (In 2.x ProcessGroupGloo derives from c10d::Backend, in 1.13 from
// c10d::ProcessGroup; dist/ holds it by its own type, so that difference never shows.)
#pragma once

#include <torch/version.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace qkv::c10d_compat {

/// Options of a TCPStore at `port` for a group of `world_size` ranks, where rank 0 is the server
/// and every call gives up after `timeout`. (Same in 1.13 and 2.6 but for the libuv switch.)
inline c10d::TCPStoreOptions tcp_store_options(uint16_t port,
                                               bool is_server,
                                               std::size_t world_size,
                                               std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = port;
  options.isServer = is_server;
  options.numWorkers = world_size;
  // Not TCPStore's own wait for the other ranks: in 1.13 it overran a 2 s timeout by 3 s. Gloo's
  // rendezvous right after waits for every rank within the timeout anyway.
  options.waitWorkers = false;
  options.timeout = timeout;
#if TORCH_VERSION_MAJOR >= 2
  // A 2.x client retries its whole connect once more when the first gives up early (before a
  // backoff that would overrun), with the full timeout again: an unreachable master took 5 s
  // with a 2 s timeout on 2.6. Half the timeout for the connecting ranks keeps the total near it
  // (about 1.6 s for 2 s); rank 0 connects to itself at once. Gloo's waits pass their own timeout.
  if (!is_server) options.timeout = timeout / 2;
#endif
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
  // 2.2 added a libuv server and 2.4 made it the default; a LibTorch built without libuv (Debian
  // 13's 2.6) then throws "use_libuv was requested but PyTorch was built without libuv support".
  // The classic server is in every build.
  options.useLibUV = false;
#endif
  return options;
}

}  // namespace qkv::c10d_compat
