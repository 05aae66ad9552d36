#include "app/launched_group.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "app/process_settings.h"

#ifdef QKV_HAVE_DIST
#include "app/dist_training_group.h"
#include "dist/distributed_env.h"
#endif

namespace qkv {

std::unique_ptr<TrainingGroup> join_group_if_launched(int64_t timeout_s, const std::string& tag) {
#ifdef QKV_HAVE_DIST
  const DistributedEnv env = distributed_env_from_process();
  if (!env.is_distributed()) return nullptr;
  if (env.rank > 0 && spdlog::get_level() < spdlog::level::warn) {
    spdlog::set_level(spdlog::level::warn);
  }
  if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr) {
    set_blas_threads(
        blas_threads_per_rank(std::thread::hardware_concurrency(), env.local_world_size));
  }
  auto group = join_training_group(env, std::chrono::seconds(timeout_s));
  spdlog::info("[{}] data-parallel: {}, timeout {} s", tag, env.describe(), timeout_s);
  return group;
#else
  (void)timeout_s;
  (void)tag;
  const char* world = std::getenv("WORLD_SIZE");
  if (world != nullptr && std::atoi(world) > 1) {
    throw std::runtime_error(
        "WORLD_SIZE > 1 but this qkv was built without data-parallel training (Gloo's headers "
        "were missing: apt-get install libgloo-dev, then rebuild)");
  }
  return nullptr;
#endif
}

}  // namespace qkv
