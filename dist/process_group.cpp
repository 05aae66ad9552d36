// ProcessGroup on c10d: TCPStore for the rendezvous, ProcessGroupGloo for the collectives.
// Both throw LibTorch's own errors (several lines, with a C++ backtrace); they become one line
// here, saying which rank failed, where, and why.
#include "dist/process_group.h"

#include <signal.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "dist/c10d_compat.h"
#include "dist/collective_error.h"

namespace qkv {
namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// The network interface Gloo sends on. On one machine (master on loopback) that is loopback;
// across machines GLOO_SOCKET_IFNAME picks one as in PyTorch, else Gloo resolves this host's
// name.
std::shared_ptr<gloo::transport::Device> gloo_device_for(const DistributedEnv& env) {
  if (is_loopback(env.master_addr)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// Gloo writes to its sockets with writev(), so writing to a peer that died raises SIGPIPE, whose
// default action ends this process before Gloo can report the lost peer. Python ignores SIGPIPE
// at start-up, which is why torch.distributed never meets this; so do we, unless the program
// already handles the signal.
void ignore_sigpipe_unless_handled() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    ::signal(SIGPIPE, SIG_IGN);
  }
}

}  // namespace

struct ProcessGroup::Impl {
  DistributedEnv env;
  std::chrono::milliseconds timeout;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;

  // Waits for every started collective; the first failure becomes one line.
  void wait_all(const char* operation, const std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
    try {
      for (const auto& work : works) work->wait();
    } catch (const std::exception& error) {
      throw std::runtime_error(describe_collective_failure(
          operation, env.rank, env.world_size, timeout, short_cause(error)));
    }
  }
};

ProcessGroup::ProcessGroup(const DistributedEnv& env, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  TORCH_CHECK(env.is_distributed(), "ProcessGroup needs WORLD_SIZE > 1, got ", env.describe());
  impl_->env = env;
  impl_->timeout = timeout;
  ignore_sigpipe_unless_handled();
  try {
    // Rank 0 serves the store, unless torchrun's agent does; every rank connects to it.
    const bool serve = env.rank == 0 && !env.agent_store;
    c10::intrusive_ptr<c10d::Store> tcp = c10::make_intrusive<c10d::TCPStore>(
        env.master_addr,
        c10d_compat::tcp_store_options(env.master_port, serve, env.world_size, timeout));
    impl_->store = tcp;
    if (env.agent_store) {
      impl_->store = c10::make_intrusive<c10d::PrefixStore>(
          "/worker/attempt_" + std::to_string(env.restart_count), tcp);
    }
    // Gloo exchanges its addresses through the store and connects every pair of ranks.
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(gloo_device_for(env));
    impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(
        impl_->store, env.rank, env.world_size, options);
  } catch (const std::exception& error) {
    throw std::runtime_error(describe_rendezvous_failure(env, timeout, short_cause(error)));
  }
}

ProcessGroup::~ProcessGroup() = default;

int ProcessGroup::rank() const { return impl_->env.rank; }

int ProcessGroup::world_size() const { return impl_->env.world_size; }

void ProcessGroup::all_reduce_sum(const std::vector<torch::Tensor>& tensors) {
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (const auto& tensor : tensors) {
    std::vector<torch::Tensor> one = {tensor};  // one Gloo call per tensor (per bucket)
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    works.push_back(impl_->gloo->allreduce(one, options));
  }
  impl_->wait_all("all_reduce", works);
}

void ProcessGroup::broadcast_from_rank0(const std::vector<torch::Tensor>& tensors) {
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (const auto& tensor : tensors) {
    std::vector<torch::Tensor> one = {tensor};
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    works.push_back(impl_->gloo->broadcast(one, options));
  }
  impl_->wait_all("broadcast", works);
}

torch::Tensor ProcessGroup::all_gather(const torch::Tensor& tensor) {
  std::vector<torch::Tensor> input = {tensor.contiguous()};
  std::vector<std::vector<torch::Tensor>> outputs(1);
  for (int rank = 0; rank < world_size(); ++rank) outputs[0].push_back(torch::empty_like(input[0]));
  impl_->wait_all("all_gather", {impl_->gloo->allgather(outputs, input)});
  return torch::stack(outputs[0]);
}

void ProcessGroup::wait_for_rank0(const std::string& name) {
  // A day: long enough for any validation, short of "for ever" if rank 0 hangs without dying.
  constexpr std::chrono::hours kLongWait{24};
  const std::string key = "qkv/after-rank0/" + name;
  try {
    if (rank() == 0) {
      impl_->store->set(key, std::vector<uint8_t>{1});
    } else {
      impl_->store->wait({key}, kLongWait);
    }
  } catch (const std::exception& error) {
    throw std::runtime_error(describe_collective_failure(
        "wait for rank 0", rank(), world_size(), kLongWait, short_cause(error)));
  }
}

}  // namespace qkv
