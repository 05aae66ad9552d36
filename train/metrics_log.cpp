// metrics.jsonl (see metrics_log.h): lines read with data/io's line reader, rewritten with its
// atomic writer, appended through an ofstream flushed per line.
#include "train/metrics_log.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "data/io/atomic_file.h"
#include "data/io/text_file.h"

namespace qkv {
namespace {

// The lines of metrics.jsonl. UTF-8 is left to the JSON parser, which rejects invalid bytes
// itself: a line torn by a killed run must be skippable (see the constructor), not fatal.
std::vector<std::string> json_lines(const std::filesystem::path& path) {
  LineReading reading;
  reading.require_utf8 = false;
  return read_text_lines(path, reading);
}

}  // namespace

MetricsLog::MetricsLog(const std::filesystem::path& path, int64_t resume_step) {
  if (std::filesystem::exists(path)) {
    std::string kept;
    for (const std::string& line : json_lines(path)) {
      if (line.empty()) continue;
      const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      // A torn last line (killed mid-write) is not valid JSON: drop it with the later steps.
      if (json.is_discarded() || json.value("step", int64_t{0}) > resume_step) continue;
      kept += line + "\n";
    }
    write_file_atomically(path, kept);
  }
  out_.open(path, std::ios::app);
  if (!out_) throw std::runtime_error("cannot write " + path.string());
}

void MetricsLog::append(const MetricsRecord& record) {
  nlohmann::ordered_json json;
  json["type"] = record.type;
  json["step"] = record.step;
  for (const auto& [name, value] : record.values) json[name] = value;
  out_ << json.dump() << '\n';
  out_.flush();
}

std::vector<MetricsRecord> MetricsLog::read(const std::filesystem::path& path) {
  std::vector<MetricsRecord> records;
  const std::vector<std::string> lines = json_lines(path);
  for (std::size_t index = 0; index < lines.size(); ++index) {
    if (lines[index].empty()) continue;
    const auto json = nlohmann::json::parse(lines[index], nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      throw std::runtime_error(path.string() + ":" + std::to_string(index + 1) +
                               ": not a JSON object");
    }
    MetricsRecord record;
    record.type = json.value("type", "");
    record.step = json.value("step", int64_t{0});
    for (const auto& [key, value] : json.items()) {
      if (value.is_number() && key != "step") record.values[key] = value.get<double>();
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace qkv
