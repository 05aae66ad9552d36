// The program each rank of a multi-process test of dist/ runs: `qkv_dist_test_ranks SCENARIO`,
// with the launcher's variables set (rank_launcher.cpp; or by hand, see dist/README.md). It joins
// the group, runs the scenario's collectives and checks their results against LibTorch ops on
// this rank's own copy of every rank's inputs. Exit status: 0 when every check holds, 1 when
// one fails ("FAIL: ..." on stderr), 2 when something throws ("error: <one line>" on stderr).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>

#include "dist/agreement.h"
#include "dist/gradient_buckets.h"
#include "dist/process_group.h"
#include "dist/scalars.h"

namespace qkv {
namespace {

using Clock = std::chrono::steady_clock;

// Gradient-like tensors that differ by `seed`: float32 and float64, a non-contiguous one and a
// single element, so that 4 KiB buckets split both by size and by dtype.
std::vector<torch::Tensor> sample_tensors(int seed) {
  torch::manual_seed(seed);
  return {torch::randn({7, 5}),
          torch::randn({1000}),
          torch::randn({3, 4}, torch::kFloat64),
          torch::randn({6, 4}).t(),
          torch::randn({1}),
          torch::randn({2, 3})};
}

bool check(bool ok, const std::string& what) {
  if (!ok) std::cerr << "FAIL: " << what << "\n";
  return ok;
}

int all_reduce_in_buckets(ProcessGroup& group) {
  auto expected = sample_tensors(0);
  for (int rank = 1; rank < group.world_size(); ++rank) {
    const auto other = sample_tensors(rank);
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = expected[i] + other[i];
  }
  const auto tensors = sample_tensors(group.rank());
  all_reduce_sum_in_buckets(group, tensors, /*bucket_bytes=*/4096);
  bool ok = true;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    ok &= check(torch::allclose(tensors[i], expected[i]),
                "tensor " + std::to_string(i) + " is not the sum of every rank's");
  }
  return ok ? 0 : 1;
}

int broadcast_parameters(ProcessGroup& group) {
  std::vector<torch::Tensor> parameters;
  for (const auto& tensor : sample_tensors(100 + group.rank())) {
    parameters.push_back(tensor.detach().requires_grad_(true));
  }
  std::vector<void*> addresses;
  for (const auto& parameter : parameters) addresses.push_back(parameter.data_ptr());
  broadcast_from_rank0_in_buckets(group, parameters, /*bucket_bytes=*/4096);
  const auto rank0 = sample_tensors(100);
  bool ok = true;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const std::string name = "parameter " + std::to_string(i);
    ok &= check(torch::equal(parameters[i].detach(), rank0[i]), name + " is not rank 0's");
    ok &= check(parameters[i].requires_grad(), name + " no longer requires grad");
    ok &= check(parameters[i].data_ptr() == addresses[i], name + " was replaced, not overwritten");
  }
  return ok ? 0 : 1;
}

int scalars(ProcessGroup& group) {
  const int rank = group.rank();
  const int size = group.world_size();
  bool ok = check(sum_over_ranks(group, int64_t{10} * (rank + 1)) == 5 * size * (size + 1),
                  "sum of 10 * (rank + 1)");
  // Quarters add up exactly in float64, so == is the right test.
  ok &= check(sum_over_ranks(group, 0.25 * (rank + 1)) == 0.125 * size * (size + 1),
              "sum of 0.25 * (rank + 1)");
  ok &= check(any_rank(group, rank == size - 1), "a flag set on the last rank only");
  ok &= check(!any_rank(group, false), "a flag set on no rank");
  return ok ? 0 : 1;
}

int same_settings(ProcessGroup& group) {
  check_same_on_all_ranks(group, "config", "model:\n  d_model: 256\n");
  return 0;
}

int different_settings(ProcessGroup& group) {
  check_same_on_all_ranks(group, "config", group.rank() == 1 ? "d_model: 512" : "d_model: 256");
  return check(false, "ranks with different configs went on") ? 0 : 1;
}

// `victim` kills itself (SIGKILL) after one all_reduce; the others go on until one fails and
// print how long the failing call took ("elapsed_ms=N") before the error.
int lose_rank(ProcessGroup& group, int victim) {
  const auto tensor = torch::ones({1024});
  auto start = Clock::now();
  try {
    for (int step = 0; step < 100000; ++step) {
      start = Clock::now();
      group.all_reduce_sum({tensor});
      if (group.rank() == victim) ::raise(SIGKILL);
    }
  } catch (const std::exception&) {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    std::cerr << "elapsed_ms=" << elapsed.count() << "\n";
    throw;
  }
  return check(false, "all_reduce went on without rank " + std::to_string(victim)) ? 0 : 1;
}

// Not a test: the time of one all-reduce of a 7.6M-float gradient (about 30 MB), as one tensor
// and as 76 tensors of 100,000 in the default 25 MiB buckets. Median of 11 runs, on rank 0.
int time_all_reduce(ProcessGroup& group) {
  const auto whole = torch::randn({7'600'000});
  const auto parts = whole.clone().split(100'000);
  for (const auto& [name, tensors] : {std::pair{"one tensor", std::vector<torch::Tensor>{whole}},
                                      std::pair{"76 tensors", parts}}) {
    std::vector<double> milliseconds;
    for (int run = 0; run < 11; ++run) {
      sum_over_ranks(group, int64_t{0});  // start together
      const auto start = Clock::now();
      all_reduce_sum_in_buckets(group, tensors);
      milliseconds.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(milliseconds.begin(), milliseconds.end());
    if (group.rank() == 0) {
      std::cout << "all_reduce of 7,600,000 float32 (" << name << ") over " << group.world_size()
                << " ranks: median " << milliseconds[5] << " ms (min " << milliseconds.front()
                << ", max " << milliseconds.back() << ") of 11 runs\n";
    }
  }
  return 0;
}

// Median milliseconds of 11 calls of all_reduce_sum_in_buckets on `tensors`, after one warm-up;
// every call starts together (a small all-reduce before it).
double median_all_reduce_ms(ProcessGroup& group, const std::vector<torch::Tensor>& tensors) {
  std::vector<double> milliseconds;
  for (int run = 0; run < 12; ++run) {
    sum_over_ranks(group, int64_t{0});  // start together
    const auto start = Clock::now();
    all_reduce_sum_in_buckets(group, tensors);
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (run > 0) milliseconds.push_back(elapsed);  // run 0 is the warm-up
  }
  std::sort(milliseconds.begin(), milliseconds.end());
  return milliseconds[5];
}

// Not a test: all-reduce time against message size, from 1 KiB to a 60M-float gradient (240 MB),
// as one tensor and as tensors of 100,000 floats in the default 25 MiB buckets (what the trainer
// sends: flatten, all-reduce, copy back). One line per size on rank 0: bytes, median ms of 11
// calls and algorithm bandwidth (bytes / time, 1 GB = 1e9 bytes) for each form.
int all_reduce_sweep(ProcessGroup& group) {
  const std::vector<int64_t> sizes = {
      256, 4096, 65'536, 262'144, 1'048'576, 4'194'304, 7'600'000, 16'777'216, 60'000'000};
  if (group.rank() == 0) {
    std::cout << "all_reduce_sum_in_buckets of float32 over " << group.world_size()
              << " ranks, median of 11 calls after one warm-up\n"
              << "bytes  one-tensor-ms  one-tensor-GB/s  100k-pieces-ms  100k-pieces-GB/s\n";
  }
  for (const int64_t floats : sizes) {
    const auto whole = torch::randn({floats});
    const auto pieces = whole.clone().split(100'000);
    const double bytes = 4.0 * static_cast<double>(floats);
    const double whole_ms = median_all_reduce_ms(group, {whole});
    const double pieces_ms = median_all_reduce_ms(group, pieces);
    if (group.rank() == 0) {
      std::cout << static_cast<int64_t>(bytes) << "  " << whole_ms << "  " << bytes / whole_ms / 1e6
                << "  " << pieces_ms << "  " << bytes / pieces_ms / 1e6 << std::endl;
    }
  }
  return 0;
}

int run_scenario(const std::string& name, ProcessGroup& group) {
  const std::map<std::string, std::function<int(ProcessGroup&)>> scenarios = {
      {"all_reduce_in_buckets", all_reduce_in_buckets},
      {"broadcast_parameters", broadcast_parameters},
      {"scalars", scalars},
      {"same_settings", same_settings},
      {"different_settings", different_settings},
      {"lose_rank_0", [](ProcessGroup& g) { return lose_rank(g, 0); }},
      {"lose_rank_1", [](ProcessGroup& g) { return lose_rank(g, 1); }},
      {"time_all_reduce", time_all_reduce},
      {"all_reduce_sweep", all_reduce_sweep}};
  const auto scenario = scenarios.find(name);
  if (scenario == scenarios.end()) throw std::runtime_error("unknown scenario " + name);
  return scenario->second(group);
}

}  // namespace
}  // namespace qkv

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: qkv_dist_test_ranks SCENARIO (with RANK, WORLD_SIZE, MASTER_ADDR, "
                 "MASTER_PORT set)\n";
    return 2;
  }
  try {
    const char* timeout_text = std::getenv("QKV_DIST_TEST_TIMEOUT_MS");
    const std::chrono::milliseconds timeout(timeout_text ? std::stoll(timeout_text) : 10000);
    qkv::ProcessGroup group(qkv::distributed_env_from_process(), timeout);
    return qkv::run_scenario(argv[1], group);
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 2;
  }
}
