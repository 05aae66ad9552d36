// HTML explorer writer (see html_explorer.h): fills the page template with the CSS, the JS and
// the data: each sentence's JSON from attention_json.h (tensors as base64 of their
// little-endian float32 bytes: exact, and a third of the size of decimal text; the page
// decodes them into Float32Arrays) and the run's probe snapshots for the timeline.
#include "app/export/html_explorer.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "app/export/attention_json.h"
#include "app/export/explorer_assets.h"
#include "app/export/probe_attention.h"
#include "data/io/atomic_file.h"

namespace qkv {
namespace {

// Text of a JSON value that is safe inside <script>: '<' only occurs inside JSON strings,
// where \u003c means the same, so "</script>" cannot end the element early.
std::string script_safe(const nlohmann::json& value) {
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The template with each @@NAME@@ marker replaced by its value. Markers are searched in the
// template only, never in inserted values (a token may contain any text).
std::string fill_template(const std::string& page,
                          const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  size_t from = 0;
  while (true) {
    size_t at = std::string::npos;
    const std::pair<std::string, std::string>* found = nullptr;
    for (const auto& entry : values) {
      const size_t position = page.find(entry.first, from);
      if (position < at) {
        at = position;
        found = &entry;
      }
    }
    if (found == nullptr) break;
    out.append(page, from, at - from);
    out += found->second;
    from = at + found->first.size();
  }
  out.append(page, from, std::string::npos);
  return out;
}

}  // namespace

std::string explorer_html(const std::vector<SentenceAttention>& sentences,
                          const ExplorerOptions& options) {
  if (sentences.empty()) throw std::invalid_argument("explorer_html: no sentences");
  nlohmann::json data = {{"format", "qkv-explorer/1"},
                         {"sentences", nlohmann::json::array()},
                         {"timeline", nlohmann::json::array()}};
  for (const SentenceAttention& sentence : sentences) {
    data["sentences"].push_back(explorer_sentence_json(sentence));
  }
  for (const auto& path : options.timeline_files) {
    data["timeline"].push_back(read_probe_attention(path));
  }
  return fill_template(kExplorerHtml,
                       {{"@@TITLE@@", html_escape(options.title)},
                        {"@@CSS@@", kExplorerCss},
                        {"@@DATA@@", script_safe(data)},
                        {"@@JS@@", kExplorerJs}});
}

void write_html_explorer(const std::filesystem::path& path,
                         const std::vector<SentenceAttention>& sentences,
                         const ExplorerOptions& options) {
  write_file_atomically(path, explorer_html(sentences, options));
}

}  // namespace qkv
