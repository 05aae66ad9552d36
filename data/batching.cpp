// Token-budget batching (see batching.h). The shuffle uses std::mt19937_64 (its output is
// fixed by the C++ standard) with our own Fisher-Yates and bounded draws, because
// std::shuffle and std::uniform_int_distribution may differ between standard libraries.
#include "data/batching.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>

#include "data/special_tokens.h"

namespace qkv {
namespace {

// Positions an example fills: source + eos, and bos + target (= target + eos).
int64_t source_positions(const Example& e) { return static_cast<int64_t>(e.source.size()) + 1; }
int64_t target_positions(const Example& e) { return static_cast<int64_t>(e.target.size()) + 1; }
int64_t longer_side(const Example& e) { return std::max(source_positions(e), target_positions(e)); }

// SplitMix64 finaliser: spreads (seed, epoch) over the generator's seed space.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Uniform draw in [0, bound) by rejection, identical on every platform.
uint64_t draw_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % bound;
  uint64_t value = rng();
  while (value >= limit) value = rng();
  return value % bound;
}

template <class T>
void fisher_yates(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[draw_below(rng, i)]);
  }
}

void check_examples(const std::vector<Example>& examples, int64_t max_tokens) {
  if (max_tokens <= 0) {
    throw std::invalid_argument("max_tokens must be positive, got " + std::to_string(max_tokens));
  }
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (examples[i].source.empty() || examples[i].target.empty()) {
      throw std::invalid_argument("example " + std::to_string(i) +
                                  " has an empty side; drop it before batching (encode_corpus "
                                  "does)");
    }
    if (longer_side(examples[i]) > max_tokens) {
      throw std::invalid_argument("example " + std::to_string(i) + " needs " +
                                  std::to_string(longer_side(examples[i])) +
                                  " positions, more than max_tokens " + std::to_string(max_tokens) +
                                  "; raise max_tokens or lower the length limit");
    }
  }
}

// Copies `rows` (each already with its bos/eos) into a pad-filled [B, L] int64 tensor.
torch::Tensor pad_rows(const std::vector<std::vector<int64_t>>& rows) {
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.size());
  auto tensor = torch::full({static_cast<int64_t>(rows.size()), static_cast<int64_t>(width)},
                            kPadId,
                            torch::kInt64);  // [B, L]
  auto cells = tensor.accessor<int64_t, 2>();
  for (std::size_t b = 0; b < rows.size(); ++b) {
    for (std::size_t t = 0; t < rows[b].size(); ++t) {
      cells[static_cast<int64_t>(b)][static_cast<int64_t>(t)] = rows[b][t];
    }
  }
  return tensor;
}

}  // namespace

std::vector<std::vector<int64_t>> plan_batches(const std::vector<Example>& examples,
                                               const BatchingOptions& options,
                                               int64_t epoch) {
  check_examples(examples, options.max_tokens);
  std::mt19937_64 rng(mix(options.seed ^ mix(static_cast<uint64_t>(epoch))));

  // 1. Order by length; a shuffle first makes the order among equal lengths random.
  std::vector<int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  if (options.shuffle) fisher_yates(order, rng);
  const auto key = [&](int64_t i) {
    return std::make_tuple(
        longer_side(examples[i]), target_positions(examples[i]), source_positions(examples[i]));
  };
  std::stable_sort(
      order.begin(), order.end(), [&](int64_t a, int64_t b) { return key(a) < key(b); });

  // 2. Pack greedily: lengths only grow along `order`, so the newest example sets the width.
  std::vector<std::vector<int64_t>> batches;
  std::vector<int64_t> current;
  for (const int64_t i : order) {
    const int64_t width = longer_side(examples[i]);
    if (!current.empty() && width * static_cast<int64_t>(current.size() + 1) > options.max_tokens) {
      batches.push_back(std::move(current));
      current.clear();
    }
    current.push_back(i);
  }
  if (!current.empty()) batches.push_back(std::move(current));

  // 3. Without this, every epoch would run from the shortest to the longest sentences.
  if (options.shuffle) fisher_yates(batches, rng);
  return batches;
}

Batch collate(const std::vector<Example>& examples, const std::vector<int64_t>& indices) {
  if (indices.empty()) throw std::invalid_argument("cannot collate an empty batch");
  std::vector<std::vector<int64_t>> src_rows, tgt_in_rows, tgt_out_rows;
  Batch batch;
  for (const int64_t i : indices) {
    if (i < 0 || i >= static_cast<int64_t>(examples.size())) {
      throw std::out_of_range("example index " + std::to_string(i) + " outside [0, " +
                              std::to_string(examples.size()) + ")");
    }
    const Example& example = examples[static_cast<std::size_t>(i)];
    if (example.source.empty() || example.target.empty()) {
      throw std::invalid_argument("example " + std::to_string(i) + " has an empty side");
    }
    std::vector<int64_t> src = example.source;
    src.push_back(kEosId);
    std::vector<int64_t> tgt_in{kBosId};
    tgt_in.insert(tgt_in.end(), example.target.begin(), example.target.end());
    std::vector<int64_t> tgt_out = example.target;
    tgt_out.push_back(kEosId);
    batch.num_target_tokens += static_cast<int64_t>(tgt_out.size());
    src_rows.push_back(std::move(src));
    tgt_in_rows.push_back(std::move(tgt_in));
    tgt_out_rows.push_back(std::move(tgt_out));
  }
  batch.src = pad_rows(src_rows);          // [B, S]
  batch.tgt_in = pad_rows(tgt_in_rows);    // [B, T]
  batch.tgt_out = pad_rows(tgt_out_rows);  // [B, T]
  batch.example_indices = indices;
  return batch;
}

Batch to_device(const Batch& batch, torch::Device device) {
  Batch moved = batch;
  moved.src = batch.src.to(device);
  moved.tgt_in = batch.tgt_in.to(device);
  moved.tgt_out = batch.tgt_out.to(device);
  return moved;
}

torch::Tensor make_source_tensor(const std::vector<std::vector<int64_t>>& sources) {
  if (sources.empty()) throw std::invalid_argument("no source sequences to batch");
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(sources.size());
  for (const auto& source : sources) {
    if (source.empty()) throw std::invalid_argument("cannot batch an empty source sequence");
    rows.push_back(source);
    rows.back().push_back(kEosId);
  }
  return pad_rows(rows);  // [B, S]
}

BatchStream::BatchStream(std::vector<Example> examples,
                         BatchingOptions options,
                         BatchPosition start)
    : examples_(std::move(examples)), options_(options), position_(start) {
  if (examples_.empty()) throw std::invalid_argument("no training examples to batch");
  if (start.epoch < 0) {
    throw std::invalid_argument("start epoch must be >= 0, got " + std::to_string(start.epoch));
  }
  plan_epoch(start.epoch);
  if (start.batch < 0 || start.batch >= batches_per_epoch()) {
    throw std::invalid_argument("start batch " + std::to_string(start.batch) + " outside [0, " +
                                std::to_string(batches_per_epoch()) + ") batches per epoch");
  }
}

void BatchStream::plan_epoch(int64_t epoch) {
  plan_ = plan_batches(examples_, options_, epoch);
  planned_epoch_ = epoch;
}

Batch BatchStream::next() {
  if (planned_epoch_ != position_.epoch) plan_epoch(position_.epoch);
  Batch batch = collate(examples_, plan_[static_cast<std::size_t>(position_.batch)]);
  if (++position_.batch == batches_per_epoch()) {
    position_.batch = 0;
    ++position_.epoch;
  }
  return batch;
}

}  // namespace qkv
