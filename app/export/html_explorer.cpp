// HTML explorer writer (see html_explorer.h): fills the page template with the CSS, the JS and
// the data. Tensors travel as base64 of their little-endian float32 bytes (exact, and a third
// of the size of decimal text); the page decodes them into Float32Arrays.
#include "app/export/html_explorer.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "app/export/explorer_assets.h"
#include "app/export/site_description.h"

namespace qkv {
namespace {

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

// Base64 of the tensor's float32 values in C order, little-endian (JS typed arrays use the
// platform's byte order, which is little-endian on every machine a browser runs on).
std::string float32_base64(const torch::Tensor& tensor) {
  const auto values = tensor.to(torch::kCPU, torch::kFloat32).contiguous();
  std::string bytes(static_cast<size_t>(values.numel()) * 4, '\0');
  const float* data = values.data_ptr<float>();
  for (int64_t i = 0; i < values.numel(); ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, &data[i], 4);
    for (int b = 0; b < 4; ++b)
      bytes[static_cast<size_t>(i * 4 + b)] = static_cast<char>(bits >> (8 * b));
  }
  return base64(bytes);
}

nlohmann::json sentence_json(const SentenceAttention& sentence) {
  nlohmann::json sites = nlohmann::json::array();
  for (const SiteAttention& site : sentence.sites) {
    if (!site.has_projections()) {
      throw std::invalid_argument("explorer_html: " + site.site +
                                  " has no recorded q, k, v (collect with keep_projections)");
    }
    sites.push_back({{"site", site.site},
                     {"type", attention_type_name(site.type)},
                     {"layer", site.layer},
                     {"title", attention_title(site.type)},
                     {"qkv_origin", qkv_origin(site.type)},
                     {"shape", site.weights.sizes().vec()},
                     {"weights", float32_base64(site.weights)},
                     {"query", float32_base64(site.query)},
                     {"key", float32_base64(site.key)},
                     {"value", float32_base64(site.value)},
                     {"output", float32_base64(site.output)}});
  }
  return {{"source", {{"text", sentence.source_text}, {"tokens", sentence.source_tokens}}},
          {"target",
           {{"text", sentence.target_text},
            {"tokens", sentence.target_tokens},
            {"predicted_tokens", sentence.predicted_tokens},
            {"forced", sentence.forced}}},
          {"model",
           {{"d_model", sentence.d_model},
            {"num_heads", sentence.num_heads},
            {"encoder_layers", sentence.encoder_layers},
            {"decoder_layers", sentence.decoder_layers}}},
          {"sites", std::move(sites)}};
}

nlohmann::json read_snapshot(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path.string());
  try {
    nlohmann::json snapshot = nlohmann::json::parse(file);
    if (snapshot.value("format", "") != "qkv-attention-probes/1") {
      throw std::runtime_error("not a qkv-attention-probes/1 file");
    }
    return snapshot;
  } catch (const std::exception& error) {
    throw std::runtime_error(path.string() + ": " + error.what());
  }
}

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
    data["sentences"].push_back(sentence_json(sentence));
  }
  for (const auto& path : options.timeline_files) data["timeline"].push_back(read_snapshot(path));
  return fill_template(kExplorerHtml,
                       {{"@@TITLE@@", html_escape(options.title)},
                        {"@@CSS@@", kExplorerCss},
                        {"@@DATA@@", script_safe(data)},
                        {"@@JS@@", kExplorerJs}});
}

void write_html_explorer(const std::filesystem::path& path,
                         const std::vector<SentenceAttention>& sentences,
                         const ExplorerOptions& options) {
  const std::string page = explorer_html(sentences, options);
  std::ofstream file(path, std::ios::binary);
  file << page;
  if (!file) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace qkv
