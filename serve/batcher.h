// The request queue of `qkv serve` and the one worker thread that owns the model. HTTP threads
// submit jobs and wait for them; the worker gathers the texts of waiting requests and decodes
// them together (a batch of 32 sentences costs little more than one), so requests are batched
// across clients:
//  - the oldest request waits at most max_wait for others to join (counted from its arrival
//    or, when it queued while the worker was busy, from when the worker became free), less
//    when gather_batches x max_batch_tokens are waiting;
//  - only texts of requests with the same search settings (beam, n-best, length penalty,
//    length limit) are gathered together, round-robin across those requests, so that one
//    request of many texts cannot starve the ones behind it;
//  - the gathered texts are sorted by length and decoded in batches of at most
//    max_batch_tokens (source tokens x beam, padded), as `qkv translate --input` does;
//  - tasks that need the model alone (attention maps) run in arrival order between batches;
//  - the queue holds at most max_queue requests; submit() refuses more (the server answers 503).
// Not here: HTTP, JSON, time limits per request (the caller waits with a timeout and cancels).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "inference/translator.h"

namespace qkv {

/// Translates texts as Translator::translate does (tests pass a fake).
using DecodeFunction =
    std::function<std::vector<std::vector<Translation>>(const std::vector<std::string>& texts,
                                                        const TranslateOptions& options,
                                                        std::vector<int64_t>* truncated)>;
/// Source tokens of a text as the model reads it (the batch budget counts them).
using CountFunction = std::function<int64_t(const std::string& text)>;
/// Told the size of every gathered batch: texts and source tokens x beam.
using BatchObserver = std::function<void(int64_t texts, int64_t tokens)>;

struct BatcherOptions {
  int64_t max_batch_tokens = 1024;        ///< padded source tokens x beam per decoding batch
  int64_t gather_batches = 8;             ///< at most this many decoding batches gathered at once
  std::chrono::milliseconds max_wait{5};  ///< longest a request waits for others to join
  int64_t max_queue = 256;                ///< requests waiting; submit() refuses more
  int64_t max_source_tokens = 0;          ///< longer sources are cut (0: the model's limit)
};

/// One submitted request. The HTTP thread waits on it; the worker fills it.
class Job {
 public:
  /// True once the job is finished (results, or error() set) within `timeout`.
  bool wait_for(std::chrono::milliseconds timeout);
  /// Gives the job up: the worker skips whatever of it has not started.
  void cancel() { cancelled_ = true; }
  /// Why the job failed ("" when it did not). Read after wait_for() returned true.
  const std::string& error() const { return error_; }
  /// True when error() comes from bad input (std::invalid_argument), not from the server.
  bool bad_input() const { return bad_input_; }
  /// Per text, its hypotheses (best first). Read after wait_for() returned true.
  const std::vector<std::vector<Translation>>& translations() const { return translations_; }
  /// Per text, whether its source was cut to the longest source the model reads.
  const std::vector<bool>& truncated() const { return truncated_; }

 private:
  friend class Batcher;
  void finish(const std::string& error);

  std::vector<std::string> texts_;  // a translation job...
  TranslateOptions options_;
  std::string group_;           // search settings: texts batch only with equal groups
  std::vector<int64_t> cost_;   // per text: (source tokens + eos) x beam
  size_t next_ = 0;             // first text not yet given to a batch (worker only)
  size_t pending_ = 0;          // texts not yet translated (worker only)
  std::function<void()> task_;  // ...or a task that needs the model alone
  std::chrono::steady_clock::time_point queued_;
  std::atomic<bool> cancelled_{false};
  std::vector<std::vector<Translation>> translations_;
  std::vector<bool> truncated_;
  std::string error_;
  bool bad_input_ = false;
  std::mutex mutex_;
  std::condition_variable finished_cv_;
  bool finished_ = false;
};

class Batcher {
 public:
  Batcher(DecodeFunction decode,
          CountFunction count,
          BatcherOptions options,
          BatchObserver observer);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  /// Queues `texts` for translation with `options`; nullptr when the queue is full or the
  /// batcher is stopping.
  std::shared_ptr<Job> submit(std::vector<std::string> texts, const TranslateOptions& options);
  /// Queues `task`, run on the worker thread alone (it may use the model); nullptr when full.
  /// An exception it throws becomes the job's error() (std::invalid_argument: bad_input()).
  std::shared_ptr<Job> submit_task(std::function<void()> task);

  /// Requests waiting (not yet wholly given to a batch).
  int64_t queue_depth() const;
  /// Requests queued since the start (each was or will be finished).
  int64_t accepted() const;
  /// Finishes every queued job, then ends the worker. Later submits return nullptr.
  void stop();

 private:
  std::shared_ptr<Job> enqueue(std::shared_ptr<Job> job);
  void run();
  void drop_cancelled();
  void wait_for_batch(std::unique_lock<std::mutex>& lock);
  int64_t group_cost(const std::string& group) const;
  int64_t gather_budget() const { return options_.max_batch_tokens * options_.gather_batches; }
  std::vector<std::pair<std::shared_ptr<Job>, size_t>> take_batch();
  void decode_batch(const std::vector<std::pair<std::shared_ptr<Job>, size_t>>& batch);

  DecodeFunction decode_;
  CountFunction count_;
  BatcherOptions options_;
  BatchObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  int64_t accepted_ = 0;
  std::chrono::steady_clock::time_point free_since_;  // when the worker last finished a batch
  std::thread worker_;
};

}  // namespace qkv
