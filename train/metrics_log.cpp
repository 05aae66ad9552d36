#include "train/metrics_log.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "train/checkpoint.h"

namespace qkv {

MetricsLog::MetricsLog(const std::filesystem::path& path, int64_t resume_step) {
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string kept;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      // A torn last line (killed mid-write) is not valid JSON: drop it with the later steps.
      if (json.is_discarded() || json.value("step", int64_t{0}) > resume_step) continue;
      kept += line + "\n";
    }
    write_file_atomically(path, std::vector<char>(kept.begin(), kept.end()));
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
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::vector<MetricsRecord> records;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      throw std::runtime_error(path.string() + ":" + std::to_string(line_number) +
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
