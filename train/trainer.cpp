// The training loop (see trainer.h). Steps:
//   1. run directory: new (prepare data, save config, train tokenizer) or resumed
//   2. data: encode the splits, token-budget batch stream at the saved position
//   3. model + Adam, restored from the checkpoint when resuming (weights, moments, RNG)
//   4. loop: accumulate gradients, clip, schedule, step; log; validate + checkpoint
#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "data/batching.h"
#include "data/dataset.h"
#include "data/prepare.h"
#include "data/special_tokens.h"
#include "data/tokenizer.h"
#include "model/transformer.h"
#include "train/attention_maps.h"
#include "train/checkpoint.h"
#include "train/loss.h"
#include "train/loss_plot.h"
#include "train/metrics_log.h"
#include "train/progress.h"
#include "train/run_dir.h"
#include "train/schedule.h"
#include "train/stop_signal.h"
#include "train/threads.h"
#include "train/translator.h"
#include "train/validation.h"

namespace qkv {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// Consecutive steps with an inf/NaN loss or gradient after which training stops.
constexpr int64_t kMaxNonFiniteSteps = 5;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A process killed while writing a checkpoint leaves its temporary file (".<name>.tmp-<pid>",
// see write_file_atomically) behind; each is as large as a checkpoint.
void remove_stale_temporary_files(const fs::path& checkpoints) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(checkpoints, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind('.', 0) == 0 && name.find(".tmp") != std::string::npos) {
      spdlog::info("[train] removing {} (left by an interrupted run)", entry.path().string());
      fs::remove(entry.path(), error);
    }
  }
}

// Adds RUN/train.log to the default logger for the lifetime of the object.
class RunLogFile {
 public:
  explicit RunLogFile(const fs::path& path) {
    sink_ = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string());
    sink_->set_pattern("[%Y-%m-%d %H:%M:%S %l] %v");
    spdlog::default_logger()->sinks().push_back(sink_);
    // Flush every line, so that `tail -f RUN/train.log` follows a run (a line every
    // train.log_every steps costs nothing).
    previous_flush_level_ = spdlog::default_logger()->flush_level();
    spdlog::default_logger()->flush_on(spdlog::level::info);
  }
  ~RunLogFile() {
    spdlog::default_logger()->flush_on(previous_flush_level_);
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }

 private:
  spdlog::sink_ptr sink_;
  spdlog::level::level_enum previous_flush_level_ = spdlog::level::off;
};

// Removes a run directory this process created if training fails before any checkpoint.
class NewRunDirGuard {
 public:
  explicit NewRunDirGuard(fs::path root) : root_(std::move(root)), created_(!fs::exists(root_)) {}
  void keep() { created_ = false; }
  ~NewRunDirGuard() {
    if (created_) {
      std::error_code ignored;
      fs::remove_all(root_, ignored);
    }
  }

 private:
  fs::path root_;
  bool created_;
};

torch::Device resolve_device(const std::string& device) {
  if (device == "cuda" && !torch::cuda::is_available()) {
    throw std::runtime_error(
        "train.device: cuda was requested but this LibTorch has no usable CUDA device (use cpu or "
        "auto)");
  }
  if (device == "cuda" || (device == "auto" && torch::cuda::is_available())) return torch::kCUDA;
  return torch::kCPU;
}

// Higher is better for every metric qkv keeps "best" by.
double score_of(const std::string& metric, const ValidationResult& v) {
  if (metric == "bleu") return v.bleu;
  if (metric == "chrf") return v.chrf;
  return -v.loss;
}

void set_learning_rate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

}  // namespace

ExperimentConfig load_run_config(const fs::path& run_dir,
                                 const std::vector<std::string>& overrides) {
  const RunDir run(run_dir);
  if (!fs::exists(run.config())) {
    throw std::runtime_error("run directory " + run_dir.string() +
                             " has no config.yaml (is it a qkv run directory?)");
  }
  return load_experiment_config(run.config(), overrides);
}

TrainSummary train_model(const ExperimentConfig& config, const TrainOptions& options) {
  const TrainConfig& tc = config.train;
  const int64_t threads = configure_threads(tc.threads);
  const torch::Device device = resolve_device(tc.device);
  if (device.is_cuda())
    throw std::runtime_error("train.device: CUDA training is not supported yet; use cpu");
  const RunDir run(options.run_dir);

  // 1. The run directory.
  std::optional<Checkpoint> resume_from;
  if (options.resume) {
    const auto latest = run.latest_checkpoint();
    if (!latest) {
      throw std::runtime_error("cannot resume: run directory " + run.root().string() +
                               " has no checkpoint (start without --resume)");
    }
    resume_from = load_checkpoint(*latest);
    spdlog::info("[train] resuming from {} (step {})", latest->string(), resume_from->step);
  } else if (!run.step_checkpoints().empty()) {
    throw std::runtime_error(
        "run directory " + run.root().string() +
        " already has checkpoints: pass --resume to continue it, or choose another --run-dir");
  }
  const PreparedCorpus corpus = prepare_corpus(config.data);
  spdlog::info("[data] {}: {} train / {} valid / {} test pairs in {}",
               corpus.corpus,
               corpus.train.pairs,
               corpus.valid.pairs,
               corpus.test.pairs,
               corpus.dir.string());
  const auto train_pairs = read_prepared_split(corpus.train);
  const auto valid_pairs = read_prepared_split(corpus.valid);
  // Empty files (or only empty lines) would fail later with an error that names no file, or
  // validate on nothing (loss 0, BLEU 0). For corpus "files", name the user's files.
  const auto require_pairs = [](const std::vector<SentencePair>& pairs,
                                const char* what,
                                const std::string& source,
                                const std::string& target) {
    if (pairs.empty()) {
      throw std::runtime_error(std::string("no ") + what + " sentence pairs: " + source + " and " +
                               target + " are empty or hold only empty lines");
    }
  };
  const DataConfig& dc = config.data;
  const bool files = dc.corpus == "files";
  require_pairs(train_pairs,
                "training",
                files ? dc.train_source : corpus.train.source.string(),
                files ? dc.train_target : corpus.train.target.string());
  require_pairs(valid_pairs,
                "validation",
                files ? dc.valid_source : corpus.valid.source.string(),
                files ? dc.valid_target : corpus.valid.target.string());

  NewRunDirGuard guard(run.root());
  fs::create_directories(run.checkpoints());
  remove_stale_temporary_files(run.checkpoints());
  RunLogFile log_file(run.log());
  if (!resume_from) {
    const std::string yaml = to_yaml(config, /*with_docs=*/true);
    write_file_atomically(run.config(), std::vector<char>(yaml.begin(), yaml.end()));
    TokenizerOptions tokenizer_options;
    tokenizer_options.model_type = config.data.tokenizer;
    tokenizer_options.vocab_size = config.data.vocab_size;
    tokenizer_options.character_coverage = config.data.character_coverage;
    tokenizer_options.seed = static_cast<uint32_t>(tc.seed);
    spdlog::info("[data] training a {} SentencePiece model, vocabulary {}",
                 config.data.tokenizer,
                 config.data.vocab_size);
    Tokenizer::train(joint_sentences(train_pairs), tokenizer_options, run.tokenizer());
  }
  const Tokenizer tokenizer = Tokenizer::load(run.tokenizer());
  const std::string tokenizer_crc = file_crc32(run.tokenizer());
  if (resume_from && resume_from->tokenizer_crc32 != tokenizer_crc) {
    throw std::runtime_error(
        "cannot resume: " + run.tokenizer().string() +
        " is not the tokenizer the checkpoint was trained with (CRC-32 differs)");
  }

  // 2. Data.
  const EncodedCorpus train_data = encode_corpus(train_pairs, tokenizer, config.data.max_length);
  const EncodedCorpus valid_data =
      encode_corpus(valid_pairs, tokenizer, config.model.max_positions - 2);
  spdlog::info(
      "[data] {} training examples ({} longer than {} tokens skipped), {} validation examples",
      train_data.examples.size(),
      train_data.dropped_too_long,
      config.data.max_length,
      valid_data.examples.size());
  std::vector<SentencePair> valid_text;
  for (int64_t index : valid_data.pair_indices) valid_text.push_back(valid_pairs[index]);
  BatchingOptions batching;
  batching.max_tokens = tc.max_tokens;
  batching.seed = static_cast<uint64_t>(tc.seed);
  BatchPosition start;
  if (resume_from) start = {resume_from->epoch, resume_from->batch};
  BatchStream stream(train_data.examples, batching, start);

  // 3. Model and optimiser.
  torch::manual_seed(static_cast<uint64_t>(tc.seed));
  Transformer model(config.model, tokenizer.vocab_size(), kPadId);
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(tc.learning_rate)
                                   .betas({tc.adam_beta1, tc.adam_beta2})
                                   .eps(tc.adam_eps)
                                   .weight_decay(tc.weight_decay));
  TrainSummary summary;
  summary.parameters = count_parameters(*model);
  int64_t step = 0;
  double previous_seconds = 0;
  double best_score = -std::numeric_limits<double>::infinity();
  int64_t bad_validations = 0;
  std::map<std::string, double> last_metrics;
  if (resume_from) {
    load_module_state(*model, resume_from->model, run.root().string());
    restore_optimizer_state(optimizer, *model, *resume_from, run.root().string());
    step = resume_from->step;
    previous_seconds = resume_from->elapsed_seconds;
    best_score = resume_from->best_score;
    bad_validations = resume_from->bad_validations;
    last_metrics = resume_from->metrics;
    if (resume_from->rng_state.defined()) {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(resume_from->rng_state);
    }
    resume_from.reset();  // free the copy of the weights
  }
  spdlog::info("[train] {} parameters, {} torch threads, {} batches per epoch",
               summary.parameters,
               threads,
               stream.batches_per_epoch());

  Translator translator(model, tokenizer);
  MetricsLog metrics(run.metrics(), step);
  const ScheduleOptions schedule{tc.schedule, tc.learning_rate, tc.warmup_steps, tc.max_steps};
  const double max_seconds = tc.max_minutes * 60.0;
  Progress progress(tc.log_every, tc.max_steps, max_seconds);
  StopSignalScope signals;

  const auto run_start = Clock::now();
  auto elapsed = [&] { return previous_seconds + seconds_since(run_start); };
  int64_t tokens_this_run = 0;
  auto window_start = Clock::now();
  int64_t window_tokens = 0;
  double window_loss = 0;           // label-smoothed loss summed over the tokens since the last log
  int64_t non_finite_in_a_row = 0;  // steps skipped because the loss or gradient was inf/NaN
  int64_t last_checkpoint_step = options.resume ? step : -1;

  auto save = [&](const char* why) {
    Checkpoint c;
    c.model = module_state(*model);
    store_optimizer_state(optimizer, *model, c);
    c.step = step;
    c.epoch = stream.position().epoch;
    c.batch = stream.position().batch;
    c.elapsed_seconds = elapsed();
    c.rng_state = at::detail::getDefaultCPUGenerator().get_state();
    c.config_yaml = to_yaml(config);
    c.tokenizer_crc32 = tokenizer_crc;
    c.metrics = last_metrics;
    c.best_score = best_score;
    c.bad_validations = bad_validations;
    const fs::path path = run.step_checkpoint(step);
    save_checkpoint(c, path);
    guard.keep();
    run.prune_step_checkpoints(tc.keep_last);
    last_checkpoint_step = step;
    summary.last_checkpoint = path;
    spdlog::info("[train] saved {} ({})", path.string(), why);
    return path;
  };

  auto run_validation = [&] {
    progress.interrupt();
    const auto start_validation = Clock::now();
    const ValidationResult v = validate(
        translator, valid_data.examples, valid_text, tc.valid_max_sentences, tc.max_tokens);
    model->train();
    last_metrics = {
        {"valid_loss", v.loss}, {"valid_ppl", v.perplexity}, {"bleu", v.bleu}, {"chrf", v.chrf}};
    const double score = score_of(tc.best_metric, v);
    const bool improved = score > best_score;
    if (improved) {
      best_score = score;
      bad_validations = 0;
    } else {
      ++bad_validations;
    }
    spdlog::info(
        "[valid] step {} | loss {:.4f} | ppl {:.2f} | BLEU {:.2f} | chrF {:.2f} ({} sentences, "
        "{:.1f} s){}",
        step,
        v.loss,
        v.perplexity,
        v.bleu,
        v.chrf,
        v.sentences,
        seconds_since(start_validation),
        improved ? " | new best" : "");
    for (const auto& sample : v.samples) {
      spdlog::info("[valid]   src: {}", sample.source);
      spdlog::info("[valid]   hyp: {}", sample.hypothesis);
      spdlog::info("[valid]   ref: {}", sample.reference);
    }
    MetricsRecord record{"valid", step, last_metrics};
    record.values["best"] = improved ? 1.0 : 0.0;
    metrics.append(record);
    save_probe_attention(translator, tc.probe_sentences, step, run.attention());
    const fs::path path = save("validation");
    if (improved) run.mark_best(path);
  };

  // 4. The loop.
  model->train();
  std::string stop_reason;
  while (true) {
    if (tc.max_steps > 0 && step >= tc.max_steps)
      stop_reason = "max_steps";
    else if (tc.max_epochs > 0 && stream.position().epoch >= tc.max_epochs)
      stop_reason = "max_epochs";
    else if (max_seconds > 0 && elapsed() >= max_seconds)
      stop_reason = "max_minutes";
    else if (tc.patience > 0 && bad_validations >= tc.patience)
      stop_reason = "patience";
    else if (StopSignalScope::requested())
      stop_reason = "signal";
    if (!stop_reason.empty()) break;

    const double lr = learning_rate_at(step + 1, schedule);
    set_learning_rate(optimizer, lr);
    optimizer.zero_grad();
    std::vector<Batch> batches;
    int64_t step_tokens = 0;
    for (int64_t i = 0; i < tc.accumulate; ++i) {
      batches.push_back(stream.next());
      step_tokens += batches.back().num_target_tokens;
    }
    double step_loss = 0;  // CPU scalars: reading them costs no device sync
    for (const Batch& batch : batches) {
      const auto logits = model->forward(batch.src, batch.tgt_in);  // [B, T, V]
      const TokenLoss loss = label_smoothed_loss(logits, batch.tgt_out, tc.label_smoothing, kPadId);
      // Normalise by the tokens of the whole step so accumulation equals one big batch.
      (loss.smoothed_sum / static_cast<double>(step_tokens)).backward();
      step_loss += loss.smoothed_sum.item<double>();
    }
    const double grad_norm =
        tc.clip_norm > 0 ? torch::nn::utils::clip_grad_norm_(model->parameters(), tc.clip_norm)
                         : 0.0;
    ++step;
    // One inf/NaN update would poison every weight for good: skip it, and stop with a clear
    // error if it keeps happening (the run's last checkpoint stays as it was).
    if (!std::isfinite(step_loss) || !std::isfinite(grad_norm)) {
      ++non_finite_in_a_row;
      spdlog::warn("[train] step {}: loss or gradient norm is not finite, update skipped", step);
      if (non_finite_in_a_row >= kMaxNonFiniteSteps) {
        throw std::runtime_error(fmt::format(
            "training diverged: loss or gradient not finite in {} steps in a row (step {}); "
            "try a lower train.learning_rate or more train.warmup_steps",
            non_finite_in_a_row,
            step));
      }
    } else {
      non_finite_in_a_row = 0;
      optimizer.step();
      window_loss += step_loss;
    }
    tokens_this_run += step_tokens;
    window_tokens += step_tokens;

    const bool log_due = step % tc.log_every == 0;
    if (log_due || ::isatty(2)) {
      const double window_seconds = seconds_since(window_start);
      StepReport report;
      report.step = step;
      report.epoch = stream.position().epoch + 1;
      report.loss = window_loss / static_cast<double>(std::max<int64_t>(window_tokens, 1));
      report.learning_rate = lr;
      report.tokens_per_second = window_seconds > 0 ? window_tokens / window_seconds : 0;
      report.elapsed_seconds = elapsed();
      progress.update(report);
      if (log_due) {
        metrics.append({"train",
                        step,
                        {{"epoch", static_cast<double>(report.epoch)},
                         {"loss", report.loss},
                         {"lr", lr},
                         {"tokens_per_s", report.tokens_per_second},
                         {"elapsed_s", report.elapsed_seconds}}});
        window_start = Clock::now();
        window_tokens = 0;
        window_loss = 0;
      }
    }
    if (step % tc.validate_every == 0) run_validation();
  }
  progress.interrupt();

  // Wrap up: a signal saves at once (no validation, so Ctrl-C returns in seconds); any other
  // stop validates first unless the last step just did.
  if (stop_reason == "signal") {
    spdlog::warn("[train] signal {} received: saving and stopping",
                 StopSignalScope::signal_number());
    if (last_checkpoint_step != step) save("interrupted");
  } else if (last_checkpoint_step != step) {
    run_validation();
  }
  write_loss_plot(MetricsLog::read(run.metrics()), run.loss_plot());
  summary.steps = step;
  summary.seconds = elapsed();
  summary.tokens_per_second = tokens_this_run / std::max(seconds_since(run_start), 1e-9);
  summary.stop_reason = stop_reason;
  summary.last_validation = last_metrics;
  summary.best_score = tc.best_metric == "loss" ? -best_score : best_score;
  if (fs::exists(run.best_checkpoint())) summary.best_checkpoint = run.best_checkpoint();
  return summary;
}

}  // namespace qkv
