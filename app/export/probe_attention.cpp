// Probe-sentence snapshots (see probe_attention.h): greedy decoding of each probe, its
// cross-attention as JSON (attention_json.h), one file per validation step.
#include "app/export/probe_attention.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

#include "app/export/attention_json.h"
#include "data/io/atomic_file.h"
#include "inference/attention_maps.h"

namespace qkv {
namespace {

constexpr char kProbeFormat[] = "qkv-attention-probes/1";

constexpr char kProbeAxes[] =
    "cross_attn[layer][head][query][key]: rows = queries (decoder input positions, "
    "<s> first; position t predicts predicted_tokens[t]), columns = keys (source tokens + "
    "</s>)";

// The snapshot of `probes` at `step`; leaves the model in eval mode.
nlohmann::json probe_snapshot(Translator& translator,
                              const std::vector<std::string>& probes,
                              int64_t step) {
  TranslateOptions greedy;
  greedy.decode.beam_size = 1;
  nlohmann::json snapshot = {{"format", kProbeFormat},
                             {"step", step},
                             {"axes", kProbeAxes},
                             {"probes", nlohmann::json::array()}};
  for (const std::string& probe : probes) {
    snapshot["probes"].push_back(probe_json(
        collect_decoded_attention(translator, probe, greedy, /*keep_projections=*/false)));
  }
  return snapshot;
}

}  // namespace

void save_probe_attention(Translator& translator,
                          const std::vector<std::string>& probes,
                          int64_t step,
                          const std::filesystem::path& attention_dir) {
  if (probes.empty()) return;
  const bool was_training = translator.model()->is_training();
  const nlohmann::json snapshot = probe_snapshot(translator, probes, step);
  if (was_training) translator.model()->train();
  std::filesystem::create_directories(attention_dir);
  write_file_atomically(attention_dir / ("step-" + std::to_string(step) + ".json"),
                        snapshot.dump() + '\n');
}

std::vector<std::filesystem::path> probe_attention_files(
    const std::filesystem::path& attention_dir) {
  std::vector<std::pair<int64_t, std::filesystem::path>> found;
  if (!std::filesystem::is_directory(attention_dir)) return {};
  const std::regex name(R"(step-(\d+)\.json)");
  for (const auto& entry : std::filesystem::directory_iterator(attention_dir)) {
    std::smatch match;
    const std::string file = entry.path().filename().string();
    if (entry.is_regular_file() && std::regex_match(file, match, name)) {
      found.emplace_back(std::stoll(match[1].str()), entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::filesystem::path> paths;
  for (auto& entry : found) paths.push_back(std::move(entry.second));
  return paths;
}

nlohmann::json read_probe_attention(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path.string());
  try {
    nlohmann::json snapshot = nlohmann::json::parse(file);
    if (snapshot.value("format", "") != kProbeFormat) {
      throw std::runtime_error(std::string("not a ") + kProbeFormat + " file");
    }
    return snapshot;
  } catch (const std::exception& error) {
    throw std::runtime_error(path.string() + ": " + error.what());
  }
}

}  // namespace qkv
