// `qkv serve`: translation and attention maps of a trained run over HTTP (cpp-httplib), with
// batching across requests (serve/batcher.h), Prometheus metrics and a live page at GET /.
// The API is documented with examples in docs/api.md.
#pragma once

#include <cstdint>
#include <string>

#include "inference/loaded_run.h"

namespace qkv {

struct ServeOptions {
  std::string host = "127.0.0.1";    // loopback only unless asked
  int port = 8080;                   // 0: any free port (the log line names it)
  int64_t max_batch_tokens = 1024;   // padded source tokens x beam per decoding batch (README)
  int64_t max_wait_ms = 5;           // longest a request waits for others to join its batch
  int64_t max_queue = 128;           // requests waiting for the model; more are answered 503
  double timeout_s = 30;             // a request not answered by then is answered 504
  std::string cors;                  // origin allowed to call the API from a browser ("": none)
  int64_t max_body_bytes = 1 << 20;  // larger request bodies are answered 413
};

/// Serves `run` (loaded from `run_dir`) until SIGTERM or SIGINT, then stops accepting requests,
/// answers every request already accepted and returns. Throws std::runtime_error when it
/// cannot listen on host:port and std::invalid_argument for bad options.
void serve(LoadedRun& run, const std::string& run_dir, const ServeOptions& options);

}  // namespace qkv
