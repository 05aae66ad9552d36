// Corpus preparation (see prepare.h): resolve inputs, reuse a complete earlier run, else read,
// clean and split, write the split files atomically and the stamp last.
#include "data/prepare.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "data/corpus_paths.h"
#include "data/ding_corpus.h"
#include "data/io/text_file.h"
#include "data/prepare_stamp.h"
#include "data/split.h"

namespace qkv {
namespace {

constexpr const char* kStampName = "prepared.stamp";

// The languages of the raw corpus: split files are named after them, so the config's direction
// (en->de or de->en) only decides which file is the source.
struct Languages {
  std::string first;   // language of SentencePair::source in the raw corpus (English if any)
  std::string second;  // language of SentencePair::target
};

// A corpus read into its splits, in raw orientation (source = Languages::first).
struct ReadCorpus {
  CorpusSplits splits;
  bool has_test = true;
  std::vector<std::pair<std::string, int64_t>> rule_counts;
};

bool is_safe_language_code(const std::string& code) {
  return !code.empty() && std::all_of(code.begin(), code.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

Languages resolve_languages(const DataConfig& config) {
  for (const auto& [key, code] : {std::pair{"data.source_lang", config.source_lang},
                                  std::pair{"data.target_lang", config.target_lang}}) {
    if (!is_safe_language_code(code)) {
      throw std::invalid_argument(std::string(key) + ": '" + code +
                                  "' is not a language code (letters, digits, - and _)");
    }
  }
  if (config.source_lang == config.target_lang) {
    throw std::invalid_argument("data.source_lang and data.target_lang are both '" +
                                config.source_lang + "'");
  }
  if (config.corpus == "files") return {config.source_lang, config.target_lang};
  const auto [first, second] = corpus_languages(config.corpus);
  if ((config.source_lang == first && config.target_lang == second) ||
      (config.source_lang == second && config.target_lang == first)) {
    return {first, second};
  }
  throw std::invalid_argument("data.source_lang/target_lang " + config.source_lang + "/" +
                              config.target_lang + " do not match corpus " + config.corpus +
                              " (languages " + first + ", " + second + ")");
}

// What to do when a downloadable corpus is not found: its download script writes into the
// first folder find_raw_dir() searches ($QKV_DATA_DIR, else the cache's data/ folder).
std::string download_hint(const std::string& script, const std::string& files) {
  const auto path = std::filesystem::path(QKV_DATA_SOURCE_DIR) / "scripts" / script;
  return "run " + path.string() + " (it downloads into the first of those folders), or put " +
         files + " (plain or .gz) in one of them";
}

// The input files of the corpus, in a fixed order (the same order read_corpus uses).
std::vector<std::filesystem::path> input_files(const DataConfig& config) {
  if (config.corpus == "ding-en-de") {
    return {config.raw_dir.empty() ? std::filesystem::path(kDingDictionaryPath)
                                   : std::filesystem::path(config.raw_dir) / "de-en"};
  }
  if (config.corpus == "multi30k-en-de") {
    const auto dir =
        find_raw_dir(config.raw_dir,
                     "multi30k",
                     "val.en",
                     download_hint("get_multi30k.sh", "train, val and test_2016_flickr .en/.de"));
    std::vector<std::filesystem::path> files;
    for (const char* name : {"train", "val", "test_2016_flickr"}) {
      files.push_back(plain_or_gzip(dir, std::string(name) + ".en"));
      files.push_back(plain_or_gzip(dir, std::string(name) + ".de"));
    }
    return files;
  }
  if (config.corpus == "tatoeba-en-ru") {
    const auto dir = find_raw_dir(config.raw_dir,
                                  "tatoeba",
                                  "en-ru.en",
                                  download_hint("get_tatoeba.sh", "en-ru.en and en-ru.ru"));
    return {plain_or_gzip(dir, "en-ru.en"), plain_or_gzip(dir, "en-ru.ru")};
  }
  // corpus "files"
  for (const auto& [key, value] : {std::pair{"data.train_source", config.train_source},
                                   std::pair{"data.train_target", config.train_target},
                                   std::pair{"data.valid_source", config.valid_source},
                                   std::pair{"data.valid_target", config.valid_target}}) {
    if (value.empty())
      throw std::invalid_argument(std::string(key) + " is required for corpus files");
  }
  if (config.test_source.empty() != config.test_target.empty()) {
    throw std::invalid_argument("data.test_source and data.test_target must be given together");
  }
  std::vector<std::filesystem::path> files = {
      config.train_source, config.train_target, config.valid_source, config.valid_target};
  if (!config.test_source.empty()) {
    files.emplace_back(config.test_source);
    files.emplace_back(config.test_target);
  }
  return files;
}

void add_empty_line_count(ReadCorpus& read, const std::string& what, const ParallelCorpus& part) {
  read.rule_counts.emplace_back(what + ": pairs read", static_cast<int64_t>(part.pairs.size()));
  read.rule_counts.emplace_back(what + ": empty line pairs skipped", part.empty_lines_skipped);
}

ReadCorpus read_corpus(const DataConfig& config, const std::vector<std::filesystem::path>& in) {
  ReadCorpus read;
  if (config.corpus == "ding-en-de") {
    DingSentences ding = read_ding_sentences(in[0]);
    read.rule_counts = ding.counts.rule_counts();
    read.splits = split_by_english_hash(ding.pairs, EnglishSide::kSource);
    return read;
  }
  if (config.corpus == "tatoeba-en-ru") {
    const ParallelCorpus all = read_parallel_corpus(in[0], in[1]);
    add_empty_line_count(read, "all", all);
    read.splits = split_by_english_hash(all.pairs, EnglishSide::kSource);
    return read;
  }
  // multi30k-en-de and files: the splits are given as file pairs.
  const char* names[] = {"train", "valid", "test"};
  std::vector<SentencePair>* targets[] = {
      &read.splits.train, &read.splits.valid, &read.splits.test};
  for (std::size_t i = 0; 2 * i + 1 < in.size(); ++i) {
    ParallelCorpus part = read_parallel_corpus(in[2 * i], in[2 * i + 1]);
    add_empty_line_count(read, names[i], part);
    *targets[i] = std::move(part.pairs);
  }
  read.has_test = in.size() == 6;
  return read;
}

std::filesystem::path split_file(const std::filesystem::path& dir,
                                 const std::string& split,
                                 const std::string& language) {
  return dir / (split + "." + language);
}

void write_split(const std::filesystem::path& dir,
                 const std::string& split,
                 const Languages& languages,
                 const std::vector<SentencePair>& pairs) {
  std::vector<std::string> first, second;
  first.reserve(pairs.size());
  second.reserve(pairs.size());
  for (const SentencePair& pair : pairs) {
    first.push_back(pair.source);
    second.push_back(pair.target);
  }
  write_lines_atomically(split_file(dir, split, languages.first), first);
  write_lines_atomically(split_file(dir, split, languages.second), second);
}

PreparedCorpus describe(const DataConfig& config,
                        const std::filesystem::path& dir,
                        const PrepareStamp& stamp) {
  PreparedCorpus prepared;
  prepared.corpus = config.corpus;
  prepared.source_lang = config.source_lang;
  prepared.target_lang = config.target_lang;
  prepared.dir = dir;
  prepared.rule_counts = stamp.rule_counts;
  const auto fill = [&](PreparedSplit& split, const std::string& name, int64_t pairs) {
    split.source = split_file(dir, name, config.source_lang);
    split.target = split_file(dir, name, config.target_lang);
    split.pairs = pairs;
  };
  fill(prepared.train, "train", stamp.train_pairs);
  fill(prepared.valid, "valid", stamp.valid_pairs);
  if (stamp.has_test) fill(prepared.test, "test", stamp.test_pairs);
  return prepared;
}

bool outputs_exist(const PreparedCorpus& prepared) {
  for (const PreparedSplit* split : {&prepared.train, &prepared.valid, &prepared.test}) {
    if (split->source.empty()) continue;
    std::error_code error;
    if (!std::filesystem::is_regular_file(split->source, error) ||
        !std::filesystem::is_regular_file(split->target, error)) {
      return false;
    }
  }
  return true;
}

// Where the splits of config's corpus go, its languages in raw orientation, and the
// description that starts the fingerprint of its inputs. Throws std::invalid_argument for an
// unknown corpus or languages that do not match it.
struct Output {
  std::filesystem::path dir;
  Languages languages;
  std::string description;
};

Output resolve_output(const DataConfig& config) {
  const auto names = corpus_names();
  if (std::find(names.begin(), names.end(), config.corpus) == names.end()) {
    throw std::invalid_argument("unknown corpus '" + config.corpus +
                                "'; valid: ding-en-de, multi30k-en-de, tatoeba-en-ru, files");
  }
  Output output;
  output.languages = resolve_languages(config);
  output.dir = config.prepared_dir.empty() ? default_prepared_dir(config.corpus)
                                           : std::filesystem::path(config.prepared_dir);
  output.description = config.corpus + " " + output.languages.first + "-" + output.languages.second;
  return output;
}

// The complete earlier preparation in `dir` (stamp readable and accepted, every split file
// there), marked reused; nullopt when there is none.
std::optional<PreparedCorpus> complete_preparation(
    const DataConfig& config,
    const std::filesystem::path& dir,
    const std::function<bool(const PrepareStamp&)>& accept) {
  const auto stamp = read_prepare_stamp(dir / kStampName);
  if (!stamp || !accept(*stamp)) return std::nullopt;
  PreparedCorpus prepared = describe(config, dir, *stamp);
  if (!outputs_exist(prepared)) return std::nullopt;
  prepared.reused = true;
  return prepared;
}

}  // namespace

std::vector<std::string> corpus_names() {
  return {"ding-en-de", "multi30k-en-de", "tatoeba-en-ru", "files"};
}

std::pair<std::string, std::string> corpus_languages(const std::string& corpus) {
  if (corpus == "ding-en-de" || corpus == "multi30k-en-de") return {"en", "de"};
  if (corpus == "tatoeba-en-ru") return {"en", "ru"};
  throw std::invalid_argument("corpus '" + corpus +
                              "' has no fixed languages; built-in corpora: ding-en-de, "
                              "multi30k-en-de, tatoeba-en-ru (or files with your own paths)");
}

PreparedCorpus prepare_corpus(const DataConfig& config) {
  const Output output = resolve_output(config);
  const std::filesystem::path& dir = output.dir;
  const Languages& languages = output.languages;
  const auto inputs = input_files(config);
  const std::string fingerprint = input_fingerprint(output.description, inputs);
  if (auto earlier = complete_preparation(config, dir, [&](const PrepareStamp& stamp) {
        return stamp.fingerprint == fingerprint;
      })) {
    spdlog::info("[data] {} already prepared in {}", config.corpus, dir.string());
    return *earlier;
  }

  spdlog::info("[data] preparing {} into {}", config.corpus, dir.string());
  const ReadCorpus read = read_corpus(config, inputs);
  std::error_code error;
  std::filesystem::remove(dir / kStampName, error);  // the old stamp must not vouch for new files
  write_split(dir, "train", languages, read.splits.train);
  write_split(dir, "valid", languages, read.splits.valid);
  if (read.has_test) write_split(dir, "test", languages, read.splits.test);
  PrepareStamp stamp;
  stamp.fingerprint = fingerprint;
  stamp.train_pairs = static_cast<int64_t>(read.splits.train.size());
  stamp.valid_pairs = static_cast<int64_t>(read.splits.valid.size());
  stamp.test_pairs = static_cast<int64_t>(read.splits.test.size());
  stamp.has_test = read.has_test;
  stamp.rule_counts = read.rule_counts;
  write_prepare_stamp(dir / kStampName, stamp);  // last: only now is the output complete

  PreparedCorpus prepared = describe(config, dir, stamp);
  spdlog::info("[data] {}: train {} valid {} test {} pairs",
               config.corpus,
               prepared.train.pairs,
               prepared.valid.pairs,
               prepared.test.pairs);
  return prepared;
}

PreparedCorpus find_or_prepare_corpus(const DataConfig& config) {
  const Output output = resolve_output(config);
  // Any inputs: the raw files may have moved or gone since the run was trained.
  if (auto earlier = complete_preparation(config, output.dir, [&](const PrepareStamp& stamp) {
        return stamp.fingerprint.rfind(output.description + " ", 0) == 0;
      })) {
    spdlog::info("[data] using the {} splits prepared in {}", config.corpus, output.dir.string());
    return *earlier;
  }
  return prepare_corpus(config);
}

std::vector<SentencePair> read_prepared_split(const PreparedSplit& split) {
  if (split.source.empty()) return {};
  return read_parallel_corpus(split.source, split.target).pairs;
}

}  // namespace qkv
