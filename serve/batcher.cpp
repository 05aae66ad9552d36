// Batcher (see batcher.h): the queue, the batch rule and the worker loop.
#include "serve/batcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <stdexcept>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace qkv {
namespace {

using Piece = std::pair<std::shared_ptr<Job>, size_t>;  // a job and one of its texts

// Texts batch together only when every setting of their search is the same.
std::string search_group(const TranslateOptions& o) {
  const DecodeConfig& d = o.decode;
  return fmt::format("{} {} {} {} {} {} {}",
                     d.beam_size,
                     o.n_best,
                     d.length_penalty_alpha,
                     static_cast<int>(d.length_penalty_type),
                     d.max_length_a,
                     d.max_length_b,
                     o.max_output_tokens);
}

}  // namespace

bool Job::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return finished_cv_.wait_for(lock, timeout, [&] { return finished_; });
}

void Job::finish(const std::string& error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = error;
    finished_ = true;
  }
  finished_cv_.notify_all();
}

Batcher::Batcher(DecodeFunction decode,
                 CountFunction count,
                 BatcherOptions options,
                 BatchObserver observer)
    : decode_(std::move(decode)),
      count_(std::move(count)),
      options_(options),
      observer_(std::move(observer)) {
  worker_ = std::thread([this] { run(); });
}

Batcher::~Batcher() { stop(); }

std::shared_ptr<Job> Batcher::submit(std::vector<std::string> texts,
                                     const TranslateOptions& options) {
  auto job = std::make_shared<Job>();
  job->options_ = options;
  job->group_ = search_group(options);
  const int64_t beam = std::max<int64_t>(1, options.decode.beam_size);
  for (const std::string& text : texts) {
    int64_t tokens = count_(text);
    if (options_.max_source_tokens > 0) tokens = std::min(tokens, options_.max_source_tokens);
    job->cost_.push_back((tokens + 1) * beam);  // + </s>
  }
  job->pending_ = texts.size();
  job->translations_.resize(texts.size());
  job->truncated_.resize(texts.size(), false);
  job->texts_ = std::move(texts);
  return enqueue(std::move(job));
}

std::shared_ptr<Job> Batcher::submit_task(std::function<void()> task) {
  auto job = std::make_shared<Job>();
  job->task_ = std::move(task);
  return enqueue(std::move(job));
}

std::shared_ptr<Job> Batcher::enqueue(std::shared_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || static_cast<int64_t>(queue_.size()) >= options_.max_queue) return nullptr;
    job->queued_ = std::chrono::steady_clock::now();
    if (!job->task_ && job->texts_.empty()) {
      job->finish("");  // nothing to translate
      return job;
    }
    queue_.push_back(job);
    ++accepted_;
  }
  changed_.notify_all();
  return job;
}

int64_t Batcher::queue_depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(queue_.size());
}

int64_t Batcher::accepted() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return accepted_;
}

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

// Given-up requests leave the queue; their texts already in a batch are decoded, the rest never.
void Batcher::drop_cancelled() {
  for (const auto& job : queue_) {
    if (job->cancelled_) job->finish("cancelled");
  }
  queue_.erase(
      std::remove_if(
          queue_.begin(), queue_.end(), [](const auto& job) { return job->cancelled_.load(); }),
      queue_.end());
}

// Source tokens x beam waiting for `group`.
int64_t Batcher::group_cost(const std::string& group) const {
  int64_t cost = 0;
  for (const auto& job : queue_) {
    if (job->task_ || job->group_ != group) continue;
    for (size_t i = job->next_; i < job->cost_.size(); ++i) cost += job->cost_[i];
  }
  return cost;
}

// The oldest request waits up to max_wait for others to join its batch, unless the batch is
// already full (or the batcher stops: then everything queued is decoded at once). The wait
// counts from when the worker was free to take the request: requests that queued up during a
// batch are joined by the clients that batch just answered (without this, 32 clients were
// served in alternating half batches: 16-27 texts per batch, 44 sentences/s; see README).
void Batcher::wait_for_batch(std::unique_lock<std::mutex>& lock) {
  const std::shared_ptr<Job> oldest = queue_.front();
  const auto since = std::max(oldest->queued_, free_since_);
  changed_.wait_until(lock, since + options_.max_wait, [&] {
    return stopping_ || group_cost(oldest->group_) >= gather_budget();
  });
}

// Texts of the oldest request's group, one per request per round (round-robin) while they
// stay within the gathering budget; always at least one text.
std::vector<Piece> Batcher::take_batch() {
  const std::string group = queue_.front()->group_;
  std::vector<Piece> batch;
  int64_t total = 0;
  for (bool took = true, full = false; took && !full;) {
    took = false;
    for (const auto& job : queue_) {
      if (job->task_ || job->group_ != group || job->next_ == job->texts_.size()) continue;
      const int64_t cost = job->cost_[job->next_];
      if (!batch.empty() && total + cost > gather_budget()) {
        full = true;
        break;
      }
      batch.emplace_back(job, job->next_++);
      total += cost;
      took = true;
    }
  }
  queue_.erase(std::remove_if(
                   queue_.begin(),
                   queue_.end(),
                   [](const auto& job) { return !job->task_ && job->next_ == job->texts_.size(); }),
               queue_.end());
  return batch;
}

// The gathered texts, sorted by length and decoded in batches of max_batch_tokens (Translator
// does both), each answer given to its job.
void Batcher::decode_batch(const std::vector<Piece>& batch) {
  std::vector<std::string> texts;
  int64_t total = 0;
  for (const auto& [job, i] : batch) {
    texts.push_back(job->texts_[i]);
    total += job->cost_[i];
  }
  TranslateOptions options = batch.front().first->options_;
  options.max_tokens = options_.max_batch_tokens;
  options.max_source_tokens = options_.max_source_tokens;
  std::vector<std::vector<Translation>> results;
  std::vector<int64_t> truncated;
  std::string error;
  try {
    results = decode_(texts, options, &truncated);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (observer_) observer_(static_cast<int64_t>(texts.size()), total);
  for (int64_t k : truncated) {
    const Piece& piece = batch[static_cast<size_t>(k)];
    piece.first->truncated_[piece.second] = true;
  }
  for (size_t k = 0; k < batch.size(); ++k) {
    Job& job = *batch[k].first;
    if (error.empty()) job.translations_[batch[k].second] = std::move(results[k]);
    if (!error.empty() && job.error_.empty()) job.error_ = error;
    if (--job.pending_ == 0) job.finish(job.error_);
  }
}

namespace {

// qkv keeps freed memory inside the process for reuse (app/process_settings.cpp: no trimming,
// no mmap), which suits training's fixed batch shapes. A server's shapes vary without end, so
// the free holes between live blocks only add up: resident memory rose 9-15% over 10-minute
// soaks (README, `qkv serve`). Every 10 s of work the model thread hands free pages back.
constexpr auto kReleaseFreeMemoryEvery = std::chrono::seconds(10);

void release_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace

void Batcher::run() {
  auto released = std::chrono::steady_clock::now();
  while (true) {
    std::shared_ptr<Job> task;
    std::vector<Piece> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      drop_cancelled();
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      if (queue_.front()->task_) {
        task = queue_.front();
        queue_.pop_front();
      } else {
        wait_for_batch(lock);
        batch = take_batch();
      }
    }
    if (task) {
      std::string error;
      try {
        task->task_();
      } catch (const std::invalid_argument& e) {
        error = e.what();
        task->bad_input_ = true;
      } catch (const std::exception& e) {
        error = e.what();
      }
      task->finish(error);
    } else if (!batch.empty()) {
      decode_batch(batch);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - released >= kReleaseFreeMemoryEvery) {
      release_free_memory();
      released = now;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    free_since_ = std::chrono::steady_clock::now();
  }
}

}  // namespace qkv
