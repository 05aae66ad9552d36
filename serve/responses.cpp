// Response bodies (see responses.h).
#include "serve/responses.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <type_traits>

#include "inference/request_limits.h"
#include "serve/api_error.h"
#include "train/enum_names.h"

namespace qkv {
namespace {

using nlohmann::json;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// A config section's fields as JSON, through the same field list as the YAML reader.
struct FieldsToJson {
  json& out;
  template <class T>
  void operator()(const char* name, const T& value, const char* /*doc*/) {
    if constexpr (std::is_enum_v<T>) {
      out[name] = enum_name(value);
    } else {
      out[name] = value;
    }
  }
};

template <class Section>
json section_json(Section section) {
  json out = json::object();
  FieldsToJson visitor{out};
  section.visit_fields(visitor);
  return out;
}

json translation_json(const std::vector<Translation>& hypotheses, bool nbest) {
  const Translation& best = hypotheses.front();
  json item = {
      {"translation", best.text}, {"log_prob", best.log_prob}, {"tokens", best.tokens.size()}};
  if (nbest) {
    item["nbest"] = json::array();
    for (const Translation& h : hypotheses) {
      item["nbest"].push_back(
          {{"translation", h.text}, {"log_prob", h.log_prob}, {"score", h.score}});
    }
  }
  return item;
}

}  // namespace

std::string error_json(const std::string& message) { return dump({{"error", message}}); }

std::string translate_response(const TranslateRequest& request,
                               const std::vector<std::vector<Translation>>& translations,
                               const std::vector<bool>& truncated,
                               int64_t max_source_tokens) {
  json items = json::array();
  for (size_t i = 0; i < translations.size(); ++i) {
    json item = translation_json(translations[i], request.options.n_best > 1);
    if (truncated[i]) {
      item["truncated"] = true;
      item["warning"] = fmt::format("longer than {} tokens: translated its first {} tokens",
                                    max_source_tokens,
                                    max_source_tokens);
    }
    items.push_back(std::move(item));
  }
  return dump(request.single ? items.front() : json{{"translations", items}});
}

std::string model_response(const LoadedRun& run, const std::string& run_dir) {
  const ExperimentConfig& config = run.config;
  const json limits = {{"max_beam", kRequestLimits.max_beam},
                       {"max_texts", kRequestLimits.max_texts},
                       {"max_text_bytes", kRequestLimits.max_text_bytes},
                       {"max_source_tokens", config.model.max_positions - 1},
                       {"max_len", config.model.max_positions - 1}};
  const json body = {{"run", run_dir},
                     {"checkpoint", run.checkpoint.filename().string()},
                     {"step", run.step},
                     {"source_lang", config.data.source_lang},
                     {"target_lang", config.data.target_lang},
                     {"corpus", config.data.corpus},
                     {"vocab_size", run.tokenizer->vocab_size()},
                     {"parameters", count_parameters(*run.model)},
                     {"model", section_json(config.model)},
                     {"decode", section_json(config.decode)},
                     {"limits", limits},
                     {"config", to_yaml(config)}};
  return dump(body);
}

}  // namespace qkv
