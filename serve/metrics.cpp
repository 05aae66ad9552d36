// Metrics (see metrics.h). Exposition format:
// https://prometheus.io/docs/instrumenting/exposition_formats/
#include "serve/metrics.h"

#include <fmt/format.h>

namespace qkv {
namespace {

// Seconds: a greedy sentence takes milliseconds, a beam batch under load seconds.
const std::vector<double> kLatencyBounds = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

std::string header(const std::string& name, const std::string& type, const std::string& help) {
  return fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}

void Histogram::observe(double value) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++counts_[i];
      break;
    }
  }
  sum_ += value;
  ++count_;
}

std::string Histogram::text(const std::string& name, const std::string& labels) const {
  std::string out;
  int64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, labels, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, labels, count_);
  const std::string plain = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, plain, sum_, name, plain, count_);
  return out;
}

Metrics::Metrics()
    : batch_texts_({1, 2, 4, 8, 16, 32, 64, 128, 256}),
      batch_tokens_({64, 256, 1024, 4096, 16384, 65536}) {}

void Metrics::observe_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  latency_.try_emplace(route, kLatencyBounds).first->second.observe(seconds);
}

void Metrics::observe_batch(int64_t texts, int64_t tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_texts_.observe(static_cast<double>(texts));
  batch_tokens_.observe(static_cast<double>(tokens));
}

std::string Metrics::prometheus_text(int64_t queue_depth) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = header("qkv_requests_total", "counter", "HTTP requests answered.");
  for (const auto& [key, count] : requests_) {
    out += fmt::format(
        "qkv_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, count);
  }
  out += header(
      "qkv_request_duration_seconds", "histogram", "Time from a request's arrival to its answer.");
  for (const auto& [route, histogram] : latency_) {
    out += histogram.text("qkv_request_duration_seconds", fmt::format("route=\"{}\",", route));
  }
  out +=
      header("qkv_batch_texts",
             "histogram",
             "Texts decoded together (from one or more requests; sorted by length and decoded in "
             "batches of --max-batch-tokens).");
  out += batch_texts_.text("qkv_batch_texts", "");
  out += header("qkv_batch_tokens", "histogram", "Source tokens x beam decoded together.");
  out += batch_tokens_.text("qkv_batch_tokens", "");
  out += header("qkv_queue_depth", "gauge", "Requests waiting for a decoding batch.");
  out += fmt::format("qkv_queue_depth {}\n", queue_depth);
  return out;
}

}  // namespace qkv
