// `qkv bench MODE`: the Python peer's benchmark modes and flags, our model; one JSON line.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "app/bench.h"
#include "app/bench_serve.h"
#include "app/commands.h"

namespace qkv {

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
      std::cout << run_benchmark(*mode, *o) << std::endl;
      return;
    }
    s->input = o->input;
    s->model = o->model;
    std::cout << run_serve_benchmark(*s) << std::endl;
  });
}

}  // namespace qkv
