// Server metrics in the Prometheus text format (GET /metrics): requests by route and status,
// request latency and batch sizes as histograms, queue depth as a gauge. Thread-safe.
// Routes are the server's own names ("/v1/translate", or "other" for any unknown path), so
// that clients cannot grow the label set without bound.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace qkv {

/// Counts of observations at or below each upper bound, plus their sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  /// The histogram's lines for metric `name` with extra `labels` ("" or `route="/x",`).
  std::string text(const std::string& name, const std::string& labels) const;
  double sum() const { return sum_; }
  int64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> counts_;  // per bound, not cumulative
  double sum_ = 0;
  int64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  /// One answered request: its route, status and time from arrival to answer.
  void observe_request(const std::string& route, int status, double seconds);
  /// One gathered batch: texts in it and source tokens x beam.
  void observe_batch(int64_t texts, int64_t tokens);
  /// The exposition text; `queue_depth` is read at the time of the scrape.
  std::string prometheus_text(int64_t queue_depth) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  std::map<std::string, Histogram> latency_;  // by route
  Histogram batch_texts_;
  Histogram batch_tokens_;
};

}  // namespace qkv
