// The load generator of `qkv bench serve` (see bench_serve.h).
#include "app/bench_serve.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "data/io/text_file.h"
#include "data/prepare.h"
#include "inference/loaded_run.h"

namespace qkv {
namespace {

using Clock = std::chrono::steady_clock;

// --input, else the test split of --model's run.
std::string input_file(const ServeBenchOptions& o) {
  if (!o.input.empty()) return o.input;
  if (o.model.empty()) {
    throw std::invalid_argument(
        "bench serve: give --input FILE (or --model RUN for its test split)");
  }
  const PreparedCorpus corpus = find_or_prepare_corpus(load_run_config(o.model, {}).data);
  if (corpus.test.source.empty())
    throw std::runtime_error("bench serve: the run's corpus has no test split (use --input)");
  return corpus.test.source.string();
}

// The server's batch histogram: texts decoded and batches so far.
std::pair<double, double> batch_totals(httplib::Client& client) {
  const auto res = client.Get("/metrics");
  if (!res || res->status != 200) {
    throw std::runtime_error("bench serve: cannot read /metrics (" +
                             (res ? std::to_string(res->status) : httplib::to_string(res.error())) +
                             "); is qkv serve running there?");
  }
  std::smatch sum;
  std::smatch count;
  const std::regex sum_line("qkv_batch_texts_sum ([0-9.e+]+)");
  const std::regex count_line("qkv_batch_texts_count ([0-9.e+]+)");
  if (!std::regex_search(res->body, sum, sum_line) ||
      !std::regex_search(res->body, count, count_line))
    throw std::runtime_error("bench serve: /metrics has no qkv_batch_texts (not qkv serve?)");
  return {std::stod(sum[1]), std::stod(count[1])};
}

double percentile(std::vector<double> sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

struct Outcomes {
  std::mutex mutex;
  std::vector<double> latencies_ms;       // of answered requests (200)
  std::map<std::string, int64_t> errors;  // by status, or "connection"
};

// One client: its own connection, requests taken from the shared counter until none is left.
void client_loop(const ServeBenchOptions& o,
                 const std::vector<std::string>& sentences,
                 std::atomic<int64_t>& next,
                 int64_t total,
                 Outcomes& outcomes) {
  httplib::Client client(o.url);
  client.set_read_timeout(300, 0);
  for (int64_t i; (i = next++) < total;) {
    const std::string body =
        nlohmann::json{{"text", sentences[static_cast<size_t>(i) % sentences.size()]}}.dump();
    const auto start = Clock::now();
    const auto res = client.Post("/v1/translate", body, "application/json");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::lock_guard<std::mutex> lock(outcomes.mutex);
    if (res && res->status == 200) {
      outcomes.latencies_ms.push_back(ms);
    } else {
      ++outcomes.errors[res ? std::to_string(res->status) : "connection"];
    }
  }
}

}  // namespace

std::string run_serve_benchmark(const ServeBenchOptions& o) {
  if (o.clients < 1) throw std::invalid_argument("--clients: must be at least 1");
  if (o.requests < 0) throw std::invalid_argument("--requests: must not be negative");
  const std::string input = input_file(o);
  const std::vector<std::string> sentences = read_text_lines(input);
  if (sentences.empty()) throw std::invalid_argument("bench serve: " + input + " is empty");
  const int64_t total = o.requests > 0 ? o.requests : static_cast<int64_t>(sentences.size());
  httplib::Client metrics(o.url);
  const auto before = batch_totals(metrics);
  Outcomes outcomes;
  std::atomic<int64_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int64_t c = 0; c < o.clients; ++c)
    clients.emplace_back([&] { client_loop(o, sentences, next, total, outcomes); });
  for (auto& client : clients) client.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto after = batch_totals(metrics);
  std::vector<double>& ms = outcomes.latencies_ms;
  std::sort(ms.begin(), ms.end());
  const double batches = after.second - before.second;
  nlohmann::ordered_json r;
  r["mode"] = "serve";
  r["url"] = o.url;
  r["input"] = input;
  r["clients"] = o.clients;
  r["requests"] = total;
  r["answered"] = ms.size();
  r["errors"] = outcomes.errors;
  r["seconds"] = seconds;
  r["sentences_per_s"] = static_cast<double>(ms.size()) / seconds;
  r["latency_ms"] = {{"p50", percentile(ms, 50)},
                     {"p95", percentile(ms, 95)},
                     {"p99", percentile(ms, 99)},
                     {"max", ms.empty() ? 0.0 : ms.back()}};
  r["server_batches"] = batches;
  r["server_mean_batch_texts"] = batches > 0 ? (after.first - before.first) / batches : 0.0;
  return r.dump();
}

}  // namespace qkv
