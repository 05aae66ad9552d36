// `qkv attention`: records every attention map (all types, layers, heads) of a trained model
// for some sentences, translated (greedy or beam) or with a given target (teacher-forced),
// and writes them as JSON, NPY, PNG heatmaps and an HTML explorer (layout in
// app/export/attention_export.h); with --align, prints word alignments in Pharaoh format.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "app/commands.h"
#include "app/decode_flags.h"
#include "app/export/attention_export.h"
#include "app/export/text_heatmap.h"
#include "app/export/word_alignment.h"
#include "train/attention_maps.h"
#include "train/loaded_run.h"
#include "train/run_dir.h"
#include "train/translator.h"

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

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read --input " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

void run(const AttentionCommand& c) {
  // 1. What to look at, checked before the model is loaded.
  std::vector<std::string> sentences = c.sentences;
  if (!c.input.empty()) {
    const auto lines = read_lines(c.input);
    sentences.insert(sentences.end(), lines.begin(), lines.end());
  }
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
  ExportOptions formats;
  set_formats(formats, c.formats);
  formats.vectors = c.vectors;
  if (c.align_layer && !c.align && !c.show) {
    throw std::invalid_argument("--align-layer: needs --align or --show");
  }

  // 2. Load the run; collect every map of every sentence.
  LoadedRun loaded = load_run(c.decode.model, c.decode.checkpoint);
  const TranslateOptions options = translate_options(c.decode, loaded.config);
  const bool projections = !c.out.empty() && needs_projections(formats);
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

  // 3. Alignments on stdout, one line per sentence.
  if (c.align) {
    const int64_t layer = c.align_layer ? *c.align_layer : default_alignment_layer(collected[0]);
    for (const SentenceAttention& s : collected)
      std::cout << pharaoh(align_words(s, layer)) << '\n';
    std::cout.flush();
  }

  // 3b. Cross-attention tables on stdout.
  if (c.show) {
    for (const SentenceAttention& s : collected) {
      const int64_t layer = c.align_layer ? *c.align_layer : default_alignment_layer(s);
      std::cout << s.source_text << "\n  -> " << s.target_text << "\n"
                << cross_attention_text(s, layer) << '\n';
    }
    std::cout.flush();
  }

  // 4. Files.
  if (!c.out.empty()) {
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
