// `qkv train --nproc N`: starts N local data-parallel workers of one program and waits for
// them, like torchrun does, so multi-process training needs no Python.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace qkv {

struct LocalLaunchOptions {
  std::string program;            // executable to start (the CLI passes /proc/self/exe resolved)
  std::vector<std::string> args;  // its arguments (argv[1..]); the same for every worker
  int nproc = 1;                  // workers, >= 1
  // After the first worker fails: how long the others get to end by themselves before SIGTERM,
  // then (after 5 s more) SIGKILL.
  std::chrono::milliseconds grace{30000};
};

/// Starts nproc workers of `program args...`, each with RANK=LOCAL_RANK=i,
/// WORLD_SIZE=LOCAL_WORLD_SIZE=nproc, MASTER_ADDR=127.0.0.1, MASTER_PORT=<a free loopback port>
/// (plus the parent's environment), waits for all, and returns the exit status to use: 0 when
/// all exit 0, else the first failure's code (128+signal for a signal). Prints one line to
/// stderr for the first failure, e.g. "qkv: worker rank 0 exited with status 1".
/// Workers share the launcher's process group, so a terminal's Ctrl-C reaches them directly;
/// SIGINT is therefore not forwarded (a second SIGINT would stop a worker hard). The first
/// SIGTERM that reaches this process is forwarded to the workers (they save and stop). The
/// launcher keeps waiting for them either way and restores its signal handlers on return.
/// Throws std::invalid_argument for nproc < 1 and std::runtime_error (one line, with the
/// program and strerror) when a worker cannot be started; the ones already started are ended.
int launch_local_workers(const LocalLaunchOptions& options);

/// launch_local_workers() of this executable (/proc/self/exe) with `args` (argv[1..]), plus
/// "-q" when this process logs warnings and errors only, so that `qkv -q train --nproc N` keeps
/// its workers as quiet.
int launch_this_program(std::vector<std::string> args, int nproc, std::chrono::milliseconds grace);

/// A TCP port on 127.0.0.1 that is free now (bind port 0, getsockname, close): the rendezvous
/// port.
uint16_t free_loopback_port();

}  // namespace qkv
