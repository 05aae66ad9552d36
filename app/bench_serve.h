// `qkv bench serve`: a load generator for `qkv serve`. N clients, each with its own keep-alive
// connection, send one sentence per POST /v1/translate until M requests are sent; reports
// sentences/s, latency percentiles, errors by status and the server's mean batch size (from
// /metrics, before and after). One JSON line, like the other bench modes.
#pragma once

#include <cstdint>
#include <string>

namespace qkv {

struct ServeBenchOptions {
  std::string url = "http://127.0.0.1:8080";  // the server
  int64_t clients = 32;                       // concurrent clients (connections)
  int64_t requests = 0;                       // requests in all; 0 = one per input line
  std::string input;  // sentences, one per line (default: the test split of --model's run)
  std::string model;  // run directory, for the default input
};

/// Runs the load and returns one JSON object as text. Throws std::invalid_argument for bad
/// options and std::runtime_error when the server cannot be reached.
std::string run_serve_benchmark(const ServeBenchOptions& options);

}  // namespace qkv
