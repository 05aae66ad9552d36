// `qkv score`: corpus BLEU and chrF of a hypothesis file against a reference file, computed as
// sacreBLEU 2.x computes them (qkv's reimplementation in train/metrics/; the signatures end in
// "impl:qkv"). Prints one sacreBLEU-style line per metric, or one JSON object with --json.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/commands.h"
#include "train/metrics/bleu.h"
#include "train/metrics/chrf.h"
#include "train/metrics/corpus_files.h"

namespace qkv {
namespace {

struct ScoreCommandOptions {
  std::string hyp_path;
  std::string ref_path;
  bool lowercase = false;
  std::string tokenize = "13a";
  std::string smooth = "exp";
  int chrf_word_order = 0;
  int width = 2;
  bool json = false;
};

BleuSmoothing parse_smoothing(const std::string& name) {
  if (name == "exp") return BleuSmoothing::kExp;
  if (name == "floor") return BleuSmoothing::kFloor;
  if (name == "add-k") return BleuSmoothing::kAddK;
  return BleuSmoothing::kNone;
}

nlohmann::json bleu_json(const BleuScore& bleu, int width) {
  return {{"name", "BLEU"},
          {"score", bleu.score},
          {"signature", bleu.signature},
          {"precisions", bleu.precisions},
          {"counts", bleu.counts},
          {"totals", bleu.totals},
          {"bp", bleu.bp},
          {"ratio", bleu.ratio},
          {"hyp_len", bleu.sys_len},
          {"ref_len", bleu.ref_len},
          {"text", bleu.format_with_signature(width)}};
}

nlohmann::json chrf_json(const ChrfScore& chrf, int width) {
  return {{"name", chrf.name},
          {"score", chrf.score},
          {"signature", chrf.signature},
          {"stats", chrf.stats},
          {"text", chrf.format_with_signature(width)}};
}

void run_score(const ScoreCommandOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const HypRefSegments corpus = read_hyp_ref_segments(options.hyp_path, options.ref_path);

  BleuOptions bleu_options;
  bleu_options.lowercase = options.lowercase;
  bleu_options.tokenizer = options.tokenize == "none" ? BleuTokenizer::kNone : BleuTokenizer::k13a;
  bleu_options.smoothing = parse_smoothing(options.smooth);
  ChrfOptions chrf_options;
  chrf_options.lowercase = options.lowercase;
  chrf_options.word_order = options.chrf_word_order;

  const BleuScore bleu = corpus_bleu(corpus.hyps, corpus.refs, bleu_options);
  const ChrfScore chrf = corpus_chrf(corpus.hyps, corpus.refs, chrf_options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (options.lowercase || options.tokenize != "13a") {
    spdlog::warn(
        "[score] {}{}: not sacreBLEU's default setting, so not comparable with published "
        "sacreBLEU scores (the signatures say case:{} tok:{})",
        options.lowercase ? "lowercased" : "cased",
        options.tokenize == "none" ? ", tokenize none (input taken as already tokenized)" : "",
        options.lowercase ? "lc" : "mixed",
        options.tokenize);
  }
  if (options.json) {
    const nlohmann::json report = {{"hyp", options.hyp_path},
                                   {"ref", options.ref_path},
                                   {"segments", corpus.hyps.size()},
                                   {"bleu", bleu_json(bleu, options.width)},
                                   {"chrf", chrf_json(chrf, options.width)},
                                   {"seconds", seconds}};
    std::cout << report.dump(1) << std::endl;
    return;
  }
  std::cout << bleu.format_with_signature(options.width) << "\n"
            << chrf.format_with_signature(options.width) << std::endl;
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto options = std::make_shared<ScoreCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "score",
      "Corpus BLEU and chrF of a hypothesis file against a reference file, as sacreBLEU 2.x "
      "computes them by default (13a, cased, exp smoothing; chrF2)");
  cmd->add_option("--hyp", options->hyp_path, "Hypotheses: UTF-8, one segment per line")
      ->required();
  cmd->add_option("--ref", options->ref_path, "References: UTF-8, line-aligned with --hyp")
      ->required();
  cmd->add_flag("--lowercase",
                options->lowercase,
                "Lowercase hypotheses and references first (BLEU and chrF; signature case:lc)");
  cmd->add_option("--tokenize",
                  options->tokenize,
                  "BLEU tokenizer: 13a (sacreBLEU's default) or none (text already tokenized)")
      ->check(CLI::IsMember({"13a", "none"}))
      ->capture_default_str();
  cmd->add_option("--smooth", options->smooth, "BLEU smoothing: exp (default), floor, add-k, none")
      ->check(CLI::IsMember({"exp", "floor", "add-k", "none"}))
      ->capture_default_str();
  cmd->add_option("--chrf-word-order",
                  options->chrf_word_order,
                  "chrF word n-gram order: 0 = chrF2 (default), 2 = chrF++")
      ->check(CLI::Range(0, 6))
      ->capture_default_str();
  cmd->add_option("--width", options->width, "Decimals of the printed scores")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  cmd->add_flag("--json",
                options->json,
                "Print one JSON object: scores, signatures, n-gram statistics, timing");
  cmd->callback([options] { run_score(*options); });
}

}  // namespace qkv
