// Stamp file format (text, one record per line):
//   qkv prepared corpus v1
//   fingerprint <one line>
//   split train <pairs>
//   split valid <pairs>
//   split test <pairs | absent>
//   rule <count> <name...>        (zero or more)
#include "data/prepare_stamp.h"

#include <stdexcept>
#include <system_error>

#include "data/io/atomic_file.h"
#include "data/io/text_file.h"

namespace qkv {
namespace {

// Bump when extraction, cleaning or splitting changes: older stamps then no longer match.
constexpr const char* kStampHeader = "qkv prepared corpus v1";

// The number after the last space of `line`, which must start with `prefix`.
int64_t number_after(const std::string& line, const std::string& prefix) {
  if (line.rfind(prefix, 0) != 0) throw std::invalid_argument("expected " + prefix);
  return std::stoll(line.substr(prefix.size()));
}

}  // namespace

std::string input_fingerprint(const std::string& description,
                              const std::vector<std::filesystem::path>& inputs) {
  std::string text = description;
  for (const auto& path : inputs) {
    std::error_code absolute_error, size_error, time_error;
    const auto absolute = std::filesystem::absolute(path, absolute_error);
    const auto size = std::filesystem::file_size(path, size_error);
    const auto time = std::filesystem::last_write_time(path, time_error);
    text += " " + (absolute_error ? path : absolute).string() + ":";
    text += size_error || time_error
                ? std::string("missing")
                : std::to_string(size) + ":" + std::to_string(time.time_since_epoch().count());
  }
  return text;
}

void write_prepare_stamp(const std::filesystem::path& path, const PrepareStamp& stamp) {
  std::string text = std::string(kStampHeader) + "\n";
  text += "fingerprint " + stamp.fingerprint + "\n";
  text += "split train " + std::to_string(stamp.train_pairs) + "\n";
  text += "split valid " + std::to_string(stamp.valid_pairs) + "\n";
  text += "split test " + (stamp.has_test ? std::to_string(stamp.test_pairs) : "absent") + "\n";
  for (const auto& [name, count] : stamp.rule_counts) {
    text += "rule " + std::to_string(count) + " " + name + "\n";
  }
  write_file_atomically(path, text);
}

std::optional<PrepareStamp> read_prepare_stamp(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
  try {
    const std::vector<std::string> lines = read_text_lines(path);
    const std::string fingerprint_prefix = "fingerprint ";
    if (lines.size() < 5 || lines[0] != kStampHeader ||
        lines[1].rfind(fingerprint_prefix, 0) != 0) {
      return std::nullopt;
    }
    PrepareStamp stamp;
    stamp.fingerprint = lines[1].substr(fingerprint_prefix.size());
    stamp.train_pairs = number_after(lines[2], "split train ");
    stamp.valid_pairs = number_after(lines[3], "split valid ");
    stamp.has_test = lines[4] != "split test absent";
    if (stamp.has_test) stamp.test_pairs = number_after(lines[4], "split test ");
    for (std::size_t i = 5; i < lines.size(); ++i) {
      const std::string prefix = "rule ";
      if (lines[i].rfind(prefix, 0) != 0) return std::nullopt;
      const std::size_t space = lines[i].find(' ', prefix.size());
      if (space == std::string::npos) return std::nullopt;
      stamp.rule_counts.emplace_back(
          lines[i].substr(space + 1),
          std::stoll(lines[i].substr(prefix.size(), space - prefix.size())));
    }
    return stamp;
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable or damaged: prepare again
  }
}

}  // namespace qkv
