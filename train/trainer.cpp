// The training loop (see trainer.h), as a Trainer made of small steps, run in this order:
//   prepare()            run directory (new or resumed), data, tokenizer, batch stream
//   restore()            model + Adam, and on --resume their state, counters and RNG
//   loop: train_step()   accumulate gradients, clip, schedule, update; log_step()
//         validate_and_save() every train.validate_every steps, then the after_validation hook
//   finish()             final validation or interrupted save, the after_training hook, summary
// In a data-parallel group (train/training_group.h) every rank runs the same steps in the same
// order: rank 0 reads and writes the run directory and validates, and sends the others what
// they need (checkpoint, tokenizer, validation figures); each step sums the gradients of all
// ranks, so the ranks stay identical; docs/distributed.md says what is exchanged when.
#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include "data/batching.h"
#include "data/dataset.h"
#include "data/io/atomic_file.h"
#include "data/prepare.h"
#include "data/special_tokens.h"
#include "data/tokenizer.h"
#include "inference/translator.h"
#include "model/device.h"
#include "model/linear.h"
#include "model/precision.h"
#include "model/transformer.h"
#include "train/checkpoint/checkpoint.h"
#include "train/enum_names.h"
#include "train/loss.h"
#include "train/metrics_log.h"
#include "train/progress.h"
#include "train/schedule.h"
#include "train/stop_signal.h"
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

// Adds RUN/train.log to the default logger for the lifetime of the object. `file_only()` writes
// to the file alone: the step lines that a terminal shows as one live line instead.
class RunLogFile {
 public:
  explicit RunLogFile(const fs::path& path) {
    sink_ = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string());
    sink_->set_pattern("[%Y-%m-%d %H:%M:%S %l] %v");
    spdlog::default_logger()->sinks().push_back(sink_);
    file_only_ = std::make_shared<spdlog::logger>("train.log", sink_);
    // Flush every line, so that `tail -f RUN/train.log` follows a run (a line every
    // train.log_every steps costs nothing).
    previous_flush_level_ = spdlog::default_logger()->flush_level();
    spdlog::default_logger()->flush_on(spdlog::level::info);
    file_only_->flush_on(spdlog::level::info);
  }
  ~RunLogFile() {
    spdlog::default_logger()->flush_on(previous_flush_level_);
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  RunLogFile(const RunLogFile&) = delete;
  RunLogFile& operator=(const RunLogFile&) = delete;

  spdlog::logger& file_only() { return *file_only_; }

 private:
  spdlog::sink_ptr sink_;
  std::shared_ptr<spdlog::logger> file_only_;
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
  NewRunDirGuard(const NewRunDirGuard&) = delete;
  NewRunDirGuard& operator=(const NewRunDirGuard&) = delete;

 private:
  fs::path root_;
  bool created_;
};

// train.device resolved (auto: what this LibTorch build has).
torch::Device training_device(const TrainConfig& tc) {
  return resolve_device(tc.device, "train.device");
}

// Higher is better for every metric qkv keeps "best" by.
double score_of(BestMetric metric, const ValidationResult& v) {
  switch (metric) {
    case BestMetric::kBleu:
      return v.bleu;
    case BestMetric::kChrf:
      return v.chrf;
    case BestMetric::kLoss:
      break;
  }
  return -v.loss;
}

void set_learning_rate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

// Empty files (or only empty lines) would fail later with an error that names no file, or
// validate on nothing (loss 0, BLEU 0). For corpus "files", name the user's files.
void require_pairs(const std::vector<SentencePair>& pairs,
                   const char* what,
                   const std::string& source,
                   const std::string& target) {
  if (pairs.empty()) {
    throw std::runtime_error(std::string("no ") + what + " sentence pairs: " + source + " and " +
                             target + " are empty or hold only empty lines");
  }
}

TokenizerOptions tokenizer_options(const ExperimentConfig& config) {
  TokenizerOptions options;
  options.model_type = enum_name(config.data.tokenizer);
  options.vocab_size = config.data.vocab_size;
  options.character_coverage = config.data.character_coverage;
  options.seed = static_cast<uint32_t>(config.train.seed);
  return options;
}

// The loss, gradient and token count of one optimiser step (of train.accumulate batches).
struct StepResult {
  double loss = 0;  // label-smoothed loss summed over the step's target tokens
  double grad_norm = 0;
  int64_t tokens = 0;
};

// Counters that go into every checkpoint and come back on --resume.
struct TrainState {
  int64_t step = 0;
  double previous_seconds = 0;  // training time of earlier runs of this run directory
  double best_score = -std::numeric_limits<double>::infinity();
  int64_t bad_validations = 0;
  std::map<std::string, double> last_metrics;
};

// Stop requests that arise on one rank (a signal, rank 0's clock) and must stop every rank at
// the same step: summed over the ranks with each step's gradients.
struct AgreedStop {
  bool signal = false;
  bool time_up = false;
};

// The progress-log window: what the next step line averages over.
struct LogWindow {
  Clock::time_point start = Clock::now();
  int64_t tokens = 0;
  double loss = 0;  // label-smoothed loss summed over the tokens since the last log line
};

class Trainer {
 public:
  Trainer(const ExperimentConfig& config, const TrainOptions& options)
      : config_(config),
        tc_(config.train),
        options_(options),
        group_(options.group ? *options.group : single_process_),
        run_(options.run_dir),
        device_(training_device(tc_)),
        precision_(training_precision(tc_, device_)) {}

  TrainSummary run() {
    prepare();
    restore();
    model_->train();
    while (true) {
      stop_reason_ = stop_reason();
      if (!stop_reason_.empty()) break;
      const double lr = learning_rate_at(state_.step + 1, schedule_);
      set_learning_rate(*optimizer_, lr);
      train_step();
      log_step(lr);
      if (state_.step % tc_.validate_every == 0) validate_and_save();
    }
    return finish();
  }

 private:
  bool rank0() const { return group_.rank() == 0; }
  bool distributed() const { return group_.world_size() > 1; }
  void check_group();
  void start_ranks_alike();
  std::optional<Checkpoint> checkpoint_to_resume();
  void prepare();
  void prepare_run_directory(const std::vector<SentencePair>& train_pairs);
  void prepare_batches(const std::vector<SentencePair>& train_pairs,
                       const std::vector<SentencePair>& valid_pairs);
  void restore();
  std::string stop_reason() const;
  StepResult train_step();
  std::vector<Batch> my_share_of_next_step(int64_t& step_tokens);
  double sum_over_ranks(double local_loss);
  ValidationResult validate_on_rank0();
  TokenLoss forward_loss(const Batch& batch);
  void log_step(double lr);
  void validate_and_save();
  fs::path save(const char* why);
  TrainSummary finish();

  double elapsed() const { return state_.previous_seconds + seconds_since(run_start_); }
  bool time_is_up() const { return tc_.max_minutes > 0 && elapsed() >= tc_.max_minutes * 60.0; }

  const ExperimentConfig& config_;
  const TrainConfig& tc_;
  const TrainOptions& options_;
  SingleProcess single_process_;
  TrainingGroup& group_;
  const RunDir run_;
  const torch::Device device_;
  const ResolvedPrecision precision_;

  std::optional<Checkpoint> resume_from_;
  std::optional<NewRunDirGuard> guard_;
  std::optional<RunLogFile> log_file_;
  std::optional<Tokenizer> tokenizer_;
  std::string tokenizer_crc_;
  EncodedCorpus valid_data_;
  std::vector<SentencePair> valid_text_;  // the validation pairs that were encoded, as text
  std::unique_ptr<BatchStream> stream_;

  Transformer model_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<Translator> translator_;
  std::unique_ptr<MetricsLog> metrics_;
  std::unique_ptr<Progress> progress_;
  std::optional<StopSignalScope> signals_;
  ScheduleOptions schedule_;

  TrainState state_;
  TrainSummary summary_;
  Clock::time_point run_start_;
  LogWindow window_;
  int64_t tokens_this_run_ = 0;
  int64_t non_finite_in_a_row_ = 0;  // steps skipped because the loss or gradient was inf/NaN
  int64_t last_checkpoint_step_ = -1;
  std::string stop_reason_;
  AgreedStop agreed_stop_;
  double all_reduce_seconds_ = 0;
};

// 1. The run directory (new or resumed), the data and the tokenizer.
void Trainer::prepare() {
  if (distributed()) check_group();
  resume_from_ = checkpoint_to_resume();
  // Ranks on one machine share the corpus cache: rank 0 prepares it, then the others find it
  // (or, on another machine, prepare their own copy, the same bytes).
  if (!rank0()) group_.share_from_rank0("corpus", "");
  // A resumed run keeps the splits it was trained on, even if its raw folder is gone.
  const PreparedCorpus corpus =
      resume_from_ ? find_or_prepare_corpus(config_.data) : prepare_corpus(config_.data);
  if (rank0()) group_.share_from_rank0("corpus", "");
  spdlog::info("[data] {}: {} train / {} valid / {} test pairs in {}",
               corpus.corpus,
               corpus.train.pairs,
               corpus.valid.pairs,
               corpus.test.pairs,
               corpus.dir.string());
  const auto train_pairs = read_prepared_split(corpus.train);
  const auto valid_pairs = read_prepared_split(corpus.valid);
  const DataConfig& dc = config_.data;
  const bool files = dc.corpus == "files";
  require_pairs(train_pairs,
                "training",
                files ? dc.train_source : corpus.train.source.string(),
                files ? dc.train_target : corpus.train.target.string());
  require_pairs(valid_pairs,
                "validation",
                files ? dc.valid_source : corpus.valid.source.string(),
                files ? dc.valid_target : corpus.valid.target.string());
  prepare_run_directory(train_pairs);
  prepare_batches(train_pairs, valid_pairs);
}

// Every rank must train the same model on the same data, on CPUs (Gloo sums CPU tensors).
void Trainer::check_group() {
  if (device_.is_cuda()) {
    throw std::runtime_error(
        "data-parallel training (WORLD_SIZE > 1) runs on CPUs only (Gloo): set train.device: "
        "cpu");
  }
  group_.check_same("config", to_yaml(config_));
}

// On --resume, rank 0's latest checkpoint (read by rank 0, sent to the others); else nothing,
// and a run directory that already has checkpoints is an error.
std::optional<Checkpoint> Trainer::checkpoint_to_resume() {
  std::string bytes;
  std::string name = "rank 0's checkpoint";
  if (rank0() && options_.resume) {
    const auto latest = run_.latest_checkpoint();
    if (!latest) {
      throw std::runtime_error("cannot resume: run directory " + run_.root().string() +
                               " has no checkpoint (start without --resume)");
    }
    name = latest->string();
    bytes = read_checkpoint_bytes(*latest);
  } else if (rank0() && !run_.step_checkpoints().empty()) {
    throw std::runtime_error(
        "run directory " + run_.root().string() +
        " already has checkpoints: pass --resume to continue it, or choose another --run-dir");
  }
  bytes = group_.share_from_rank0("checkpoint", std::move(bytes));
  if (bytes.empty()) return std::nullopt;
  Checkpoint checkpoint = parse_checkpoint(bytes, name);
  spdlog::info("[train] resuming from {} (step {})", name, checkpoint.step);
  return checkpoint;
}

// A new run saves its config and trains its tokenizer; a resumed one checks the tokenizer.
// Rank 0 alone touches the run directory; the other ranks get the tokenizer from it.
void Trainer::prepare_run_directory(const std::vector<SentencePair>& train_pairs) {
  if (rank0()) {
    guard_.emplace(run_.root());
    fs::create_directories(run_.checkpoints());
    remove_stale_temporary_files(run_.checkpoints());
    log_file_.emplace(run_.log());
    if (!resume_from_) {
      write_file_atomically(run_.config(), to_yaml(config_, /*with_docs=*/true));
      spdlog::info("[data] training a {} SentencePiece model, vocabulary {}",
                   enum_name(config_.data.tokenizer),
                   config_.data.vocab_size);
      Tokenizer::train(joint_sentences(train_pairs), tokenizer_options(config_), run_.tokenizer());
    }
    tokenizer_.emplace(Tokenizer::load(run_.tokenizer()));
    tokenizer_crc_ = file_crc32(run_.tokenizer());
    if (resume_from_ && resume_from_->tokenizer_crc32 != tokenizer_crc_) {
      throw std::runtime_error(
          "cannot resume: " + run_.tokenizer().string() +
          " is not the tokenizer the checkpoint was trained with (CRC-32 differs)");
    }
  }
  const std::string model =
      group_.share_from_rank0("tokenizer", rank0() ? tokenizer_->serialized() : "");
  if (!rank0()) tokenizer_.emplace(Tokenizer::from_bytes(model, "rank 0's tokenizer"));
}

// 2. Token ids, and the batch stream at the saved position.
void Trainer::prepare_batches(const std::vector<SentencePair>& train_pairs,
                              const std::vector<SentencePair>& valid_pairs) {
  EncodedCorpus train_data = encode_corpus(train_pairs, *tokenizer_, config_.data.max_length);
  valid_data_ = encode_corpus(valid_pairs, *tokenizer_, config_.model.max_positions - 2);
  spdlog::info(
      "[data] {} training examples ({} longer than {} tokens skipped), {} validation examples",
      train_data.examples.size(),
      train_data.dropped_too_long,
      config_.data.max_length,
      valid_data_.examples.size());
  for (int64_t index : valid_data_.pair_indices) valid_text_.push_back(valid_pairs[index]);
  BatchingOptions batching;
  batching.max_tokens = tc_.max_tokens;
  batching.seed = static_cast<uint64_t>(tc_.seed);
  BatchPosition start;
  if (resume_from_) start = {resume_from_->epoch, resume_from_->batch};
  stream_ = std::make_unique<BatchStream>(std::move(train_data.examples), batching, start);
}

// 3. Model and optimiser, from the seed or from the checkpoint being resumed.
void Trainer::restore() {
  torch::manual_seed(static_cast<uint64_t>(tc_.seed));
  model_ = Transformer(config_.model, tokenizer_->vocab_size(), kPadId);
  model_->to(device_);  // initialised on the CPU first: the same weights on every device
  optimizer_ = std::make_unique<torch::optim::Adam>(model_->parameters(),
                                                    torch::optim::AdamOptions(tc_.learning_rate)
                                                        .betas({tc_.adam_beta1, tc_.adam_beta2})
                                                        .eps(tc_.adam_eps)
                                                        .weight_decay(tc_.weight_decay));
  summary_.parameters = count_parameters(*model_);
  if (resume_from_) {
    load_module_state(*model_, resume_from_->model, run_.root().string());
    restore_optimizer_state(*optimizer_, *model_, *resume_from_, run_.root().string());
    state_ = {resume_from_->step,
              resume_from_->elapsed_seconds,
              resume_from_->best_score,
              resume_from_->bad_validations,
              resume_from_->metrics};
    last_checkpoint_step_ = state_.step;
    if (resume_from_->rng_state.defined()) {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(resume_from_->rng_state);
    }
    resume_from_.reset();  // free the copy of the weights
  }
  if (distributed()) start_ranks_alike();
  spdlog::info("[train] {} parameters, {} torch threads, {} batches per epoch, device {}",
               summary_.parameters,
               at::get_num_threads(),
               stream_->batches_per_epoch(),
               device_.str());
  if (precision_.slow) {
    spdlog::warn("[train] {}", precision_.reason);
  } else {
    spdlog::info("[train] {}", precision_.reason);
  }
  translator_ = std::make_unique<Translator>(model_, *tokenizer_);
  schedule_ = {tc_.schedule, tc_.learning_rate, tc_.warmup_steps, tc_.max_steps};
  if (rank0()) {
    metrics_ = std::make_unique<MetricsLog>(run_.metrics(), state_.step);
    progress_ = std::make_unique<Progress>(
        tc_.log_every, tc_.max_steps, tc_.max_minutes * 60.0, [this](const std::string& line) {
          log_file_->file_only().info("[train] {}", line);
        });
  }
  signals_.emplace();
  run_start_ = Clock::now();
  window_ = {};
}

// Every rank starts from rank 0's weights (the same seed gives the same ones; this makes sure),
// and draws its own dropout masks: a stream of its own, from the seed, its rank and the step.
void Trainer::start_ranks_alike() {
  std::vector<torch::Tensor> weights;
  for (const auto& parameter : model_->parameters()) weights.push_back(parameter);
  for (const auto& buffer : model_->buffers()) weights.push_back(buffer);
  group_.broadcast_from_rank0(weights);
  if (!rank0()) {
    torch::manual_seed(static_cast<uint64_t>(tc_.seed + 1000003 * group_.rank() + state_.step));
  }
  spdlog::info("[train] rank {} of {}: weights from rank 0, {} batch(es) per rank and step",
               group_.rank(),
               group_.world_size(),
               tc_.accumulate);
}

// Why training stops now, or "" to go on. A signal or the time limit counts when any rank saw
// it at the last step (agreed_stop_), so that every rank stops after the same step.
std::string Trainer::stop_reason() const {
  if (tc_.max_steps > 0 && state_.step >= tc_.max_steps) return "max_steps";
  if (tc_.max_epochs > 0 && stream_->position().epoch >= tc_.max_epochs) return "max_epochs";
  if (distributed() ? agreed_stop_.time_up : time_is_up()) return "max_minutes";
  if (tc_.patience > 0 && state_.bad_validations >= tc_.patience) return "patience";
  if (distributed() ? agreed_stop_.signal : StopSignalScope::requested()) return "signal";
  return "";
}

// 4. One optimiser step over train.accumulate batches. An inf/NaN update would poison every
// weight for good: it is skipped, and training stops with a clear error if it keeps happening
// (the run's last checkpoint stays as it was).
StepResult Trainer::train_step() {
  optimizer_->zero_grad();
  StepResult result;
  for (const Batch& on_cpu : my_share_of_next_step(result.tokens)) {
    const Batch batch = to_device(on_cpu, device_);
    const TokenLoss loss = forward_loss(batch);
    // Normalise by the tokens of the whole step (all batches of all ranks), so accumulation and
    // ranks equal one big batch.
    (loss.smoothed_sum / static_cast<double>(result.tokens)).backward();
    result.loss += loss.smoothed_sum.item<double>();
  }
  if (distributed()) result.loss = sum_over_ranks(result.loss);
  result.grad_norm = tc_.clip_norm > 0
                         ? torch::nn::utils::clip_grad_norm_(model_->parameters(), tc_.clip_norm)
                         : 0.0;
  ++state_.step;
  if (!std::isfinite(result.loss) || !std::isfinite(result.grad_norm)) {
    ++non_finite_in_a_row_;
    spdlog::warn("[train] step {}: loss or gradient norm is not finite, update skipped",
                 state_.step);
    if (non_finite_in_a_row_ >= kMaxNonFiniteSteps) {
      throw std::runtime_error(fmt::format(
          "training diverged: loss or gradient not finite in {} steps in a row (step {}); "
          "try a lower train.learning_rate or more train.warmup_steps",
          non_finite_in_a_row_,
          state_.step));
    }
  } else {
    non_finite_in_a_row_ = 0;
    optimizer_->step();
    window_.loss += result.loss;
  }
  tokens_this_run_ += result.tokens;
  window_.tokens += result.tokens;
  return result;
}

// A step takes train.accumulate x world size consecutive batches of the stream, the same on
// every rank (same seed, same position); rank r trains on batches r, r + N, r + 2N, ... Each
// batch holds at most train.max_tokens tokens, so the shares are balanced to within a batch.
// `step_tokens` becomes the target tokens of the whole step, which every rank knows without
// asking the others.
std::vector<Batch> Trainer::my_share_of_next_step(int64_t& step_tokens) {
  const int64_t ranks = group_.world_size();
  std::vector<Batch> mine;
  for (int64_t i = 0; i < tc_.accumulate * ranks; ++i) {
    Batch batch = stream_->next();
    step_tokens += batch.num_target_tokens;
    if (i % ranks == group_.rank()) mine.push_back(std::move(batch));
  }
  return mine;
}

// One exchange per step: every gradient (zeros where a parameter got none, so every rank sends
// the same buckets), this rank's loss, and its stop requests, summed over the ranks. Returns
// the step's loss summed over all ranks.
double Trainer::sum_over_ranks(double local_loss) {
  std::vector<torch::Tensor> tensors;
  for (auto& parameter : model_->parameters()) {
    if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
    tensors.push_back(parameter.grad());
  }
  const auto scalars = torch::tensor(
      {local_loss, StopSignalScope::requested() ? 1.0 : 0.0, rank0() && time_is_up() ? 1.0 : 0.0},
      torch::kFloat64);
  tensors.push_back(scalars);
  const auto start = Clock::now();
  group_.all_reduce_sum(tensors);
  all_reduce_seconds_ += seconds_since(start);
  agreed_stop_.signal = scalars[1].item<double>() > 0;
  agreed_stop_.time_up = scalars[2].item<double>() > 0;
  return scalars[0].item<double>();
}

// Forward and loss of one batch in train.precision (model/linear.h: bf16 GEMMs with float32
// master weights); backward follows the casts.
TokenLoss Trainer::forward_loss(const Batch& batch) {
  ScopedGemmPrecision gemms(precision_.precision, device_);
  const auto logits = model_->forward(batch.src, batch.tgt_in);  // [B, T, V]
  return label_smoothed_loss(logits, batch.tgt_out, tc_.label_smoothing, kPadId);
}

// The progress line (every step on a terminal, every train.log_every steps otherwise) and,
// every train.log_every steps, a "train" record in metrics.jsonl.
void Trainer::log_step(double lr) {
  if (!rank0()) return;
  const bool log_due = state_.step % tc_.log_every == 0;
  if (!log_due && !progress_->live()) return;
  const double window_seconds = seconds_since(window_.start);
  StepReport report;
  report.step = state_.step;
  report.epoch = stream_->position().epoch + 1;
  report.loss = window_.loss / static_cast<double>(std::max<int64_t>(window_.tokens, 1));
  report.learning_rate = lr;
  report.tokens_per_second = window_seconds > 0 ? window_.tokens / window_seconds : 0;
  report.elapsed_seconds = elapsed();
  progress_->update(report);
  if (!log_due) return;
  metrics_->append({"train",
                    state_.step,
                    {{"epoch", static_cast<double>(report.epoch)},
                     {"loss", report.loss},
                     {"lr", lr},
                     {"tokens_per_s", report.tokens_per_second},
                     {"elapsed_s", report.elapsed_seconds},
                     {"world_size", static_cast<double>(group_.world_size())}}});
  window_ = {};
}

// 5. Validation (loss, greedy BLEU/chrF), its log lines and metrics record, a checkpoint
// (marked best when the score improved), then the after_validation hook.
void Trainer::validate_and_save() {
  if (progress_) progress_->interrupt();
  const auto start = Clock::now();
  const ValidationResult v = validate_on_rank0();
  model_->train();
  last_checkpoint_step_ = state_.step;  // every rank: the next finish() must agree
  state_.last_metrics = {
      {"valid_loss", v.loss}, {"valid_ppl", v.perplexity}, {"bleu", v.bleu}, {"chrf", v.chrf}};
  const double score = score_of(tc_.best_metric, v);
  const bool improved = score > state_.best_score;
  if (improved) {
    state_.best_score = score;
    state_.bad_validations = 0;
  } else {
    ++state_.bad_validations;
  }
  if (!rank0()) return;
  spdlog::info(
      "[valid] step {} | loss {:.4f} | ppl {:.2f} | BLEU {:.2f} | chrF {:.2f} ({} sentences, "
      "{:.1f} s){}",
      state_.step,
      v.loss,
      v.perplexity,
      v.bleu,
      v.chrf,
      v.sentences,
      seconds_since(start),
      improved ? " | new best" : "");
  for (const auto& sample : v.samples) {
    spdlog::info("[valid]   src: {}", sample.source);
    spdlog::info("[valid]   hyp: {}", sample.hypothesis);
    spdlog::info("[valid]   ref: {}", sample.reference);
  }
  MetricsRecord record{"valid", state_.step, state_.last_metrics};
  record.values["best"] = improved ? 1.0 : 0.0;
  metrics_->append(record);
  const fs::path path = save("validation");
  if (improved) run_.mark_best(path);
  if (options_.hooks.after_validation) options_.hooks.after_validation(*translator_, state_.step);
}

// Rank 0 validates (the others wait) and sends the figures to every rank, which keep the same
// best score and early-stopping count from them.
ValidationResult Trainer::validate_on_rank0() {
  ValidationResult v;
  if (rank0()) {
    v = validate(
        *translator_, valid_data_.examples, valid_text_, tc_.valid_max_sentences, tc_.max_tokens);
  }
  if (!distributed()) return v;
  std::array<double, 5> figures = {
      v.loss, v.perplexity, v.bleu, v.chrf, static_cast<double>(v.sentences)};
  const std::string bytes = group_.share_from_rank0(
      fmt::format("valid-{}", state_.step),
      std::string(reinterpret_cast<const char*>(figures.data()), sizeof(figures)));
  std::memcpy(figures.data(), bytes.data(), sizeof(figures));
  v.loss = figures[0];
  v.perplexity = figures[1];
  v.bleu = figures[2];
  v.chrf = figures[3];
  v.sentences = static_cast<int64_t>(figures[4]);
  return v;
}

// An atomic checkpoint of everything --resume needs; prunes old step checkpoints.
fs::path Trainer::save(const char* why) {
  Checkpoint c;
  c.model = module_state(*model_);
  store_optimizer_state(*optimizer_, *model_, c);
  c.step = state_.step;
  c.epoch = stream_->position().epoch;
  c.batch = stream_->position().batch;
  c.elapsed_seconds = elapsed();
  c.rng_state = at::detail::getDefaultCPUGenerator().get_state();
  c.config_yaml = to_yaml(config_);
  c.tokenizer_crc32 = tokenizer_crc_;
  c.metrics = state_.last_metrics;
  c.best_score = state_.best_score;
  c.bad_validations = state_.bad_validations;
  const fs::path path = run_.step_checkpoint(state_.step);
  save_checkpoint(c, path);
  guard_->keep();
  run_.prune_step_checkpoints(tc_.keep_last);
  last_checkpoint_step_ = state_.step;
  summary_.last_checkpoint = path;
  spdlog::info("[train] saved {} ({})", path.string(), why);
  return path;
}

// 6. A signal saves at once (no validation, so Ctrl-C returns in seconds); any other stop
// validates first unless the last step just did. Then the after_training hook.
TrainSummary Trainer::finish() {
  if (progress_) progress_->interrupt();
  if (stop_reason_ == "signal") {
    // In a group the signal may have reached another rank only (signal_number() is then 0).
    const int signal = StopSignalScope::signal_number();
    spdlog::warn("[train] {} received: saving and stopping",
                 signal != 0 ? fmt::format("signal {}", signal) : "another rank's signal");
    if (rank0() && last_checkpoint_step_ != state_.step) save("interrupted");
  } else if (last_checkpoint_step_ != state_.step) {
    validate_and_save();
  }
  if (rank0() && options_.hooks.after_training) options_.hooks.after_training(run_);
  summary_.steps = state_.step;
  summary_.seconds = elapsed();
  summary_.tokens_per_second = tokens_this_run_ / std::max(seconds_since(run_start_), 1e-9);
  summary_.stop_reason = stop_reason_;
  summary_.world_size = group_.world_size();
  summary_.all_reduce_share = all_reduce_seconds_ / std::max(seconds_since(run_start_), 1e-9);
  summary_.last_validation = state_.last_metrics;
  summary_.best_score =
      tc_.best_metric == BestMetric::kLoss ? -state_.best_score : state_.best_score;
  if (fs::exists(run_.best_checkpoint())) summary_.best_checkpoint = run_.best_checkpoint();
  return summary_;
}

}  // namespace

ResolvedPrecision training_precision(const TrainConfig& tc, torch::Device device) {
  return resolve_precision(tc.precision, device, "train.precision", /*for_training=*/true);
}

ResolvedPrecision training_precision(const TrainConfig& tc) {
  return training_precision(tc, training_device(tc));
}

TrainSummary train_model(const ExperimentConfig& config, const TrainOptions& options) {
  return Trainer(config, options).run();
}

}  // namespace qkv
