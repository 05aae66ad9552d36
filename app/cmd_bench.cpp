// `qkv bench MODE`: the Python peer's benchmark modes and flags, our model; one JSON line.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/bench.h"
#include "app/bench_serve.h"
#include "app/commands.h"
#include "app/local_launcher.h"

namespace qkv {
namespace {

// The worker command line of `qkv bench train --nproc N`: every option spelled out, no --nproc.
std::vector<std::string> worker_args(const BenchOptions& o) {
  std::vector<std::string> args = {"bench", "train"};
  const auto add = [&args](const char* flag, const std::string& value) {
    args.insert(args.end(), {flag, value});
  };
  for (const auto& [flag, value] :
       std::vector<std::pair<const char*, int64_t>>{{"--vocab", o.vocab},
                                                    {"--d-model", o.d_model},
                                                    {"--heads", o.heads},
                                                    {"--d-ff", o.d_ff},
                                                    {"--enc-layers", o.enc_layers},
                                                    {"--dec-layers", o.dec_layers},
                                                    {"--batch", o.batch},
                                                    {"--src-len", o.src_len},
                                                    {"--tgt-len", o.tgt_len},
                                                    {"--warmup-steps", o.warmup_steps},
                                                    {"--steps", o.steps},
                                                    {"--threads", o.threads},
                                                    {"--seed", o.seed}}) {
    add(flag, std::to_string(value));
  }
  add("--dropout", fmt::format("{}", o.dropout));
  add("--device", o.device);
  add("--precision", o.precision);
  return args;
}

void check_nproc(const std::string& mode, const BenchOptions& o) {
  if (o.nproc < 1) {
    throw CLI::ValidationError("--nproc", "must be at least 1, got " + std::to_string(o.nproc));
  }
  if (o.nproc > 1 && mode != "train") {
    throw CLI::ValidationError("--nproc", "data-parallel workers time the train mode only");
  }
  if (o.nproc > o.batch) {
    throw CLI::ValidationError(
        "--nproc",
        fmt::format("{} workers cannot share a --batch of {} sentences", o.nproc, o.batch));
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto mode = std::make_shared<std::string>();
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Benchmark training or decoding speed like ../shared/bench/peer_transformer.py (JSON)");
  cmd->add_option("mode", *mode, "train | greedy | beam | gemm | translate | serve")->required();
  cmd->add_option("--vocab", o->vocab)->capture_default_str();
  cmd->add_option("--d-model", o->d_model)->capture_default_str();
  cmd->add_option("--heads", o->heads)->capture_default_str();
  cmd->add_option("--d-ff", o->d_ff)->capture_default_str();
  cmd->add_option("--enc-layers", o->enc_layers)->capture_default_str();
  cmd->add_option("--dec-layers", o->dec_layers)->capture_default_str();
  cmd->add_option("--dropout", o->dropout)->capture_default_str();
  cmd->add_option("--batch", o->batch, "sentences per batch")->capture_default_str();
  cmd->add_option("--src-len", o->src_len)->capture_default_str();
  cmd->add_option("--tgt-len", o->tgt_len)->capture_default_str();
  cmd->add_option("--max-len", o->max_len, "greedy/beam: tokens generated")->capture_default_str();
  cmd->add_option("--beam", o->beam, "beam and translate modes: beam size (1 = greedy)")
      ->capture_default_str();
  cmd->add_option("--model", o->model, "translate: run directory");
  cmd->add_option("--input",
                  o->input,
                  "translate: source sentences, one per line (default: the run's test split)");
  cmd->add_option("--warmup-steps", o->warmup_steps)->capture_default_str();
  cmd->add_option("--steps", o->steps, "train: timed steps")->capture_default_str();
  cmd->add_option("--runs", o->runs, "greedy/beam/translate: timed passes")->capture_default_str();
  cmd->add_option("--threads", o->threads, "torch intra-op threads (0 = qkv's default)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed)->capture_default_str();
  cmd->add_option("--nproc",
                  o->nproc,
                  "train: data-parallel workers on this machine, sharing the global --batch")
      ->capture_default_str();
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option(
         "--precision", o->precision, "auto, fp32, bf16 or int8 (int8: decoding modes only)")
      ->capture_default_str();
  // serve: a load generator for a running `qkv serve` (app/bench_serve.h).
  auto s = std::make_shared<ServeBenchOptions>();
  cmd->add_option("--url", s->url, "serve: the server")->capture_default_str();
  cmd->add_option("--clients", s->clients, "serve: concurrent clients")->capture_default_str();
  cmd->add_option(
      "--requests", s->requests, "serve: requests, one sentence each (default: one per line)");
  cmd->callback([mode, o, s] {
    if (*mode != "serve") {
      check_nproc(*mode, *o);
      if (o->nproc > 1) {
        // N workers of this executable; rank 0 prints the JSON line. Their status is ours.
        const auto grace = std::chrono::seconds(kBenchGroupTimeoutSeconds + 10);
        throw ExitStatus{launch_this_program(worker_args(*o), static_cast<int>(o->nproc), grace)};
      }
      const std::string result = run_benchmark(*mode, *o);
      if (!result.empty()) std::cout << result << std::endl;  // rank 0 reports for a group
      return;
    }
    s->input = o->input;
    s->model = o->model;
    std::cout << run_serve_benchmark(*s) << std::endl;
  });
}

}  // namespace qkv
