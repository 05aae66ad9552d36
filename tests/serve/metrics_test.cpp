// serve/metrics: the Prometheus text of requests, latency and batch histograms, queue depth.
#include "serve/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace qkv {
namespace {

using ::testing::HasSubstr;

TEST(Histogram, BucketsAreCumulativeWithSumAndCount) {
  Histogram histogram({1, 10});
  for (double value : {0.5, 5.0, 50.0}) histogram.observe(value);
  const std::string text = histogram.text("x", "route=\"/a\",");
  EXPECT_THAT(text, HasSubstr("x_bucket{route=\"/a\",le=\"1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("x_bucket{route=\"/a\",le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("x_bucket{route=\"/a\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("x_sum{route=\"/a\"} 55.5\n"));
  EXPECT_THAT(text, HasSubstr("x_count{route=\"/a\"} 3\n"));
}

TEST(Metrics, ExpositionNamesEveryFamilyWithItsType) {
  Metrics metrics;
  metrics.observe_request("/v1/translate", 200, 0.02);
  metrics.observe_request("/v1/translate", 200, 0.03);
  metrics.observe_request("other", 404, 0.0001);
  metrics.observe_batch(3, 48);
  const std::string text = metrics.prometheus_text(7);
  EXPECT_THAT(text, HasSubstr("# TYPE qkv_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("qkv_requests_total{route=\"/v1/translate\",status=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("qkv_requests_total{route=\"other\",status=\"404\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE qkv_request_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("qkv_request_duration_seconds_count{route=\"/v1/translate\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("qkv_batch_texts_sum 3\n"));
  EXPECT_THAT(text, HasSubstr("qkv_batch_tokens_bucket{le=\"64\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE qkv_queue_depth gauge\nqkv_queue_depth 7\n"));
}

}  // namespace
}  // namespace qkv
