// Validation of a parsed experiment config (see config_validation.h): range and cross-field
// rules, one step per section. Enum values were checked when read; model/ checks its own
// config and search options (validate_model_config, validate_search_options), and their errors
// get the key's line.
#include "train/config_validation.h"

#include <initializer_list>
#include <map>
#include <string>
#include <utility>

#include "model/search.h"
#include "model/transformer.h"
#include "train/decode_search.h"

namespace qkv {

[[noreturn]] void throw_config_error(const std::string& origin,
                                     const std::string& path,
                                     const std::string& what) {
  throw ConfigError(origin + ": " + path + ": " + what);
}

namespace {

class Validator {
 public:
  explicit Validator(const ConfigOrigins& origins) : origins_(origins) {}

  void require(bool ok, const std::string& path, const std::string& what) const {
    if (!ok) throw_config_error(origins_.of(path), path, what);
  }
  void one_of(const std::string& value,
              const std::string& path,
              std::initializer_list<const char*> choices) const {
    std::string list;
    for (const char* c : choices) {
      if (value == c) return;
      list += (list.empty() ? "" : ", ") + std::string(c);
    }
    throw_config_error(origins_.of(path), path, "'" + value + "' is not one of: " + list);
  }

  /// Runs a model/ validator, which throws std::invalid_argument("key: what is wrong"), and
  /// rethrows its error as a ConfigError at the line of that key. `keys` renames the
  /// validator's field names to config keys (e.g. search.max_length_ratio ->
  /// decode.max_length_a).
  template <class Check>
  void delegate(Check check, const std::map<std::string, std::string>& keys = {}) const {
    try {
      check();
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      const auto colon = message.find(": ");
      if (colon == std::string::npos) throw ConfigError(origins_.source() + ": " + message);
      std::string key = message.substr(0, colon);
      if (const auto renamed = keys.find(key); renamed != keys.end()) key = renamed->second;
      throw_config_error(origins_.of(key), key, message.substr(colon + 2));
    }
  }

 private:
  const ConfigOrigins& origins_;
};

std::string str(double v) { return format_double(v); }
std::string str(int64_t v) { return std::to_string(v); }

void validate_model(const ModelConfig& m, const Validator& check) {
  check.delegate([&] { validate_model_config(m); });
}

void validate_corpus_files(const DataConfig& d, const Validator& check) {
  for (const auto& [path, value] :
       {std::pair<const char*, const std::string&>{"data.train_source", d.train_source},
        {"data.train_target", d.train_target},
        {"data.valid_source", d.valid_source},
        {"data.valid_target", d.valid_target}}) {
    check.require(!value.empty(), path, "is required when data.corpus is files");
  }
  check.require(d.test_source.empty() == d.test_target.empty(),
                "data.test_target",
                "data.test_source and data.test_target must be given together");
}

void validate_data(const DataConfig& d, const ModelConfig& m, const Validator& check) {
  check.one_of(d.corpus, "data.corpus", {"ding-en-de", "multi30k-en-de", "tatoeba-en-ru", "files"});
  check.require(!d.source_lang.empty(), "data.source_lang", "must not be empty");
  check.require(!d.target_lang.empty(), "data.target_lang", "must not be empty");
  check.require(
      d.source_lang != d.target_lang, "data.target_lang", "must differ from data.source_lang");
  if (d.corpus == "files") validate_corpus_files(d, check);
  check.require(
      d.vocab_size >= 8, "data.vocab_size", "must be at least 8, got " + str(d.vocab_size));
  check.require(d.character_coverage > 0 && d.character_coverage <= 1,
                "data.character_coverage",
                "must be in (0, 1], got " + str(d.character_coverage));
  check.require(d.max_length > 0, "data.max_length", "must be positive, got " + str(d.max_length));
  check.require(
      d.max_length + 2 <= m.max_positions,
      "data.max_length",
      str(d.max_length) + " + 2 (BOS/EOS) exceeds model.max_positions " + str(m.max_positions));
}

// When training stops, and the learning-rate schedule that depends on it.
void validate_duration(const TrainConfig& t, const Validator& check) {
  check.require(t.max_steps >= 0, "train.max_steps", "must not be negative (0 = no limit)");
  check.require(t.max_epochs >= 0, "train.max_epochs", "must not be negative (0 = no limit)");
  check.require(t.max_minutes >= 0, "train.max_minutes", "must not be negative (0 = no limit)");
  check.require(
      t.max_steps > 0 || t.max_epochs > 0 || t.max_minutes > 0,
      "train.max_steps",
      "no stop condition: set one of train.max_steps, train.max_epochs, train.max_minutes");
  check.require(t.learning_rate > 0, "train.learning_rate", "must be positive");
  check.require(t.warmup_steps >= 0, "train.warmup_steps", "must not be negative");
  if (t.schedule != ScheduleKind::kConstant && t.max_steps > 0) {
    check.require(t.warmup_steps < t.max_steps,
                  "train.warmup_steps",
                  str(t.warmup_steps) + " must be below train.max_steps " + str(t.max_steps));
  }
  check.require(t.schedule != ScheduleKind::kLinear || t.max_steps > 0,
                "train.schedule",
                "linear decay needs train.max_steps > 0");
}

void validate_optimiser(const TrainConfig& t, const Validator& check) {
  check.require(t.max_tokens > 0, "train.max_tokens", "must be positive, got " + str(t.max_tokens));
  check.require(t.accumulate >= 1, "train.accumulate", "must be at least 1");
  check.require(t.label_smoothing >= 0 && t.label_smoothing < 1,
                "train.label_smoothing",
                "must be in [0, 1)");
  check.require(t.clip_norm >= 0, "train.clip_norm", "must not be negative (0 = off)");
  check.require(t.adam_beta1 >= 0 && t.adam_beta1 < 1, "train.adam_beta1", "must be in [0, 1)");
  check.require(t.adam_beta2 >= 0 && t.adam_beta2 < 1, "train.adam_beta2", "must be in [0, 1)");
  check.require(t.adam_eps > 0, "train.adam_eps", "must be positive");
  check.require(t.weight_decay >= 0, "train.weight_decay", "must not be negative");
}

void validate_train(const TrainConfig& t, const Validator& check) {
  check.require(t.seed >= 0, "train.seed", "must not be negative");
  check.require(t.threads >= 0, "train.threads", "must not be negative (0 = default)");
  validate_duration(t, check);
  validate_optimiser(t, check);
  check.require(t.log_every > 0, "train.log_every", "must be positive");
  check.require(t.validate_every > 0, "train.validate_every", "must be positive");
  check.require(t.precision != Precision::kInt8,
                "train.precision",
                "int8 is for decoding (--precision int8); use auto, fp32 or bf16");
  check.require(t.valid_max_sentences >= 0, "train.valid_max_sentences", "must not be negative");
  check.require(t.patience >= 0, "train.patience", "must not be negative (0 = off)");
  check.require(t.keep_last >= 1, "train.keep_last", "must be at least 1");
  check.require(t.dist_timeout_s > 0, "train.dist_timeout_s", "must be positive");
}

void validate_decode(const DecodeConfig& dc, const Validator& check) {
  // beam_size >= 1, length_penalty >= 0 and max_length_a >= 0 are validate_search_options'.
  check.delegate([&] { validate_search_options(search_options_for(dc)); },
                 {{"search.beam_size", "decode.beam_size"},
                  {"search.length_penalty_alpha", "decode.length_penalty"},
                  {"search.max_length_ratio", "decode.max_length_a"}});
  check.require(dc.max_length_b >= 0, "decode.max_length_b", "must not be negative");
  check.require(dc.max_length_a + static_cast<double>(dc.max_length_b) > 0,
                "decode.max_length_b",
                "decode.max_length_a and decode.max_length_b cannot both be 0");
}

}  // namespace

void validate_experiment_config(const ExperimentConfig& c, const ConfigOrigins& origins) {
  const Validator check(origins);
  validate_model(c.model, check);
  validate_data(c.data, c.model, check);
  validate_train(c.train, check);
  validate_decode(c.decode, check);
}

}  // namespace qkv
