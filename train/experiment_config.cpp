// Parses an experiment YAML into ExperimentConfig. Every struct lists its fields once in
// visit_fields(); the visitors below read, write and compare them, so a new field needs no
// change here. Errors carry "source:line: section.key: what is wrong".
#include "train/experiment_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "data/io/utf8.h"
#include "model/search.h"
#include "model/transformer.h"
#include "train/decode_search.h"
#include "train/enum_names.h"

namespace qkv {
namespace {

// Where each key came from: "file:line" for keys in the file, "--set k=v" for overrides.
class Origins {
 public:
  explicit Origins(std::string source) : source_(std::move(source)) {}
  void set(const std::string& path, std::string origin) { origins_[path] = std::move(origin); }
  /// "file:line" of `path` if the file set it, the override if one did, else the file name.
  std::string of(const std::string& path) const {
    auto it = origins_.find(path);
    return it == origins_.end() ? source_ : it->second;
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::map<std::string, std::string> origins_;
};

std::string at_line(const std::string& source, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? source + ":" + std::to_string(mark.line + 1) : source;
}

std::string scalar_text(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

[[noreturn]] void fail(const std::string& origin,
                       const std::string& path,
                       const std::string& what) {
  throw ConfigError(origin + ": " + path + ": " + what);
}

// --- typed conversion of one YAML value, with the key named in errors -------------------

template <class T>
struct TypeName;
template <>
struct TypeName<int64_t> {
  static constexpr const char* value = "an integer";
};
template <>
struct TypeName<double> {
  static constexpr const char* value = "a number";
};
template <>
struct TypeName<bool> {
  static constexpr const char* value = "true or false";
};
template <>
struct TypeName<std::string> {
  static constexpr const char* value = "a string";
};

template <class T>
T convert_scalar(const YAML::Node& node, const std::string& origin, const std::string& path) {
  T value{};
  if (!node.IsScalar() || !YAML::convert<T>::decode(node, value)) {
    fail(
        origin, path, std::string("expected ") + TypeName<T>::value + ", got " + scalar_text(node));
  }
  if constexpr (std::is_same_v<T, double>) {
    if (!std::isfinite(value))
      fail(origin, path, "expected a finite number, got " + scalar_text(node));
  }
  return value;
}

// An enum is written as one of its names (train/enum_names.h); anything else is an error that
// lists them.
template <class Enum>
Enum convert_enum(const YAML::Node& node, const std::string& origin, const std::string& path) {
  const std::string name = convert_scalar<std::string>(node, origin, path);
  if (const auto value = enum_from_name<Enum>(name)) return *value;
  fail(origin, path, "'" + name + "' is not one of: " + enum_name_list<Enum>());
}

template <class T>
void convert(const YAML::Node& node, const std::string& origin, const std::string& path, T& out) {
  if constexpr (std::is_enum_v<T>) {
    out = convert_enum<T>(node, origin, path);
  } else {
    out = convert_scalar<T>(node, origin, path);
  }
}

void convert(const YAML::Node& node,
             const std::string& origin,
             const std::string& path,
             std::vector<std::string>& out) {
  out.clear();
  if (node.IsNull()) return;
  if (!node.IsSequence())
    fail(origin, path, "expected a list of strings, got " + scalar_text(node));
  for (const auto& item : node) out.push_back(convert_scalar<std::string>(item, origin, path));
}

// Reads the fields of one section from a YAML mapping; remembers the names it knows so that
// unknown keys can be reported with the valid ones.
class SectionReader {
 public:
  SectionReader(const YAML::Node& map, std::string section, const Origins& origins)
      : map_(map), section_(std::move(section)), origins_(origins) {}

  template <class T>
  void operator()(const char* name, T& member, const char* /*doc*/) {
    known_.push_back(name);
    if (!map_.IsMap()) return;
    const YAML::Node node = map_[name];
    if (!node) return;
    const std::string path = section_ + "." + name;
    convert(node, origins_.of(path), path, member);
  }

  void reject_unknown_keys() const {
    if (!map_.IsMap()) return;
    for (const auto& entry : map_) {
      const std::string key = entry.first.Scalar();
      if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
        std::string valid;
        for (const auto& name : known_) valid += (valid.empty() ? "" : ", ") + name;
        const std::string path = section_ + "." + key;
        fail(origins_.of(path), path, "unknown key; valid keys of " + section_ + ": " + valid);
      }
    }
  }

 private:
  const YAML::Node& map_;
  std::string section_;
  const Origins& origins_;
  std::vector<std::string> known_;
};

// --- writing and comparing ---------------------------------------------------------------

// Shortest decimal text that reads back as exactly the same double.
std::string format_double(double value) {
  for (int precision = 1; precision <= 17; ++precision) {
    std::ostringstream text;
    text.precision(precision);
    text << value;
    if (std::stod(text.str()) == value) {
      std::string s = text.str();
      // Keep it a YAML float, not an int, so the type is visible when read back.
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
  }
  return std::to_string(value);
}

class FieldWriter {
 public:
  FieldWriter(YAML::Emitter& out, bool with_docs) : out_(out), with_docs_(with_docs) {}

  template <class T>
  void operator()(const char* name, const T& member, const char* doc) {
    out_ << YAML::Key << name << YAML::Value;
    write(member);
    if (with_docs_) out_ << YAML::Comment(doc);
  }

 private:
  void write(int64_t v) { out_ << v; }
  void write(bool v) { out_ << (v ? "true" : "false"); }
  void write(double v) { out_ << format_double(v); }
  void write(const std::string& v) { out_ << YAML::DoubleQuoted << v; }
  template <class Enum, class = std::enable_if_t<std::is_enum_v<Enum>>>
  void write(Enum v) {
    out_ << YAML::DoubleQuoted << enum_name(v);
  }
  void write(const std::vector<std::string>& v) {
    out_ << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) out_ << YAML::DoubleQuoted << s;
    out_ << YAML::EndSeq;
  }

  YAML::Emitter& out_;
  bool with_docs_;
};

// Flattens a struct into "name=value" strings; equal lists mean equal structs.
class FieldFlattener {
 public:
  template <class T>
  void operator()(const char* name, const T& member, const char* /*doc*/) {
    std::ostringstream text;
    text.precision(17);
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      for (const auto& s : member) text << s.size() << ':' << s << ';';
    } else if constexpr (std::is_enum_v<T>) {
      text << enum_name(member);
    } else {
      text << member;
    }
    fields.push_back(std::string(name) + "=" + text.str());
  }
  std::vector<std::string> fields;
};

template <class Section, class Visitor>
void visit(const Section& section, Visitor& visitor) {
  // visit_fields is non-const (the reader needs to write); writing visitors take a copy.
  Section copy = section;
  copy.visit_fields(visitor);
}

// --- validation: range and cross-field rules, one step per section -----------------------
// Enum values were checked when read; model/ checks its own config and search options
// (validate_model_config, validate_search_options), and their errors get the key's line.

class Validator {
 public:
  explicit Validator(const Origins& origins) : origins_(origins) {}

  void require(bool ok, const std::string& path, const std::string& what) const {
    if (!ok) fail(origins_.of(path), path, what);
  }
  void one_of(const std::string& value,
              const std::string& path,
              std::initializer_list<const char*> choices) const {
    std::string list;
    for (const char* c : choices) {
      if (value == c) return;
      list += (list.empty() ? "" : ", ") + std::string(c);
    }
    fail(origins_.of(path), path, "'" + value + "' is not one of: " + list);
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
      fail(origins_.of(key), key, message.substr(colon + 2));
    }
  }

 private:
  const Origins& origins_;
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
  check.require(t.valid_max_sentences >= 0, "train.valid_max_sentences", "must not be negative");
  check.require(t.patience >= 0, "train.patience", "must not be negative (0 = off)");
  check.require(t.keep_last >= 1, "train.keep_last", "must be at least 1");
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

void validate(const ExperimentConfig& c, const Origins& origins) {
  const Validator check(origins);
  validate_model(c.model, check);
  validate_data(c.data, c.model, check);
  validate_train(c.train, check);
  validate_decode(c.decode, check);
}

const std::vector<std::string> kSections = {"model", "data", "train", "decode"};

std::string section_list() {
  std::string list;
  for (const auto& s : kSections) list += (list.empty() ? "" : ", ") + s;
  return list;
}

// Records "file:line" for each section.key in the document, rejecting duplicate keys
// (yaml-cpp would silently keep one of them).
void record_origins(const YAML::Node& root, Origins& origins) {
  for (const auto& section : root) {
    const std::string name = section.first.Scalar();
    if (std::find(kSections.begin(), kSections.end(), name) == kSections.end()) {
      throw ConfigError(at_line(origins.source(), section.first) + ": " + name +
                        ": unknown section; valid sections: " + section_list());
    }
    if (section.second.IsNull()) continue;
    if (!section.second.IsMap()) {
      throw ConfigError(at_line(origins.source(), section.second) + ": " + name +
                        ": expected a mapping of keys, got " + scalar_text(section.second));
    }
    std::set<std::string> seen;
    for (const auto& entry : section.second) {
      const std::string path = name + "." + entry.first.Scalar();
      if (!seen.insert(entry.first.Scalar()).second) {
        throw ConfigError(at_line(origins.source(), entry.first) + ": " + path + ": duplicate key");
      }
      origins.set(path, at_line(origins.source(), entry.second));
    }
  }
}

void apply_override(YAML::Node& root, const std::string& assignment, Origins& origins) {
  const auto eq = assignment.find('=');
  const auto dot = assignment.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
    throw ConfigError("--set " + assignment +
                      ": expected SECTION.KEY=VALUE, e.g. train.max_steps=100");
  }
  const std::string section = assignment.substr(0, dot);
  const std::string key = assignment.substr(dot + 1, eq - dot - 1);
  const std::string value = assignment.substr(eq + 1);
  if (std::find(kSections.begin(), kSections.end(), section) == kSections.end()) {
    throw ConfigError("--set " + assignment + ": unknown section '" + section +
                      "'; valid sections: " + section_list());
  }
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw ConfigError("--set " + assignment + ": value is not valid YAML: " + e.msg);
  }
  if (!root[section] || root[section].IsNull()) root[section] = YAML::Node(YAML::NodeType::Map);
  root[section][key] = parsed;
  origins.set(section + "." + key, "--set " + assignment);
}

// Throws ConfigError naming the line of the first byte of `text` that is not valid UTF-8.
// (Not data/io's line reader: the text is in memory, often a checkpoint's saved config.)
void reject_invalid_utf8(const std::string& text, const std::string& source) {
  std::size_t pos = 0;
  char32_t code_point = 0;
  while (pos < text.size() && decode_code_point(text, pos, code_point)) {
  }
  if (pos == text.size()) return;
  const auto line =
      1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n');
  throw ConfigError(source + ":" + std::to_string(line) +
                    ": not valid UTF-8 (save the config as UTF-8)");
}

}  // namespace

ExperimentConfig parse_experiment_config(const std::string& yaml_text,
                                         const std::string& source,
                                         const std::vector<std::string>& overrides) {
  // yaml-cpp reads invalid UTF-8 but writes it back as U+FFFD, so a saved run config would
  // name other files than the one it was made from.
  reject_invalid_utf8(yaml_text, source);
  for (const auto& assignment : overrides) {
    if (!is_valid_utf8(assignment)) throw ConfigError("--set " + assignment + ": not valid UTF-8");
  }
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) +
                      ": YAML syntax error: " + e.msg);
  }
  if (root.IsNull()) {
    throw ConfigError(source + ": the config is empty; expected sections: " + section_list());
  }
  if (!root.IsMap()) {
    throw ConfigError(at_line(source, root) +
                      ": expected a mapping with sections: " + section_list());
  }
  Origins origins(source);
  record_origins(root, origins);
  for (const auto& assignment : overrides) apply_override(root, assignment, origins);

  ExperimentConfig config;
  auto read_section = [&](const std::string& name, auto& section) {
    const YAML::Node node = root[name];
    SectionReader reader(node, name, origins);
    section.visit_fields(reader);
    reader.reject_unknown_keys();
  };
  read_section("model", config.model);
  read_section("data", config.data);
  read_section("train", config.train);
  read_section("decode", config.decode);
  validate(config, origins);
  return config;
}

ExperimentConfig load_experiment_config(const std::filesystem::path& path,
                                        const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  std::error_code error;
  if (!in || std::filesystem::is_directory(path, error)) {  // a folder opens, then reads nothing
    throw ConfigError(path.string() + ": cannot read the config file (does it exist?)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_experiment_config(text.str(), path.string(), overrides);
}

std::string to_yaml(const ExperimentConfig& config, bool with_docs) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  auto write_section = [&](const char* name, const auto& section) {
    out << YAML::Key << name << YAML::Value << YAML::BeginMap;
    FieldWriter writer(out, with_docs);
    visit(section, writer);
    out << YAML::EndMap;
  };
  write_section("model", config.model);
  write_section("data", config.data);
  write_section("train", config.train);
  write_section("decode", config.decode);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

bool operator==(const ExperimentConfig& a, const ExperimentConfig& b) {
  auto flat = [](const ExperimentConfig& c) {
    FieldFlattener f;
    visit(c.model, f);
    visit(c.data, f);
    visit(c.train, f);
    visit(c.decode, f);
    return f.fields;
  };
  return flat(a) == flat(b);
}

}  // namespace qkv
