// serve/batcher: requests batched together within the wait and the token budget, grouped by
// search settings, round-robin across requests, a bounded queue, cancelled jobs skipped, tasks
// run alone, everything queued finished at stop. A fake decoder records each batch.
#include "serve/batcher.h"

#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>
#include <thread>

namespace qkv {
namespace {

using namespace std::chrono_literals;

struct FakeModel {
  std::mutex mutex;
  std::vector<std::vector<std::string>> batches;  // texts of each batch, as decoded
  std::vector<int64_t> beams;
  std::chrono::milliseconds delay{0};  // time each batch takes

  DecodeFunction decode() {
    return [this](const std::vector<std::string>& texts,
                  const TranslateOptions& options,
                  std::vector<int64_t>*) {
      std::this_thread::sleep_for(delay);
      std::lock_guard<std::mutex> lock(mutex);
      batches.push_back(texts);
      beams.push_back(options.decode.beam_size);
      std::vector<std::vector<Translation>> out;
      for (const auto& text : texts) out.push_back({Translation{"<" + text + ">", {}, -1.0, -1.0}});
      return out;
    };
  }
};

// One token per character: the budget is easy to reason about.
CountFunction count() {
  return [](const std::string& text) { return static_cast<int64_t>(text.size()); };
}

TranslateOptions beam(int64_t size) {
  TranslateOptions options;
  options.decode.beam_size = size;
  return options;
}

BatcherOptions waiting(std::chrono::milliseconds wait, int64_t budget = 4096) {
  BatcherOptions options;
  options.max_wait = wait;
  options.max_batch_tokens = budget;
  return options;
}

TEST(Batcher, RequestsArrivingWithinTheWaitShareOneBatchAndGetTheirOwnAnswers) {
  FakeModel model;
  Batcher batcher(model.decode(), count(), waiting(300ms), nullptr);
  auto a = batcher.submit({"a", "bb"}, beam(1));
  auto b = batcher.submit({"ccc"}, beam(1));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->wait_for(5s));
  ASSERT_TRUE(b->wait_for(5s));
  ASSERT_EQ(model.batches.size(), 1u);
  EXPECT_EQ(model.batches[0].size(), 3u);
  EXPECT_EQ(a->translations()[0][0].text, "<a>");
  EXPECT_EQ(a->translations()[1][0].text, "<bb>");
  EXPECT_EQ(b->translations()[0][0].text, "<ccc>");
  EXPECT_EQ(batcher.accepted(), 2);
}

TEST(Batcher, DifferentSearchSettingsNeverShareABatch) {
  FakeModel model;
  Batcher batcher(model.decode(), count(), waiting(200ms), nullptr);
  auto a = batcher.submit({"a"}, beam(1));
  auto b = batcher.submit({"b"}, beam(4));
  auto c = batcher.submit({"c"}, beam(1));
  for (auto* job : {&a, &b, &c}) ASSERT_TRUE((*job)->wait_for(5s));
  ASSERT_EQ(model.batches.size(), 2u);
  EXPECT_EQ(model.batches[0], (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(model.beams[0], 1);
  EXPECT_EQ(model.batches[1], (std::vector<std::string>{"b"}));
  EXPECT_EQ(model.beams[1], 4);
}

TEST(Batcher, ABigRequestDoesNotStarveASmallOne) {
  FakeModel model;
  model.delay = 100ms;
  // Budget 8 tokens: 4 texts of 1 character (+ eos = 2 tokens each) per batch. The big
  // request fills the first batch at once; the small one arrives while it is decoded.
  BatcherOptions options = waiting(200ms, 8);
  options.gather_batches = 1;
  Batcher batcher(model.decode(), count(), options, nullptr);
  auto big = batcher.submit(std::vector<std::string>(10, "x"), beam(1));
  std::this_thread::sleep_for(30ms);
  auto small = batcher.submit({"y"}, beam(1));
  ASSERT_TRUE(big->wait_for(5s) && small->wait_for(5s));
  ASSERT_EQ(model.batches.size(), 3u);
  // Round-robin: the small request rides in the next batch, not after the whole big one.
  EXPECT_EQ(model.batches[0], (std::vector<std::string>{"x", "x", "x", "x"}));
  EXPECT_EQ(model.batches[1], (std::vector<std::string>{"x", "y", "x", "x"}));
  EXPECT_EQ(model.batches[2], (std::vector<std::string>{"x", "x", "x"}));
  EXPECT_EQ(big->translations().size(), 10u);
}

TEST(Batcher, AFullQueueRefusesAndCancelledJobsAreSkipped) {
  FakeModel model;
  BatcherOptions options = waiting(400ms);
  options.max_queue = 2;
  Batcher batcher(model.decode(), count(), options, nullptr);
  auto a = batcher.submit({"a"}, beam(1));
  auto b = batcher.submit({"b"}, beam(2));
  EXPECT_EQ(batcher.submit({"c"}, beam(1)), nullptr);  // full
  EXPECT_EQ(batcher.queue_depth(), 2);
  b->cancel();
  ASSERT_TRUE(a->wait_for(5s));
  ASSERT_TRUE(b->wait_for(5s));
  EXPECT_EQ(b->error(), "cancelled");
  ASSERT_EQ(model.batches.size(), 1u);
  EXPECT_EQ(model.batches[0], (std::vector<std::string>{"a"}));
}

TEST(Batcher, TasksRunAloneAndBadInputIsTold) {
  FakeModel model;
  Batcher batcher(model.decode(), count(), waiting(1ms), nullptr);
  int ran = 0;
  auto ok = batcher.submit_task([&] { ++ran; });
  auto bad = batcher.submit_task([] { throw std::invalid_argument("text: has no tokens"); });
  auto broken = batcher.submit_task([] { throw std::runtime_error("disk"); });
  ASSERT_TRUE(ok->wait_for(5s) && bad->wait_for(5s) && broken->wait_for(5s));
  EXPECT_EQ(ran, 1);
  EXPECT_TRUE(ok->error().empty());
  EXPECT_EQ(bad->error(), "text: has no tokens");
  EXPECT_TRUE(bad->bad_input());
  EXPECT_EQ(broken->error(), "disk");
  EXPECT_FALSE(broken->bad_input());
}

TEST(Batcher, StopFinishesEverythingQueuedThenRefuses) {
  FakeModel model;
  std::vector<int64_t> observed;
  Batcher batcher(model.decode(), count(), waiting(10s), [&](int64_t texts, int64_t) {
    observed.push_back(texts);
  });
  auto a = batcher.submit({"a", "b"}, beam(1));
  batcher.stop();  // does not wait the 10 s
  ASSERT_TRUE(a->wait_for(0ms));
  EXPECT_EQ(a->translations()[1][0].text, "<b>");
  EXPECT_EQ(observed, (std::vector<int64_t>{2}));
  EXPECT_EQ(batcher.submit({"c"}, beam(1)), nullptr);
}

TEST(Batcher, AnEmptyRequestIsFinishedAtOnce) {
  FakeModel model;
  Batcher batcher(model.decode(), count(), waiting(1ms), nullptr);
  auto job = batcher.submit({}, beam(1));
  ASSERT_TRUE(job->wait_for(0ms));
  EXPECT_TRUE(model.batches.empty());
}

}  // namespace
}  // namespace qkv
