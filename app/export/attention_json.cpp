// attention.json writer (schema in attention_json.h and docs/attention.md).
#include "app/export/attention_json.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "app/export/site_description.h"

namespace qkv {
namespace {

// float as the JSON number type: dump() then writes the shortest text that reads back to the
// same float32 (0.1f -> 0.1), instead of 17 digits of its double.
using Json = nlohmann::
    basic_json<std::map, std::vector, std::string, bool, std::int64_t, std::uint64_t, float>;

constexpr char kAxes[] =
    "weights[head][query][key]: rows are queries, columns are keys; every row sums to 1. "
    "query/output[head][query position][d_head], key/value[head][key position][d_head]. "
    "Decoder positions hold target.tokens (<s> first); position t predicts "
    "target.predicted_tokens[t].";

Json nested(const float* data, c10::IntArrayRef sizes) {
  Json out = Json::array();
  if (sizes.size() == 1) {
    for (int64_t i = 0; i < sizes[0]; ++i) out.push_back(data[i]);
    return out;
  }
  int64_t stride = 1;
  for (size_t d = 1; d < sizes.size(); ++d) stride *= sizes[d];
  for (int64_t i = 0; i < sizes[0]; ++i) out.push_back(nested(data + i * stride, sizes.slice(1)));
  return out;
}

Json nested(const torch::Tensor& tensor) {
  const auto values = tensor.to(torch::kCPU, torch::kFloat32).contiguous();
  return nested(values.data_ptr<float>(), values.sizes());
}

Json site_json(const SiteAttention& site, bool include_vectors) {
  Json out = {{"site", site.site},
              {"type", attention_type_name(site.type)},
              {"layer", site.layer},
              {"queries", query_stream(site.type)},
              {"keys", key_stream(site.type)},
              {"mask", mask_name(site.type)},
              {"qkv_origin", qkv_origin(site.type)},
              {"shape", site.weights.sizes().vec()},
              {"weights", nested(site.weights)}};
  if (include_vectors) {
    if (!site.has_projections()) {
      throw std::invalid_argument("attention_json: " + site.site +
                                  " has no recorded q, k, v (collect with keep_projections)");
    }
    out["query"] = nested(site.query);
    out["key"] = nested(site.key);
    out["value"] = nested(site.value);
    out["output"] = nested(site.output);
  }
  return out;
}

}  // namespace

std::string attention_json(const SentenceAttention& sentence, bool include_vectors) {
  Json sites = Json::array();
  for (const SiteAttention& site : sentence.sites)
    sites.push_back(site_json(site, include_vectors));
  const Json document = {{"format", "qkv-attention/1"},
                         {"axes", kAxes},
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
  // Invalid UTF-8 in a token (a byte-fallback piece) is replaced, not an exception.
  return document.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void write_attention_json(const std::filesystem::path& path,
                          const SentenceAttention& sentence,
                          bool include_vectors) {
  const std::string text = attention_json(sentence, include_vectors);
  std::ofstream file(path, std::ios::binary);
  file << text << '\n';
  if (!file) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace qkv
