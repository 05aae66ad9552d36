// The HTTP routes of `qkv serve` on a cpp-httplib server: the page, the API, health and
// metrics; every error answered as {"error": "..."} with its status (400, 404, 405, 413, 415,
// 500, 503, 504); metrics for every request. Handlers parse and check the request on the
// HTTP thread and leave the model to the batcher's worker.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "inference/loaded_run.h"
#include "inference/translator.h"
#include "serve/batcher.h"
#include "serve/metrics.h"
#include "serve/server.h"

namespace httplib {
class Server;
}

namespace qkv {

/// What the handlers share. All of it outlives the HTTP server.
struct ServeContext {
  LoadedRun& run;
  std::string run_dir;
  Translator& translator;  // used on the batcher's worker thread only
  Batcher& batcher;
  Metrics& metrics;
  ServeOptions options;
  std::vector<std::filesystem::path> timeline_files;  // the run's probe snapshots (explorer)
  std::atomic<bool> stopping{false};  // after SIGTERM: new requests are answered 503
  std::atomic<int64_t> in_flight{0};  // requests accepted and not yet answered
};

/// Registers every route, the error handler and the metrics logger on `server`.
void add_routes(httplib::Server& server, ServeContext& context);

}  // namespace qkv
