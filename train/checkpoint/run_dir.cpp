// The run directory's checkpoint bookkeeping (see run_dir.h): listing, resolving, pruning and
// marking the best step checkpoint.
#include "train/checkpoint/run_dir.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "data/io/atomic_file.h"

namespace qkv {
namespace fs = std::filesystem;

namespace {

// The step of "step-<N>.pt", or -1 for any other name.
int64_t step_of(const fs::path& path) {
  const std::string name = path.filename().string();
  if (name.rfind("step-", 0) != 0 || path.extension() != ".pt") return -1;
  const std::string digits = name.substr(5, name.size() - 5 - 3);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::stoll(digits);
}

}  // namespace

fs::path RunDir::step_checkpoint(int64_t step) const {
  return checkpoints() / ("step-" + std::to_string(step) + ".pt");
}

std::vector<fs::path> RunDir::step_checkpoints() const {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(checkpoints(), error)) {
    const int64_t step = step_of(entry.path());
    if (step >= 0 && entry.is_regular_file()) found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  for (auto& item : found) paths.push_back(std::move(item.second));
  return paths;
}

std::optional<fs::path> RunDir::latest_checkpoint() const {
  auto all = step_checkpoints();
  if (all.empty()) return std::nullopt;
  return all.back();
}

fs::path RunDir::resolve_checkpoint(const std::string& which) const {
  if (which == "best") {
    if (fs::exists(best_checkpoint())) return best_checkpoint();
    if (auto last = latest_checkpoint()) return *last;  // no validation has run yet
  } else if (which == "last") {
    if (auto last = latest_checkpoint()) return *last;
  } else if (which == "average") {
    if (fs::exists(average_checkpoint())) return average_checkpoint();
    if (fs::is_directory(root_)) {
      throw std::runtime_error("run directory " + root_.string() +
                               " has no average.pt (make one: qkv average --model " +
                               root_.string() + ")");
    }
  } else {
    if (fs::exists(which)) return which;
    throw std::runtime_error("checkpoint " + which +
                             " does not exist (use best, last, average or a path)");
  }
  if (!fs::is_directory(root_)) {
    throw std::runtime_error("run directory " + root_.string() + " does not exist");
  }
  throw std::runtime_error("run directory " + root_.string() +
                           " has no checkpoint (train first: qkv train --run-dir " +
                           root_.string() + ")");
}

void RunDir::prune_step_checkpoints(int64_t keep) const {
  auto all = step_checkpoints();
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) fs::remove(all[i]);
}

void RunDir::mark_best(const fs::path& checkpoint) const {
  link_file_atomically(checkpoint, best_checkpoint());
}

}  // namespace qkv
