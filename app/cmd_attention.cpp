// `qkv attention`: records every attention map (all types, layers, heads) of a trained model
// for some sentences, translated (greedy or beam) or with a given target (teacher-forced),
// and writes them as JSON, NPY, PNG heatmaps and an HTML explorer (layout in
// app/export/attention_export.h); with --align, prints word alignments in Pharaoh format.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>

#include "app/commands.h"
#include "app/decode_flags.h"
#include "app/export/attention_export.h"
#include "app/export/probe_attention.h"
#include "app/export/text_heatmap.h"
#include "app/export/word_alignment.h"
#include "data/io/text_file.h"
#include "inference/attention_maps.h"
#include "inference/loaded_run.h"
#include "inference/translator.h"
#include "train/checkpoint/run_dir.h"

namespace qkv {
namespace {

struct AttentionCommand {
  DecodeFlags decode;
  std::vector<std::string> sentences;
  std::string input;
  std::vector<std::string> targets;
  std::string out;
  std::string formats = "json,npy,png,html";
  bool vectors = false;
  bool align = false;
  std::optional<int64_t> align_layer;
  bool show = false;
};

// The sentences to look at: the arguments, then every non-empty line of --input.
std::vector<std::string> sentences_of(const AttentionCommand& c) {
  std::vector<std::string> sentences = c.sentences;
  if (!c.input.empty()) {
    for (std::string& line : read_text_lines(c.input)) {
      if (!line.empty()) sentences.push_back(std::move(line));
    }
  }
  return sentences;
}

// Flag checks that need no model, so that mistakes fail before the run is loaded.
void check_flags(const AttentionCommand& c, const std::vector<std::string>& sentences) {
  if (sentences.empty()) {
    throw std::invalid_argument("attention: give at least one SENTENCE (or --input FILE)");
  }
  if (!c.targets.empty() && c.targets.size() != sentences.size()) {
    throw std::invalid_argument(
        fmt::format("--target: given {} times for {} sentences; give one "
                    "target per sentence, or none to translate",
                    c.targets.size(),
                    sentences.size()));
  }
  if (c.out.empty() && !c.align && !c.show) {
    throw std::invalid_argument(
        "--out: required (where to write the maps), unless --align or --show alone");
  }
}

// Every map of every sentence: decoded, or teacher-forced with its --target.
std::vector<SentenceAttention> collect(const AttentionCommand& c,
                                       const std::vector<std::string>& sentences,
                                       LoadedRun& loaded,
                                       bool projections) {
  const TranslateOptions options = translate_options(c.decode, loaded.config);
  Translator translator(loaded.model, *loaded.tokenizer);
  std::vector<SentenceAttention> collected;
  for (size_t i = 0; i < sentences.size(); ++i) {
    collected.push_back(
        c.targets.empty()
            ? collect_decoded_attention(translator, sentences[i], options, projections)
            : collect_forced_attention(
                  loaded.model, *loaded.tokenizer, sentences[i], c.targets[i], projections));
    const SentenceAttention& s = collected.back();
    spdlog::info("[attention] sentence {}: {} source tokens, {} target tokens{}: {}",
                 i,
                 s.source_tokens.size(),
                 s.target_tokens.size(),
                 s.forced ? " (given target)" : "",
                 s.target_text);
  }
  return collected;
}

// --align: one Pharaoh line per sentence; --show: each sentence's cross-attention table.
void print_alignments(const AttentionCommand& c, const std::vector<SentenceAttention>& collected) {
  if (c.align) {
    const int64_t layer = c.align_layer ? *c.align_layer : default_alignment_layer(collected[0]);
    for (const SentenceAttention& s : collected)
      std::cout << pharaoh(align_words(s, layer)) << '\n';
    std::cout.flush();
  }
  if (c.show) {
    for (const SentenceAttention& s : collected) {
      const int64_t layer = c.align_layer ? *c.align_layer : default_alignment_layer(s);
      std::cout << s.source_text << "\n  -> " << s.target_text << "\n"
                << cross_attention_text(s, layer) << '\n';
    }
    std::cout.flush();
  }
}

void write_files(const AttentionCommand& c,
                 const std::vector<SentenceAttention>& collected,
                 const LoadedRun& loaded,
                 ExportOptions formats) {
  formats.title = fmt::format("run {} · checkpoint {} (step {})",
                              c.decode.model,
                              loaded.checkpoint.filename().string(),
                              loaded.step);
  formats.timeline_files = probe_attention_files(RunDir(c.decode.model).attention());
  const int64_t files = export_attention(c.out, collected, formats);
  spdlog::info("[attention] wrote {} files to {}{}",
               files,
               c.out,
               formats.html ? fmt::format(" (open {}/index.html)", c.out) : "");
}

void run(const AttentionCommand& c) {
  // 1. What to look at, checked before the model is loaded.
  const std::vector<std::string> sentences = sentences_of(c);
  check_flags(c, sentences);
  ExportOptions formats;
  set_formats(formats, c.formats);
  formats.vectors = c.vectors;
  if (c.align_layer && !c.align && !c.show) {
    throw std::invalid_argument("--align-layer: needs --align or --show");
  }
  // 2. Load the run; collect every map of every sentence.
  LoadedRun loaded = load_decoding_run(c.decode);
  const bool projections = !c.out.empty() && needs_projections(formats);
  const std::vector<SentenceAttention> collected = collect(c, sentences, loaded, projections);
  // 3. Alignments and tables on stdout; 4. files.
  print_alignments(c, collected);
  if (!c.out.empty()) write_files(c, collected, loaded, formats);
}

}  // namespace

void add_attention_command(CLI::App& app) {
  auto c = std::make_shared<AttentionCommand>();
  CLI::App* cmd = app.add_subcommand(
      "attention",
      "Record all attention maps (every type, layer, head) for sentences and write them as "
      "JSON, NPY, PNG and an HTML explorer; rows are queries, columns keys");
  add_decode_flags(*cmd, c->decode);
  cmd->add_option("sentences", c->sentences, "Source sentences");
  cmd->add_option("-i,--input", c->input, "Also every non-empty line of FILE");
  cmd->add_option("-o,--out", c->out, "Output directory (OUT/index.html, OUT/<i>/...)");
  // One value per --target, so that `--target REF SENTENCE` leaves SENTENCE alone.
  cmd->add_option("--target",
                  c->targets,
                  "Teacher-force this translation instead of decoding (once per sentence)")
      ->allow_extra_args(false);
  cmd->add_option("--format", c->formats, "Comma-separated: json,npy,png,html")
      ->capture_default_str();
  cmd->add_flag("--vectors", c->vectors, "Also write per-head q, k, v and head outputs");
  cmd->add_flag("--align",
                c->align,
                "Print word alignments from cross-attention in Pharaoh format (src-tgt)");
  cmd->add_flag(
      "--show", c->show, "Print each sentence's cross-attention (head average, in %) as a table");
  cmd->add_option("--align-layer",
                  c->align_layer,
                  "Decoder layer N (from 0, as in decoder.N.cross_attn) for --align and --show "
                  "(default: the last; head-averaged)");
  cmd->callback([c] { run(*c); });
}

}  // namespace qkv
