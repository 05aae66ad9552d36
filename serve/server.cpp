// The server's life (see server.h): load-independent setup, listen, wait for a stop signal,
// drain.
#include "serve/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "app/export/probe_attention.h"
#include "serve/batcher.h"
#include "serve/metrics.h"
#include "serve/routes.h"
#include "train/checkpoint/run_dir.h"
#include "train/stop_signal.h"

namespace qkv {
namespace {

void check_options(const ServeOptions& o) {
  auto at_least = [](const char* flag, double value, double minimum) {
    if (value < minimum) {
      throw std::invalid_argument(
          fmt::format("{}: must be at least {}, got {}", flag, minimum, value));
    }
  };
  at_least("--port", o.port, 0);
  if (o.port > 65535)
    throw std::invalid_argument(fmt::format("--port: at most 65535, got {}", o.port));
  at_least("--max-batch-tokens", static_cast<double>(o.max_batch_tokens), 1);
  at_least("--max-wait-ms", static_cast<double>(o.max_wait_ms), 0);
  at_least("--max-queue", static_cast<double>(o.max_queue), 1);
  at_least("--timeout-s", o.timeout_s, 0.001);
  at_least("--max-body-bytes", static_cast<double>(o.max_body_bytes), 1);
}

// The port listened on (options.port, or the one chosen for port 0).
int bind(httplib::Server& server, const ServeOptions& options) {
  auto socket = std::make_shared<int>(-1);
  server.set_socket_options([socket](int sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    *socket = sock;
  });
  const int port = options.port == 0
                       ? server.bind_to_any_port(options.host)
                       : (server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port <= 0) {
    throw std::runtime_error(
        fmt::format("cannot listen on {}:{} (in use, or not an address of this machine?)",
                    options.host,
                    options.port));
  }
  // cpp-httplib 0.11 listens with a backlog of 5 connections: 64 clients connecting at once
  // overflowed it (reset connections). Listening again only raises the backlog.
  ::listen(*socket, SOMAXCONN);
  return port;
}

// cpp-httplib's settings: one HTTP thread per request that may wait in the queue (so that all
// of them can be batched together) plus a few for health checks, metrics and 503 answers.
void configure(httplib::Server& server, const ServeOptions& options) {
  const auto threads = static_cast<size_t>(options.max_queue + 8);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  // Clients reuse connections; an idle one is closed after 2 s, which also bounds how long a
  // stop waits for idle connections.
  server.set_keep_alive_max_count(100000);
  server.set_keep_alive_timeout(2);
  httplib::Headers headers = {{"X-Content-Type-Options", "nosniff"}};
  if (!options.cors.empty()) {
    headers.emplace("Access-Control-Allow-Origin", options.cors);
    headers.emplace("Vary", "Origin");
  }
  server.set_default_headers(headers);
}

}  // namespace

void serve(LoadedRun& run, const std::string& run_dir, const ServeOptions& options) {
  check_options(options);
  Translator translator(run.model, *run.tokenizer);
  Metrics metrics;
  BatcherOptions batching;
  batching.max_batch_tokens = options.max_batch_tokens;
  batching.max_wait = std::chrono::milliseconds(options.max_wait_ms);
  batching.max_queue = options.max_queue;
  batching.max_source_tokens = translator.max_source_tokens();
  Batcher batcher(
      [&translator](const std::vector<std::string>& texts,
                    const TranslateOptions& decode,
                    std::vector<int64_t>* truncated) {
        return translator.translate(texts, decode, truncated);
      },
      [&run](const std::string& text) {
        return static_cast<int64_t>(run.tokenizer->encode(text).size());
      },
      batching,
      [&metrics](int64_t texts, int64_t tokens) { metrics.observe_batch(texts, tokens); });
  ServeContext context{run,
                       run_dir,
                       translator,
                       batcher,
                       metrics,
                       options,
                       probe_attention_files(RunDir(run_dir).attention())};

  httplib::Server server;
  configure(server, options);
  add_routes(server, context);
  const int port = bind(server, options);
  StopSignalScope signals;  // SIGTERM/SIGINT only ask to stop; a second one ends at once
  std::atomic<bool> listening{true};
  std::thread listener([&] {
    server.listen_after_bind();
    listening = false;
  });
  spdlog::info(
      "[serve] listening on http://{}:{}/ (the live page; API in docs/api.md); "
      "SIGTERM or Ctrl-C stops",
      options.host,
      port);
  while (listening && !StopSignalScope::requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Stop: new requests are answered 503, the listening socket closes; the HTTP threads finish
  // the requests they hold (waiting for their jobs), then the batcher finishes what is queued.
  spdlog::info("[serve] stopping: answering the requests already accepted");
  context.stopping = true;
  server.stop();
  listener.join();
  batcher.stop();
  spdlog::info("[serve] stopped: {} requests accepted for the model, every one answered",
               batcher.accepted());
}

}  // namespace qkv
