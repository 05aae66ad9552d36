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
#include "train/config_validation.h"
#include "train/enum_names.h"

namespace qkv {
namespace {

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
    throw_config_error(
        origin, path, std::string("expected ") + TypeName<T>::value + ", got " + scalar_text(node));
  }
  if constexpr (std::is_same_v<T, double>) {
    if (!std::isfinite(value))
      throw_config_error(origin, path, "expected a finite number, got " + scalar_text(node));
  }
  return value;
}

// An enum is written as one of its names (train/enum_names.h); anything else is an error that
// lists them.
template <class Enum>
Enum convert_enum(const YAML::Node& node, const std::string& origin, const std::string& path) {
  const std::string name = convert_scalar<std::string>(node, origin, path);
  if (const auto value = enum_from_name<Enum>(name)) return *value;
  throw_config_error(origin, path, "'" + name + "' is not one of: " + enum_name_list<Enum>());
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
             DeviceChoice& out) {
  const std::string text = convert_scalar<std::string>(node, origin, path);
  const auto choice = parse_device_choice(text);
  if (!choice) throw_config_error(origin, path, "'" + text + "' is not one of: " + kDeviceChoices);
  out = *choice;
}

void convert(const YAML::Node& node,
             const std::string& origin,
             const std::string& path,
             std::vector<std::string>& out) {
  out.clear();
  if (node.IsNull()) return;
  if (!node.IsSequence())
    throw_config_error(origin, path, "expected a list of strings, got " + scalar_text(node));
  for (const auto& item : node) out.push_back(convert_scalar<std::string>(item, origin, path));
}

// Reads the fields of one section from a YAML mapping; remembers the names it knows so that
// unknown keys can be reported with the valid ones.
class SectionReader {
 public:
  SectionReader(const YAML::Node& map, std::string section, const ConfigOrigins& origins)
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
        throw_config_error(
            origins_.of(path), path, "unknown key; valid keys of " + section_ + ": " + valid);
      }
    }
  }

 private:
  const YAML::Node& map_;
  std::string section_;
  const ConfigOrigins& origins_;
  std::vector<std::string> known_;
};

// --- writing and comparing ---------------------------------------------------------------

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
  void write(const DeviceChoice& v) { out_ << YAML::DoubleQuoted << device_choice_name(v); }
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
    } else if constexpr (std::is_same_v<T, DeviceChoice>) {
      text << device_choice_name(member);
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

const std::vector<std::string> kSections = {"model", "data", "train", "decode"};

std::string section_list() {
  std::string list;
  for (const auto& s : kSections) list += (list.empty() ? "" : ", ") + s;
  return list;
}

// Records "file:line" for each section.key in the document, rejecting duplicate keys
// (yaml-cpp would silently keep one of them).
void record_origins(const YAML::Node& root, ConfigOrigins& origins) {
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

void apply_override(YAML::Node& root, const std::string& assignment, ConfigOrigins& origins) {
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
  ConfigOrigins origins(source);
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
  validate_experiment_config(config, origins);
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
