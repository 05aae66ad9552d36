// `qkv translate`: sentences from arguments, stdin (the lines waiting as one batch, flushed after
// each) or a file.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "app/decode_flags.h"
#include "app/line_batches.h"
#include "data/io/text_file.h"
#include "inference/loaded_run.h"
#include "inference/request_limits.h"
#include "inference/translator.h"

namespace qkv {
namespace {

struct TranslateCommand {
  DecodeFlags decode;
  std::vector<std::string> sentences;
  std::string input;
  std::string output;
  int64_t n_best = 1;  // --nbest
  bool scores = false;
};

// One output line per hypothesis: "text", or with --scores "score<TAB>text"; n-best lines are
// "sentence<TAB>score<TAB>text".
void write(std::ostream& out,
           int64_t index,
           const std::vector<Translation>& hyps,
           const TranslateCommand& c) {
  if (c.n_best > 1) {
    for (const auto& h : hyps)
      out << index << '\t' << fmt::format("{:.4f}", h.log_prob) << '\t' << h.text << '\n';
  } else if (c.scores) {
    out << fmt::format("{:.4f}", hyps.front().log_prob) << '\t' << hyps.front().text << '\n';
  } else {
    out << hyps.front().text << '\n';
  }
}

void warn_truncated(const std::vector<int64_t>& truncated, int64_t offset, int64_t limit) {
  for (int64_t i : truncated) {
    spdlog::warn(
        "[translate] input line {} is longer than {} tokens: translating its first {} tokens",
        offset + i + 1,
        limit,
        limit);
  }
}

// Lines longer than the request limit are cut (at a character boundary) with a warning: the
// model reads at most max_positions tokens of them anyway.
void cut_long_lines(std::vector<std::string>& lines, int64_t offset) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (static_cast<int64_t>(lines[i].size()) <= kRequestLimits.max_text_bytes) continue;
    spdlog::warn("[translate] input line {} is longer than {} bytes: reading its first {} bytes",
                 offset + static_cast<int64_t>(i) + 1,
                 kRequestLimits.max_text_bytes,
                 kRequestLimits.max_text_bytes);
    lines[i] = cut_to_bytes(lines[i], kRequestLimits.max_text_bytes);
  }
}

// The sentences of batch mode: the arguments, then the lines of --input (data/io's line rule;
// like stdin lines, a line that is not valid UTF-8 is translated as it is).
std::vector<std::string> batch_sentences(const TranslateCommand& c) {
  std::vector<std::string> lines = c.sentences;
  if (c.input.empty()) return lines;
  LineReading reading;
  reading.strip_byte_order_mark = false;
  reading.require_utf8 = false;
  std::vector<std::string> file_lines;
  try {
    file_lines = read_text_lines(c.input, reading);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("cannot read --input ") + e.what());  // names the file
  }
  lines.insert(lines.end(), file_lines.begin(), file_lines.end());
  return lines;
}

// Batch mode: all sentences at once (sorted by length inside), written in input order.
void translate_batch(const TranslateCommand& c,
                     Translator& translator,
                     const TranslateOptions& options) {
  std::vector<std::string> lines = batch_sentences(c);
  cut_long_lines(lines, 0);
  std::ofstream file;
  if (!c.output.empty()) {
    file.open(c.output, std::ios::binary);
    if (!file) throw std::runtime_error("cannot write --output " + c.output);
  }
  std::ostream& out = c.output.empty() ? std::cout : file;
  const auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> truncated;
  const auto results = translator.translate(lines, options, &truncated);
  warn_truncated(truncated, 0, translator.max_source_tokens());
  int64_t tokens = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    write(out, static_cast<int64_t>(i), results[i], c);
    tokens += static_cast<int64_t>(results[i].front().tokens.size());
  }
  out.flush();
  if (!out) throw std::runtime_error("cannot write --output " + c.output + " (disk full?)");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!c.input.empty()) {
    spdlog::info(
        "[translate] {} sentences in {:.2f} s: {:.1f} sentences/s, {:.0f} target tokens/s (beam "
        "{})",
        results.size(),
        seconds,
        results.size() / seconds,
        tokens / seconds,
        options.decode.beam_size);
  }
}

// Streaming mode: the lines already waiting on stdin are translated as one batch and written at
// once (flushed), so a pipe is as fast as --input and a line typed by hand is answered at once.
// Measured with en-de-small, beam 4, the 829 Ding test lines: see README, `qkv serve`.
void translate_stream(const TranslateCommand& c,
                      Translator& translator,
                      const TranslateOptions& options) {
  LineBatchReader reader(STDIN_FILENO);
  int64_t index = 0;
  for (std::vector<std::string> lines; !(lines = reader.next()).empty();) {
    cut_long_lines(lines, index);
    std::vector<int64_t> truncated;
    const auto results = translator.translate(lines, options, &truncated);
    warn_truncated(truncated, index, translator.max_source_tokens());
    for (const auto& hyps : results) write(std::cout, index++, hyps, c);
    std::cout.flush();
  }
}

void run(const TranslateCommand& c) {
  LoadedRun loaded = load_decoding_run(c.decode);
  TranslateOptions options = translate_options(c.decode, loaded.config);
  options.n_best = c.n_best;
  check_request_limits(options, loaded.config.model.max_positions, kCliLimitNames);
  Translator translator(loaded.model, *loaded.tokenizer);
  if (!c.sentences.empty() || !c.input.empty()) {
    translate_batch(c, translator, options);
  } else {
    translate_stream(c, translator, options);
  }
}

}  // namespace

void add_translate_command(CLI::App& app) {
  auto c = std::make_shared<TranslateCommand>();
  CLI::App* cmd = app.add_subcommand(
      "translate",
      "Translate sentences (arguments, else stdin: the lines waiting as a batch, or --input FILE)");
  add_decode_flags(*cmd, c->decode);
  cmd->add_option("sentences", c->sentences, "Sentences to translate (default: read stdin)");
  cmd->add_option("-i,--input", c->input, "Translate every line of FILE");
  cmd->add_option("-o,--output", c->output, "Write translations to FILE (default: stdout)");
  cmd->add_option("--nbest", c->n_best, "Print the K best hypotheses: sentence<TAB>score<TAB>text");
  cmd->add_flag("--scores", c->scores, "Print score<TAB>text (score = sum of token log-probs)");
  cmd->callback([c] { run(*c); });
}

}  // namespace qkv
