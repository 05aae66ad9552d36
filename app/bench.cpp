// `qkv bench` modes (see bench.h): synthetic training and decoding with random weights and
// the Python peer's shapes and FLOP formulas, raw GEMM speed, and a trained run end to end.
#include "app/bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <stdexcept>

#include "app/launched_group.h"
#include "app/process_settings.h"
#include "data/io/text_file.h"
#include "data/prepare.h"
#include "inference/loaded_run.h"
#include "inference/translator.h"
#include "model/device.h"
#include "model/linear.h"
#include "model/precision.h"
#include "model/search.h"
#include "model/transformer.h"
#include "train/loss.h"
#include "train/training_group.h"

namespace qkv {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <class F>
double seconds_of(F&& work, torch::Device device) {
  const auto start = Clock::now();
  work();
  if (device.is_cuda()) torch::cuda::synchronize();  // GPU work is queued: wait for it
  return std::chrono::duration<double>(Clock::now() - start).count();
}

ModelConfig model_config(const BenchOptions& o) {
  ModelConfig c;
  c.d_model = o.d_model;
  c.num_heads = o.heads;
  c.d_ff = o.d_ff;
  c.encoder_layers = o.enc_layers;
  c.decoder_layers = o.dec_layers;
  c.dropout = o.dropout;
  c.attention_dropout = o.dropout;  // the peer's nn.Transformer uses one dropout everywhere
  c.max_positions = std::max({o.src_len, o.tgt_len, o.max_len + 1}) + 1;
  return c;
}

int64_t count(torch::nn::Module& m) { return count_parameters(m); }

// The peer's formulas (see its docstring).
double train_flops(const BenchOptions& a, double n_enc, double n_dec) {
  const double B = a.batch, S = a.src_len, T = a.tgt_len, d = a.d_model;
  const double dense = 6 * (n_enc * B * S + n_dec * B * T) + 6 * B * T * d * a.vocab;
  const double attn = 12 * B * d * (a.enc_layers * S * S + a.dec_layers * (T * T + T * S));
  return dense + attn;
}

double greedy_flops(const BenchOptions& a, double n_enc, double n_dec) {
  const double B = a.batch, S = a.src_len, d = a.d_model, L = a.dec_layers;
  const double n_kv = 2 * d * d * L;
  double f = 2 * n_enc * B * S + 4 * B * S * S * d * a.enc_layers;
  for (int64_t step = 1; step <= a.max_len; ++step) {
    const double t = static_cast<double>(step);
    f += 2 * (n_dec - n_kv) * B * t + 2 * n_kv * B * S + 4 * B * d * L * (t * t + t * S) +
         2 * B * d * a.vocab;
  }
  return f;
}

nlohmann::ordered_json environment(const BenchOptions& a, int64_t threads, torch::Device device) {
  nlohmann::ordered_json env;
  env["impl"] = "qkv-cpp";
  env["torch"] = TORCH_VERSION;
  env["device"] = device.str();
  env["threads"] = threads;
  const std::optional<int64_t> blas = openblas_threads();
  env["openblas_threads"] = blas ? nlohmann::json(*blas) : nlohmann::json();
  for (const char* name : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    const char* value = std::getenv(name);
    env[name] = value ? nlohmann::json(value) : nlohmann::json();
  }
  env["config"] = {{"vocab", a.vocab},
                   {"d_model", a.d_model},
                   {"heads", a.heads},
                   {"d_ff", a.d_ff},
                   {"enc_layers", a.enc_layers},
                   {"dec_layers", a.dec_layers},
                   {"dropout", a.dropout},
                   {"batch", a.batch},
                   {"src_len", a.src_len},
                   {"tgt_len", a.tgt_len},
                   {"max_len", a.max_len},
                   {"seed", a.seed}};
  return env;
}

// train: Adam steps on random batches of `batch` sentences. In a data-parallel group `batch` is
// the global batch: every rank draws the same batches and trains on its rows (rank r of N: rows
// [r*B/N, (r+1)*B/N)); one bucketed all-reduce sums the gradients and the loss, each already
// divided by the global target count, so the update is the single process's.
nlohmann::ordered_json run_train(const BenchOptions& a,
                                 torch::Device device,
                                 Precision precision,
                                 TrainingGroup& group) {
  Transformer model(model_config(a), a.vocab, /*pad_id=*/0);
  model->to(device);
  model->train();
  group.broadcast_from_rank0(model->parameters());
  torch::optim::Adam adam(model->parameters(),
                          torch::optim::AdamOptions(1e-4).betas({0.9, 0.98}).eps(1e-9));
  const double n_enc = static_cast<double>(count(model->encoder()));
  const double n_dec = static_cast<double>(count(model->decoder()));
  const int64_t ranks = group.world_size(), rank = group.rank();
  const int64_t first_row = a.batch * rank / ranks, end_row = a.batch * (rank + 1) / ranks;
  // Drawn before training, whose dropout draws differ between ranks.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> batches;
  for (int64_t step = 0; step < a.warmup_steps + a.steps; ++step) {
    const auto src = torch::randint(1, a.vocab, {a.batch, a.src_len}, torch::kInt64);
    const auto tgt = torch::randint(1, a.vocab, {a.batch, a.tgt_len + 1}, torch::kInt64);
    batches.emplace_back(src.slice(0, first_row, end_row).to(device),
                         tgt.slice(0, first_row, end_row).to(device));
  }
  std::vector<double> times, reduce_times;
  double loss_last = 0;
  for (int64_t step = 0; step < a.warmup_steps + a.steps; ++step) {
    const auto& [src, tgt] = batches[static_cast<size_t>(step)];
    double reduce_seconds = 0;
    const double seconds = seconds_of(
        [&] {
          std::optional<ScopedGemmPrecision> gemms(std::in_place, precision, device);
          const auto logits = model->forward(src, tgt.slice(1, 0, a.tgt_len));
          const auto loss = label_smoothed_loss(logits, tgt.slice(1, 1), 0.1, /*pad_id=*/0);
          gemms.reset();  // backward follows the casts
          const auto mean = loss.smoothed_sum / static_cast<double>(a.batch * a.tgt_len);
          adam.zero_grad();
          mean.backward();
          auto summed_loss = mean.detach().reshape({1}).clone();
          if (ranks > 1) {
            std::vector<torch::Tensor> sums{summed_loss};
            for (const auto& p : model->parameters()) sums.push_back(p.grad());
            reduce_seconds = seconds_of([&] { group.all_reduce_sum(sums); }, device);
          }
          adam.step();
          if (step + 1 == a.warmup_steps + a.steps) loss_last = summed_loss.item<double>();
        },
        device);
    if (step >= a.warmup_steps) {
      times.push_back(seconds);
      reduce_times.push_back(reduce_seconds);
    }
  }
  const double med = median(times);
  const double flops = train_flops(a, n_enc, n_dec);
  nlohmann::ordered_json r;
  r["mode"] = "train";
  r["params"] = count(*model);
  r["params_nonemb"] = n_enc + n_dec;
  r["steps"] = a.steps;
  r["warmup_steps"] = a.warmup_steps;
  r["nproc"] = ranks;
  r["tokens_per_s"] = a.batch * a.tgt_len / med;
  r["src_tgt_tokens_per_s"] = a.batch * (a.src_len + a.tgt_len) / med;
  r["ms_per_step_median"] = 1e3 * med;
  r["ms_per_step_min"] = 1e3 * *std::min_element(times.begin(), times.end());
  r["ms_per_step_mean"] = 1e3 * std::accumulate(times.begin(), times.end(), 0.0) / times.size();
  if (ranks > 1) {
    // Rank 0's time in the all-reduce, waiting for the slower rank included.
    r["all_reduce_ms_median"] = 1e3 * median(reduce_times);
    r["all_reduce_share"] = std::accumulate(reduce_times.begin(), reduce_times.end(), 0.0) /
                            std::accumulate(times.begin(), times.end(), 0.0);
  }
  r["flops_per_step"] = flops;
  r["gflops_per_s"] = flops / med / 1e9;
  r["loss_last"] = loss_last;
  return r;
}

// greedy: KV-cached greedy search (qkv's own decoding); beam: beam search with `beam` beams.
// The length limit is exactly max_len tokens; a sentence may end earlier on EOS (rare with
// random weights), and the JSON reports the tokens actually generated.
nlohmann::ordered_json run_decode(const BenchOptions& a,
                                  bool beam,
                                  torch::Device device,
                                  Precision precision) {
  Transformer model(model_config(a), a.vocab, /*pad_id=*/0);
  model->to(device);
  model->eval();
  model->pack_for_decoding(precision);
  const double n_enc = static_cast<double>(count(model->encoder()));
  const double n_dec = static_cast<double>(count(model->decoder()));
  // The peer's source has no padding and no EOS: random ids in [1, V).
  const auto src = torch::randint(1, a.vocab, {a.batch, a.src_len}, torch::kInt64).to(device);
  SearchOptions options;
  options.bos_id = 1;
  options.eos_id = 2;
  options.pad_id = 0;
  options.beam_size = beam ? a.beam : 1;
  options.max_length = a.max_len;
  options.max_length_ratio = 0;
  options.max_length_offset = a.max_len;
  int64_t generated = 0;
  auto decode = [&] {
    const SearchResult result = search(*model, src, options);
    generated = 0;
    for (const auto& hyps : result) generated += static_cast<int64_t>(hyps.front().tokens.size());
  };
  decode();  // warm-up
  std::vector<double> times;
  for (int64_t run = 0; run < a.runs; ++run) times.push_back(seconds_of(decode, device));
  const double med = median(times);
  const double flops = greedy_flops(a, n_enc, n_dec);
  nlohmann::ordered_json r;
  r["mode"] = beam ? "beam" : "greedy";
  r["params"] = count(*model);
  r["runs"] = a.runs;
  if (beam) r["beam"] = a.beam;
  r["sentences_per_s"] = a.batch / med;
  r["tokens_per_s"] = a.batch * a.max_len / med;
  r["tokens_generated"] = generated;
  r["ms_per_sentence"] = 1e3 * med / a.batch;
  r["s_per_batch_median"] = med;
  r["s_per_batch_min"] = *std::min_element(times.begin(), times.end());
  r["flops_per_batch"] = flops;
  r["gflops_per_s"] = flops / med / 1e9;  // the peer's (recomputing) work per second
  return r;
}

nlohmann::ordered_json time_op(const std::function<void()>& fn,
                               double flops,
                               torch::Device device) {
  for (int i = 0; i < 3; ++i) fn();
  std::vector<double> times;
  const auto end = Clock::now() + std::chrono::seconds(1);
  while (times.size() < 10 || Clock::now() < end) times.push_back(seconds_of(fn, device));
  const double best = *std::min_element(times.begin(), times.end());
  const double med = median(times);
  return {{"gflops_best", flops / best / 1e9},
          {"gflops_median", flops / med / 1e9},
          {"ms_median", 1e3 * med},
          {"reps", times.size()}};
}

// The model's GEMM shapes as the model runs them in `precision` (PackedLinear: casts included).
nlohmann::ordered_json run_gemm(const BenchOptions& a, torch::Device device, Precision precision) {
  nlohmann::ordered_json r;
  r["mode"] = "gemm";
  const auto on = torch::TensorOptions().device(device);
  const auto x = torch::randn({1024, 1024}, on), y = torch::randn({1024, 1024}, on);
  r["mm_1024x1024x1024"] = time_op([&] { torch::mm(x, y); }, 2.0 * 1024 * 1024 * 1024, device);
  const int64_t M = a.batch * a.tgt_len, d = a.d_model;
  const std::vector<std::tuple<std::string, int64_t, int64_t>> shapes = {
      {"ffn_up", d, a.d_ff}, {"ffn_down", a.d_ff, d}, {"qkv", d, 3 * d}, {"logits", d, a.vocab}};
  for (const auto& [name, k, n] : shapes) {
    const auto input = torch::randn({M, k}, on);
    const PackedLinear layer(torch::randn({n, k}, on), torch::randn({n}, on), precision);
    r["linear_" + name + "_" + std::to_string(M) + "x" + std::to_string(k) + "x" +
      std::to_string(n)] = time_op([&] { layer(input); }, 2.0 * M * k * n, device);
  }
  return r;
}

// translate: a trained run end to end on real sentences: tokenizer, batching (sorted by
// length), KV-cached greedy or beam search, detokenising; `runs` passes, median reported.
nlohmann::ordered_json run_translate(const BenchOptions& a,
                                     torch::Device device,
                                     Precision precision) {
  if (a.model.empty()) throw std::invalid_argument("bench translate: --model RUN_DIR is required");
  LoadedRun loaded = load_run(a.model, "best", device);
  loaded.model->pack_for_decoding(precision);
  std::string input = a.input;
  if (input.empty()) {
    const PreparedCorpus corpus = find_or_prepare_corpus(loaded.config.data);
    if (corpus.test.source.empty())
      throw std::runtime_error("bench translate: the run's corpus has no test split (use --input)");
    input = corpus.test.source.string();
  }
  const std::vector<std::string> sources = read_text_lines(input);
  if (sources.empty()) throw std::invalid_argument("bench translate: " + input + " is empty");
  Translator translator(loaded.model, *loaded.tokenizer);
  TranslateOptions options;
  options.decode = loaded.config.decode;
  options.decode.beam_size = a.beam;
  int64_t target_tokens = 0;
  std::vector<double> times;
  for (int64_t run = 0; run < a.runs; ++run) {
    int64_t tokens = 0;
    times.push_back(seconds_of(
        [&] {
          for (const auto& hypotheses : translator.translate(sources, options)) {
            tokens += static_cast<int64_t>(hypotheses.front().tokens.size());
          }
        },
        device));
    target_tokens = tokens;
  }
  const double t = median(times);
  nlohmann::ordered_json r;
  r["mode"] = "translate";
  r["model"] = a.model;
  r["input"] = input;
  r["beam"] = a.beam;
  r["params"] = count(*loaded.model);
  r["sentences"] = sources.size();
  r["target_tokens"] = target_tokens;
  r["s_median"] = t;
  r["s_min"] = *std::min_element(times.begin(), times.end());
  r["sentences_per_s"] = static_cast<double>(sources.size()) / t;
  r["target_tokens_per_s"] = static_cast<double>(target_tokens) / t;
  return r;
}

}  // namespace

std::string run_benchmark(const std::string& mode, const BenchOptions& a) {
  for (int64_t v : {a.vocab,
                    a.d_model,
                    a.heads,
                    a.d_ff,
                    a.enc_layers,
                    a.dec_layers,
                    a.batch,
                    a.src_len,
                    a.tgt_len,
                    a.max_len,
                    a.beam,
                    a.steps,
                    a.runs}) {
    if (v < 1) throw std::invalid_argument("bench: every size must be at least 1");
  }
  configure_threads(a.threads);
  torch::manual_seed(static_cast<uint64_t>(a.seed));
  nlohmann::ordered_json result;
  const torch::Device device = resolve_device_flag(a.device);
  const ResolvedPrecision precision =
      resolve_precision_flag(a.precision, device, /*for_training=*/mode == "train");
  if (precision.slow) std::cerr << "[bench] warning: " << precision.reason << "\n";
  const Precision p = precision.precision;
  std::unique_ptr<TrainingGroup> group;
  if (mode == "train") group = join_group_if_launched(kBenchGroupTimeoutSeconds, "bench");
  // Once the precision is known and a group has shared out the cores (process_settings.h).
  const int64_t threads = configure_threads(a.threads, p);
  if (mode == "train") {
    SingleProcess single_process;
    result = run_train(a, device, p, group ? *group : single_process);
    if (group && group->rank() != 0) return "";  // rank 0 reports for the group
  } else if (mode == "greedy")
    result = run_decode(a, false, device, p);
  else if (mode == "beam")
    result = run_decode(a, true, device, p);
  else if (mode == "gemm")
    result = run_gemm(a, device, p);
  else if (mode == "translate")
    result = run_translate(a, device, p);
  else
    throw std::invalid_argument("bench: unknown mode '" + mode +
                                "' (train, greedy, beam, gemm, translate)");
  result["precision"] = precision_name(p);
  result["cpu_flags"] = cpu_precision_support().flags();
  const nlohmann::ordered_json env = environment(a, threads, device);
  for (const auto& item : env.items()) result[item.key()] = item.value();
  if (mode == "translate") result.erase("config");  // the run's own model, not the shape flags
  return result.dump();
}

}  // namespace qkv
