#include "app/dist_training_group.h"

#include "dist/agreement.h"
#include "dist/gradient_buckets.h"
#include "dist/process_group.h"
#include "dist/shared_bytes.h"

namespace qkv {
namespace {

class DistTrainingGroup final : public TrainingGroup {
 public:
  DistTrainingGroup(const DistributedEnv& env, std::chrono::milliseconds timeout)
      : group_(env, timeout) {}

  int rank() const override { return group_.rank(); }
  int world_size() const override { return group_.world_size(); }

  void all_reduce_sum(const std::vector<torch::Tensor>& tensors) override {
    all_reduce_sum_in_buckets(group_, tensors);
  }
  void broadcast_from_rank0(const std::vector<torch::Tensor>& tensors) override {
    broadcast_from_rank0_in_buckets(group_, tensors);
  }
  std::string share_from_rank0(const std::string& name, std::string bytes) override {
    return share_bytes_from_rank0(group_, name, std::move(bytes));
  }
  void check_same(const std::string& what, const std::string& text) override {
    check_same_on_all_ranks(group_, what, text);
  }

 private:
  ProcessGroup group_;
};

}  // namespace

std::unique_ptr<TrainingGroup> join_training_group(const DistributedEnv& env,
                                                   std::chrono::milliseconds timeout) {
  return std::make_unique<DistTrainingGroup>(env, timeout);
}

}  // namespace qkv
