// Test support: starts the ranks of a multi-process test as real processes on 127.0.0.1. Each
// rank runs one scenario of qkv_dist_test_ranks (rank_scenarios.cpp), a fresh program started
// with fork + exec, so no LibTorch thread of the test process is ever forked.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace qkv::test {

struct RankOutcome {
  int exit_code = -1;  // exit status; -1 when a signal ended the process
  int signal = 0;      // the signal that ended it, else 0
  std::string output;  // its stdout and stderr
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
uint16_t free_loopback_port();

/// Runs `scenario` as ranks 0 .. world_size - 1 of one group (RANK, WORLD_SIZE, LOCAL_RANK,
/// MASTER_ADDR=127.0.0.1, MASTER_PORT = a free port; QKV_DIST_TEST_TIMEOUT_MS = `timeout`, the
/// group's timeout). Waits for all of them; one still running after `limit` is killed and
/// its output says so. Returns the outcomes by rank.
std::vector<RankOutcome> run_ranks(const std::string& scenario,
                                   int world_size,
                                   std::chrono::milliseconds timeout,
                                   std::chrono::seconds limit = std::chrono::seconds(30));

/// The first line of `output` that starts with `prefix`, without its newline; "" if none.
std::string line_starting_with(const std::string& output, const std::string& prefix);

}  // namespace qkv::test
