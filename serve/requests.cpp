// Request parsing (see requests.h).
#include "serve/requests.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "inference/request_limits.h"
#include "serve/api_error.h"
#include "train/enum_names.h"

namespace qkv {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& message) { throw ApiError(400, message); }

// The body as a JSON object whose fields are all in `known`.
json parse_object(const std::string& body, const std::set<std::string>& known) {
  json value;
  try {
    value = json::parse(body);
  } catch (const json::parse_error& e) {
    // nlohmann's text starts "[json.exception.parse_error.101] parse error at ...".
    const std::string what = e.what();
    bad("body: not valid JSON: " + what.substr(what.find(']') + 2));
  }
  if (!value.is_object()) bad("body: must be a JSON object, got " + std::string(value.type_name()));
  for (const auto& [name, field] : value.items()) {
    if (known.count(name) == 0) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      bad("unknown field '" + name + "' (known: " + list + ")");
    }
  }
  return value;
}

std::string text_field(const json& value, const std::string& name) {
  if (!value.is_string()) bad(name + ": must be a string, got " + value.type_name());
  std::string text = value.get<std::string>();
  if (static_cast<int64_t>(text.size()) > kRequestLimits.max_text_bytes) {
    bad(fmt::format("{}: longer than {} bytes", name, kRequestLimits.max_text_bytes));
  }
  return text;
}

int64_t integer_field(const json& body, const char* name, int64_t minimum) {
  const json& value = body.at(name);
  if (!value.is_number_integer()) bad(std::string(name) + ": must be an integer");
  const auto number = value.get<int64_t>();
  if (number < minimum) bad(fmt::format("{}: must be at least {}, got {}", name, minimum, number));
  return number;
}

// beam, length_penalty, length_penalty_type, max_len over the run's decode config.
TranslateOptions decode_options(const json& body, const ExperimentConfig& run) {
  TranslateOptions options;
  options.decode = run.decode;
  if (body.contains("beam")) options.decode.beam_size = integer_field(body, "beam", 1);
  if (body.contains("length_penalty")) {
    const json& alpha = body.at("length_penalty");
    if (!alpha.is_number() || alpha.get<double>() < 0) bad("length_penalty: must be a number >= 0");
    options.decode.length_penalty_alpha = alpha.get<double>();
  }
  if (body.contains("length_penalty_type")) {
    const json& name = body.at("length_penalty_type");
    const auto type = name.is_string() ? enum_from_name<LengthPenaltyType>(name.get<std::string>())
                                       : std::nullopt;
    if (!type) bad("length_penalty_type: must be one of: " + enum_name_list<LengthPenaltyType>());
    options.decode.length_penalty_type = *type;
  }
  if (body.contains("max_len")) options.max_output_tokens = integer_field(body, "max_len", 1);
  return options;
}

void check_limits(const TranslateOptions& options, const ExperimentConfig& run) {
  try {
    check_request_limits(options, run.model.max_positions, kApiLimitNames);
  } catch (const std::invalid_argument& e) {
    bad(e.what());
  }
}

bool bool_field(const json& body, const char* name) {
  if (!body.contains(name)) return false;
  if (!body.at(name).is_boolean()) bad(std::string(name) + ": must be true or false");
  return body.at(name).get<bool>();
}

// "heads_off": a head mask SPEC, parsed and checked against the run's model.
std::optional<HeadMask> heads_off_field(const json& body, const ExperimentConfig& run) {
  if (!body.contains("heads_off")) return std::nullopt;
  const std::string spec = text_field(body.at("heads_off"), "heads_off");
  try {
    HeadMask mask = parse_head_mask(spec);
    check_head_mask(mask, run.model.encoder_layers, run.model.decoder_layers, run.model.num_heads);
    return mask;
  } catch (const std::invalid_argument& e) {
    bad(std::string("heads_off: ") + e.what());
  }
}

}  // namespace

TranslateRequest parse_translate_request(const std::string& body, const ExperimentConfig& run) {
  const json object = parse_object(body,
                                   {"text",
                                    "texts",
                                    "beam",
                                    "nbest",
                                    "length_penalty",
                                    "length_penalty_type",
                                    "max_len",
                                    "heads_off"});
  TranslateRequest request;
  if (object.contains("text") == object.contains("texts")) bad("text: give either text or texts");
  if (object.contains("text")) {
    request.single = true;
    request.texts.push_back(text_field(object.at("text"), "text"));
  } else {
    const json& texts = object.at("texts");
    if (!texts.is_array() || texts.empty()) bad("texts: must be a non-empty array of strings");
    if (static_cast<int64_t>(texts.size()) > kRequestLimits.max_texts) {
      bad(fmt::format(
          "texts: at most {} per request, got {}", kRequestLimits.max_texts, texts.size()));
    }
    for (size_t i = 0; i < texts.size(); ++i)
      request.texts.push_back(text_field(texts[i], fmt::format("texts[{}]", i)));
  }
  request.options = decode_options(object, run);
  if (object.contains("nbest")) request.options.n_best = integer_field(object, "nbest", 1);
  check_limits(request.options, run);
  request.heads_off = heads_off_field(object, run);
  return request;
}

AttentionRequest parse_attention_request(const std::string& body, const ExperimentConfig& run) {
  const json object = parse_object(body,
                                   {"text",
                                    "target",
                                    "beam",
                                    "length_penalty",
                                    "length_penalty_type",
                                    "max_len",
                                    "vectors",
                                    "format",
                                    "heads_off"});
  AttentionRequest request;
  if (!object.contains("text")) bad("text: required");
  request.text = text_field(object.at("text"), "text");
  if (object.contains("target")) request.target = text_field(object.at("target"), "target");
  request.options = decode_options(object, run);
  check_limits(request.options, run);
  request.vectors = bool_field(object, "vectors");
  if (object.contains("format")) {
    const json& format = object.at("format");
    if (format != "json" && format != "html") bad("format: must be \"json\" or \"html\"");
    request.html = format == "html";
  }
  request.heads_off = heads_off_field(object, run);
  return request;
}

}  // namespace qkv
