// `qkv evaluate`: translates a source file (or the run's own test split) and scores it
// against references with BLEU and chrF, computed as sacreBLEU does by default.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/decode_flags.h"
#include "data/prepare.h"
#include "train/loaded_run.h"
#include "train/metrics/bleu.h"
#include "train/metrics/chrf.h"
#include "train/metrics/corpus_files.h"
#include "train/translator.h"

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

void run(const EvaluateCommand& c) {
  LoadedRun loaded = load_run(c.decode.model, c.decode.checkpoint);
  const TranslateOptions options = translate_options(c.decode, loaded.config);
  std::vector<std::string> sources, references;
  std::string src_name = c.src, ref_name = c.ref;
  if (c.src.empty() != c.ref.empty())
    throw std::invalid_argument("--src and --ref must be given together");
  if (!c.src.empty()) {
    AlignedSegments segments = read_aligned_segments(c.src, "sources", c.ref, "references");
    sources = std::move(segments.first);
    references = std::move(segments.second);
  } else {
    // The run's own split, prepared from its data config (reused when already prepared).
    const PreparedCorpus corpus = prepare_corpus(loaded.config.data);
    const PreparedSplit& split = c.split == "valid" ? corpus.valid : corpus.test;
    if (c.split != "valid" && c.split != "test")
      throw std::invalid_argument("--split: must be test or valid");
    if (split.source.empty())
      throw std::runtime_error("the run's corpus has no " + c.split + " split");
    for (const auto& pair : read_prepared_split(split)) {
      sources.push_back(pair.source);
      references.push_back(pair.target);
    }
    src_name = split.source.string();
    ref_name = split.target.string();
  }
  Translator translator(loaded.model, *loaded.tokenizer);
  const auto start = std::chrono::steady_clock::now();
  const auto results = translator.translate(sources, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::string> hypotheses;
  for (const auto& hyps : results) hypotheses.push_back(hyps.front().text);
  if (!c.output.empty()) {
    std::ofstream out(c.output, std::ios::binary);
    for (const auto& h : hypotheses) out << h << '\n';
    if (!out) throw std::runtime_error("cannot write --output " + c.output);
  }
  const BleuScore bleu = corpus_bleu(hypotheses, references);
  const ChrfScore chrf = corpus_chrf(hypotheses, references);
  if (c.json) {
    nlohmann::ordered_json j;
    j["bleu"] = bleu.score;
    j["chrf"] = chrf.score;
    j["bleu_signature"] = bleu.signature;
    j["chrf_signature"] = chrf.signature;
    j["bleu_precisions"] = bleu.precisions;
    j["bp"] = bleu.bp;
    j["hyp_len"] = bleu.sys_len;
    j["ref_len"] = bleu.ref_len;
    j["sentences"] = hypotheses.size();
    j["beam"] = options.decode.beam_size;
    j["checkpoint"] = loaded.checkpoint.string();
    j["src"] = src_name;
    j["ref"] = ref_name;
    j["seconds"] = seconds;
    j["sentences_per_s"] = hypotheses.size() / seconds;
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << bleu.format_with_signature() << '\n' << chrf.format_with_signature() << '\n';
    spdlog::info("[evaluate] {} sentences, beam {}, {:.1f} s ({:.1f} sentences/s), checkpoint {}",
                 hypotheses.size(),
                 options.decode.beam_size,
                 seconds,
                 hypotheses.size() / seconds,
                 loaded.checkpoint.string());
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
