// The `qkv attention` output layout (see attention_export.h): one folder per sentence with
// JSON, NPY and PNG files, and one HTML explorer for all sentences.
#include "app/export/attention_export.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "app/export/attention_json.h"
#include "app/export/attention_png.h"
#include "app/export/html_explorer.h"
#include "app/export/npy.h"
#include "app/export/site_description.h"

namespace qkv {
namespace {

constexpr char kNpyAxes[] =
    "weights [H, Tq, Tk]: rows are queries, columns are keys, every row sums to 1. "
    "query and output [H, Tq, d_head]; key and value [H, Tk, d_head]. float32, little-endian, "
    "C order. Recompute: softmax(query @ key^T / sqrt(d_head), masked) @ value == output.";

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

void set_formats(ExportOptions& options, const std::string& list) {
  options.json = options.npy = options.png = options.html = false;
  std::stringstream items(list);
  bool any = false;
  for (std::string item; std::getline(items, item, ',');) {
    if (item == "json") {
      options.json = true;
    } else if (item == "npy") {
      options.npy = true;
    } else if (item == "png") {
      options.png = true;
    } else if (item == "html") {
      options.html = true;
    } else {
      throw std::invalid_argument("--format: '" + item +
                                  "' is not one of: json, npy, png, html (comma-separated)");
    }
    any = true;
  }
  if (!any) throw std::invalid_argument("--format: name at least one of json, npy, png, html");
}

bool needs_projections(const ExportOptions& options) { return options.vectors || options.html; }

void write_attention_npy(const std::filesystem::path& dir,
                         const SentenceAttention& sentence,
                         bool vectors) {
  std::filesystem::create_directories(dir);
  nlohmann::json sites = nlohmann::json::array();
  for (const SiteAttention& site : sentence.sites) {
    nlohmann::json files = nlohmann::json::object();
    nlohmann::json shapes = nlohmann::json::object();
    auto save = [&](const std::string& kind, const torch::Tensor& tensor) {
      const std::string name = site.site + "." + kind + ".npy";
      write_npy(dir / name, tensor);
      files[kind] = name;
      shapes[kind] = tensor.sizes().vec();
    };
    save("weights", site.weights);
    if (vectors) {
      if (!site.has_projections()) {
        throw std::invalid_argument("write_attention_npy: " + site.site +
                                    " has no recorded q, k, v (collect with keep_projections)");
      }
      save("query", site.query);
      save("key", site.key);
      save("value", site.value);
      save("output", site.output);
    }
    sites.push_back({{"site", site.site},
                     {"type", attention_type_name(site.type)},
                     {"layer", site.layer},
                     {"queries", query_stream(site.type)},
                     {"keys", key_stream(site.type)},
                     {"mask", mask_name(site.type)},
                     {"files", files},
                     {"shapes", shapes}});
  }
  const nlohmann::json index = {{"format", "qkv-attention-npy/1"},
                                {"axes", kNpyAxes},
                                {"d_head", sentence.d_head()},
                                {"source_tokens", sentence.source_tokens},
                                {"target_tokens", sentence.target_tokens},
                                {"predicted_tokens", sentence.predicted_tokens},
                                {"sites", sites}};
  write_text(dir / "index.json",
             index.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

int64_t export_attention(const std::filesystem::path& out,
                         const std::vector<SentenceAttention>& sentences,
                         const ExportOptions& options) {
  std::filesystem::create_directories(out);
  int64_t files = 0;
  for (size_t i = 0; i < sentences.size(); ++i) {
    const std::filesystem::path dir = out / std::to_string(i);
    std::filesystem::create_directories(dir);
    const SentenceAttention& sentence = sentences[i];
    if (options.json) {
      write_attention_json(dir / "attention.json", sentence, options.vectors);
      ++files;
    }
    if (options.npy) {
      write_attention_npy(dir / "npy", sentence, options.vectors);
      files += 1 + static_cast<int64_t>(sentence.sites.size()) * (options.vectors ? 5 : 1);
    }
    if (options.png) {
      files += static_cast<int64_t>(write_attention_pngs(dir / "png", sentence).size());
    }
  }
  if (options.html) {
    ExplorerOptions explorer;
    explorer.title = options.title;
    explorer.timeline_files = options.timeline_files;
    write_html_explorer(out / "index.html", sentences, explorer);
    ++files;
  }
  return files;
}

}  // namespace qkv
