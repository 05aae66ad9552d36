// The `qkv attention` output layout (see attention_export.h): one folder per sentence with
// JSON, NPY and PNG files, and one HTML explorer for all sentences.
#include "app/export/attention_export.h"

#include <sstream>
#include <stdexcept>

#include "app/export/attention_json.h"
#include "app/export/attention_png.h"
#include "app/export/html_explorer.h"
#include "app/export/npy.h"
#include "data/io/atomic_file.h"

namespace qkv {

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
  const std::string index = npy_index_json(sentence, vectors);  // checks q, k, v first
  std::filesystem::create_directories(dir);
  for (const SiteAttention& site : sentence.sites) {
    write_npy(dir / npy_file_name(site, "weights"), site.weights);
    if (!vectors) continue;
    for (const auto& [kind, tensor] : site.projections()) {
      write_npy(dir / npy_file_name(site, kind), *tensor);
    }
  }
  write_file_atomically(dir / "index.json", index);
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
