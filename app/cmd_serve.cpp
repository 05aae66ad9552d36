// `qkv serve`: a trained run over HTTP (translation, attention maps, a live page); a thin shell
// over serve/server.h.
#include <CLI/CLI.hpp>
#include <memory>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "app/commands.h"
#include "app/decode_flags.h"
#include "app/process_settings.h"
#include "inference/loaded_run.h"
#include "serve/server.h"

namespace qkv {
namespace {

// One OpenBLAS thread for decoding unless --threads says otherwise. Measured with qkv bench
// serve (32 clients, en-de-small, beam 4, 2 cores): quiet, 60 against 70 sentences/s with one
// and two threads (p99 0.8 s against 0.7-1.1 s); beside a running `qkv train`, 51 against 17
// sentences/s and p99 1.3 s against 6.1 s: two threads per small GEMM thrash when every core is
// busy, and a server shares its machine (README, `qkv serve`).
void configure_decoding_threads(int64_t threads) { set_blas_threads(threads > 0 ? threads : 1); }

// At most two malloc arenas for the server's many HTTP threads and its model thread (glibc's
// default allows 8 per core). In 10-minute soaks at 32 clients, resident memory ended at 505 MB
// with glibc's default and two OpenBLAS threads, at 440 MB with two arenas and one thread, at
// the same speed (README, `qkv serve`). Set before the server starts its threads.
void limit_malloc_arenas() {
#ifdef __GLIBC__
  mallopt(M_ARENA_MAX, 2);
#endif
}

struct ServeCommand {
  std::string model;
  std::string checkpoint = "best";
  std::string device = "auto";
  int64_t threads = 0;
  ServeOptions options;
};

void run(const ServeCommand& c) {
  limit_malloc_arenas();
  configure_decoding_threads(c.threads);
  DecodeFlags flags;
  flags.model = c.model;
  flags.checkpoint = c.checkpoint;
  flags.device = c.device;
  LoadedRun loaded = load_decoding_run(flags);
  serve(loaded, c.model, c.options);
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto c = std::make_shared<ServeCommand>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve a run over HTTP: POST /v1/translate, /v1/attention, GET /v1/model, /metrics, and "
      "a live page at / (docs/api.md)");
  ServeOptions& o = c->options;
  cmd->add_option("-m,--model", c->model, "Run directory written by qkv train")->required();
  cmd->add_option("--checkpoint", c->checkpoint, "best, last, average or a checkpoint file")
      ->capture_default_str();
  cmd->add_option("--device", c->device, std::string("Where to run: ") + kDeviceChoices)
      ->capture_default_str();
  cmd->add_option("--host", o.host, "Address to listen on (another than 127.0.0.1 exposes it)")
      ->capture_default_str();
  cmd->add_option("--port", o.port, "Port (0: any free port, named in the log)")
      ->capture_default_str();
  cmd->add_option("--max-batch-tokens",
                  o.max_batch_tokens,
                  "Padded source tokens x beam per decoding batch (waiting texts sorted by length)")
      ->capture_default_str();
  cmd->add_option(
         "--max-wait-ms", o.max_wait_ms, "Longest a request waits for others to join its batch")
      ->capture_default_str();
  cmd->add_option("--max-queue", o.max_queue, "Requests waiting for the model; more get 503")
      ->capture_default_str();
  cmd->add_option("--timeout-s", o.timeout_s, "Requests not answered by then get 504")
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", o.max_body_bytes, "Larger request bodies get 413")
      ->capture_default_str();
  cmd->add_option("--cors", o.cors, "Let web pages of this origin call the API (default: none)");
  cmd->add_option("--threads",
                  c->threads,
                  "OpenBLAS threads for decoding (0 = 1: the fastest beside other work, README)")
      ->capture_default_str();
  cmd->callback([c] { run(*c); });
}

}  // namespace qkv
