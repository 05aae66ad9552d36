// `qkv evaluate`: translates a source file (or the run's own test split) and scores it
// against references with BLEU and chrF, computed as sacreBLEU does by default.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/decode_flags.h"
#include "inference/evaluation.h"
#include "inference/loaded_run.h"
#include "inference/translator.h"

namespace qkv {
namespace {

struct EvaluateCommand {
  DecodeFlags decode;
  std::string src;
  std::string ref;
  std::string split = "test";
  std::string output;
  bool json = false;
};

// The sentences to score: --src/--ref, or the run's --split.
TestSet test_set(const EvaluateCommand& c, const LoadedRun& loaded) {
  if (c.src.empty() != c.ref.empty())
    throw std::invalid_argument("--src and --ref must be given together");
  if (!c.src.empty()) return read_test_set(c.src, c.ref);
  return prepared_test_set(loaded.config.data, c.split);
}

void write_translations(const std::string& path, const std::vector<std::string>& hypotheses) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& h : hypotheses) out << h << '\n';
  if (!out) throw std::runtime_error("cannot write --output " + path);
}

void print_json(const Evaluation& e,
                const TestSet& set,
                const TranslateOptions& options,
                const LoadedRun& loaded) {
  nlohmann::ordered_json j;
  j["bleu"] = e.bleu.score;
  j["chrf"] = e.chrf.score;
  j["bleu_signature"] = e.bleu.signature;
  j["chrf_signature"] = e.chrf.signature;
  j["bleu_precisions"] = e.bleu.precisions;
  j["bp"] = e.bleu.bp;
  j["hyp_len"] = e.bleu.sys_len;
  j["ref_len"] = e.bleu.ref_len;
  j["sentences"] = e.hypotheses.size();
  j["beam"] = options.decode.beam_size;
  j["checkpoint"] = loaded.checkpoint.string();
  j["src"] = set.source_name;
  j["ref"] = set.reference_name;
  j["seconds"] = e.seconds;
  j["sentences_per_s"] = e.sentences_per_second();
  std::cout << j.dump() << std::endl;
}

void print_scores(const Evaluation& e, const TranslateOptions& options, const LoadedRun& loaded) {
  std::cout << e.bleu.format_with_signature() << '\n' << e.chrf.format_with_signature() << '\n';
  spdlog::info("[evaluate] {} sentences, beam {}, {:.1f} s ({:.1f} sentences/s), checkpoint {}",
               e.hypotheses.size(),
               options.decode.beam_size,
               e.seconds,
               e.sentences_per_second(),
               loaded.checkpoint.string());
}

void run(const EvaluateCommand& c) {
  LoadedRun loaded = load_decoding_run(c.decode);
  const TranslateOptions options = translate_options(c.decode, loaded.config);
  const TestSet set = test_set(c, loaded);
  Translator translator(loaded.model, *loaded.tokenizer);
  const Evaluation evaluation = evaluate(translator, set.sources, set.references, options);
  if (!c.output.empty()) write_translations(c.output, evaluation.hypotheses);
  if (c.json) {
    print_json(evaluation, set, options, loaded);
  } else {
    print_scores(evaluation, options, loaded);
  }
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto c = std::make_shared<EvaluateCommand>();
  CLI::App* cmd = app.add_subcommand(
      "evaluate", "Translate a test set and score it (BLEU, chrF as sacreBLEU computes them)");
  add_decode_flags(*cmd, c->decode);
  cmd->add_option("--src", c->src, "Source file (default: the run's --split)");
  cmd->add_option("--ref", c->ref, "Reference file, line-aligned with --src");
  cmd->add_option("--split", c->split, "test or valid: the run corpus's split when no --src")
      ->capture_default_str();
  cmd->add_option("-o,--output", c->output, "Also write the translations to FILE");
  cmd->add_flag("--json", c->json, "Print one JSON object");
  cmd->callback([c] { run(*c); });
}

}  // namespace qkv
