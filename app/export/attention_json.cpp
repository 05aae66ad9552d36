// Attention as JSON, for every format (see attention_json.h). The site fields are built once
// (named_site, add_streams) and the tensors by one nested-array writer that each format gives
// its own number rule.
#include "app/export/attention_json.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "app/export/npy.h"
#include "app/export/site_description.h"
#include "data/io/atomic_file.h"

namespace qkv {
namespace {

// float as the JSON number type: dump() then writes the shortest text that reads back to the
// same float32 (0.1f -> 0.1), instead of 17 digits of its double.
using FloatJson = nlohmann::
    basic_json<std::map, std::vector, std::string, bool, std::int64_t, std::uint64_t, float>;

constexpr char kAttentionAxes[] =
    "weights[head][query][key]: rows are queries, columns are keys; every row sums to 1. "
    "query/output[head][query position][d_head], key/value[head][key position][d_head]. "
    "Decoder positions hold target.tokens (<s> first); position t predicts "
    "target.predicted_tokens[t].";

constexpr char kNpyAxes[] =
    "weights [H, Tq, Tk]: rows are queries, columns are keys, every row sums to 1. "
    "query and output [H, Tq, d_head]; key and value [H, Tk, d_head]. float32, little-endian, "
    "C order. Recompute: softmax(query @ key^T / sqrt(d_head), masked) @ value == output.";

// Text of a document; invalid UTF-8 in a token (a byte-fallback piece) is replaced, not an
// exception.
template <class Json>
std::string dump(const Json& document, int indent = -1) {
  return document.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// `values` (C order, of shape `sizes`) as nested JSON arrays, each value written as
// number(value).
template <class Json, class Number>
Json nested(const float* values, c10::IntArrayRef sizes, Number number) {
  Json out = Json::array();
  if (sizes.size() == 1) {
    for (int64_t i = 0; i < sizes[0]; ++i) out.push_back(number(values[i]));
    return out;
  }
  int64_t stride = 1;
  for (size_t d = 1; d < sizes.size(); ++d) stride *= sizes[d];
  for (int64_t i = 0; i < sizes[0]; ++i) {
    out.push_back(nested<Json>(values + i * stride, sizes.slice(1), number));
  }
  return out;
}

template <class Json, class Number>
Json nested(const torch::Tensor& tensor, Number number) {
  const auto values = tensor.to(torch::kCPU, torch::kFloat32).contiguous();
  return nested<Json>(values.data_ptr<float>(), values.sizes(), number);
}

float exact(float value) { return value; }

// Rounded to 4 decimals: enough for pictures, a quarter of the file size.
double four_decimals(float value) { return std::round(value * 1e4) / 1e4; }

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
std::string float32_base64(const torch::Tensor& tensor) { return base64(float32_le_bytes(tensor)); }

void require_projections(const SiteAttention& site, const char* writer) {
  if (!site.has_projections()) {
    throw std::invalid_argument(std::string(writer) + ": " + site.site +
                                " has no recorded q, k, v (collect with keep_projections)");
  }
}

// The fields that name a site in every format.
template <class Json>
Json named_site(const SiteAttention& site) {
  return {{"site", site.site}, {"type", attention_type_name(site.type)}, {"layer", site.layer}};
}

// Where the rows and the columns come from, and the mask.
template <class Json>
void add_streams(Json& out, AttentionType type) {
  out["queries"] = query_stream(type);
  out["keys"] = key_stream(type);
  out["mask"] = mask_name(type);
}

FloatJson attention_site_json(const SiteAttention& site, bool include_vectors) {
  FloatJson out = named_site<FloatJson>(site);
  add_streams(out, site.type);
  out["qkv_origin"] = qkv_origin(site.type);
  out["shape"] = site.weights.sizes().vec();
  out["weights"] = nested<FloatJson>(site.weights, exact);
  if (include_vectors) {
    require_projections(site, "attention_json");
    for (const auto& [kind, tensor] : site.projections()) {
      out[kind] = nested<FloatJson>(*tensor, exact);
    }
  }
  return out;
}

nlohmann::json npy_site_json(const SiteAttention& site, bool vectors) {
  nlohmann::json out = named_site<nlohmann::json>(site);
  add_streams(out, site.type);
  out["files"] = {{"weights", npy_file_name(site, "weights")}};
  out["shapes"] = {{"weights", site.weights.sizes().vec()}};
  if (vectors) {
    require_projections(site, "write_attention_npy");
    for (const auto& [kind, tensor] : site.projections()) {
      out["files"][kind] = npy_file_name(site, kind);
      out["shapes"][kind] = tensor->sizes().vec();
    }
  }
  return out;
}

nlohmann::json explorer_site_json(const SiteAttention& site) {
  require_projections(site, "explorer_html");
  nlohmann::json out = named_site<nlohmann::json>(site);
  out["title"] = attention_title(site.type);
  out["qkv_origin"] = qkv_origin(site.type);
  out["shape"] = site.weights.sizes().vec();
  out["weights"] = float32_base64(site.weights);
  for (const auto& [kind, tensor] : site.projections()) out[kind] = float32_base64(*tensor);
  return out;
}

// Adds "heads_off": {site: [heads]} when heads were switched off; nothing otherwise, so that
// a document recorded with every head on is the same as before the field existed.
template <class Json>
void add_heads_off(Json& out, const HeadMask& mask) {
  if (!mask.empty()) out["heads_off"] = mask.heads_off;
}

}  // namespace

std::string attention_json(const SentenceAttention& sentence, bool include_vectors) {
  FloatJson sites = FloatJson::array();
  for (const SiteAttention& site : sentence.sites) {
    sites.push_back(attention_site_json(site, include_vectors));
  }
  FloatJson document = {{"format", "qkv-attention/1"},
                        {"axes", kAttentionAxes},
                        {"model",
                         {{"d_model", sentence.d_model},
                          {"num_heads", sentence.num_heads},
                          {"d_head", sentence.d_head()},
                          {"encoder_layers", sentence.encoder_layers},
                          {"decoder_layers", sentence.decoder_layers}}},
                        {"source",
                         {{"text", sentence.source_text},
                          {"tokens", sentence.source_tokens},
                          {"ids", sentence.source_ids}}},
                        {"target",
                         {{"text", sentence.target_text},
                          {"tokens", sentence.target_tokens},
                          {"ids", sentence.target_ids},
                          {"predicted_tokens", sentence.predicted_tokens},
                          {"predicted_ids", sentence.predicted_ids},
                          {"forced", sentence.forced},
                          {"finished", sentence.finished}}},
                        {"sites", std::move(sites)}};
  add_heads_off(document, sentence.heads_off);
  return dump(document);
}

void write_attention_json(const std::filesystem::path& path,
                          const SentenceAttention& sentence,
                          bool include_vectors) {
  write_file_atomically(path, attention_json(sentence, include_vectors) + '\n');
}

std::string npy_file_name(const SiteAttention& site, const std::string& kind) {
  return site.site + "." + kind + ".npy";
}

std::string npy_index_json(const SentenceAttention& sentence, bool vectors) {
  nlohmann::json sites = nlohmann::json::array();
  for (const SiteAttention& site : sentence.sites) sites.push_back(npy_site_json(site, vectors));
  const nlohmann::json index = {{"format", "qkv-attention-npy/1"},
                                {"axes", kNpyAxes},
                                {"d_head", sentence.d_head()},
                                {"source_tokens", sentence.source_tokens},
                                {"target_tokens", sentence.target_tokens},
                                {"predicted_tokens", sentence.predicted_tokens},
                                {"sites", std::move(sites)}};
  return dump(index, /*indent=*/2) + "\n";
}

nlohmann::json probe_json(const SentenceAttention& sentence) {
  nlohmann::json layers = nlohmann::json::array();
  for (const SiteAttention& site : sentence.sites) {
    if (site.type == AttentionType::kCross) {
      layers.push_back(nested<nlohmann::json>(site.weights, four_decimals));
    }
  }
  return {{"source", sentence.source_text},
          {"translation", sentence.target_text},
          {"source_tokens", sentence.source_tokens},
          {"target_tokens", sentence.target_tokens},
          {"predicted_tokens", sentence.predicted_tokens},
          {"cross_attn", std::move(layers)}};
}

nlohmann::json explorer_sentence_json(const SentenceAttention& sentence) {
  nlohmann::json sites = nlohmann::json::array();
  for (const SiteAttention& site : sentence.sites) sites.push_back(explorer_site_json(site));
  nlohmann::json out = {
      {"source", {{"text", sentence.source_text}, {"tokens", sentence.source_tokens}}},
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
  add_heads_off(out, sentence.heads_off);  // the page marks these heads (explorer.js headIsOff)
  return out;
}

}  // namespace qkv
