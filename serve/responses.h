// The API's response bodies (JSON text): translations, the model description, errors.
#pragma once

#include <string>
#include <vector>

#include "inference/loaded_run.h"
#include "serve/requests.h"

namespace qkv {

/// /v1/translate's answer to `request`: for "text" one object, for "texts"
/// {"translations": [...]}; each {"translation", "log_prob", "tokens"}, plus "nbest":
/// [{"translation", "log_prob", "score"}] when nbest > 1 and "truncated": true and a "warning"
/// when the source was cut to `max_source_tokens`.
std::string translate_response(const TranslateRequest& request,
                               const std::vector<std::vector<Translation>>& translations,
                               const std::vector<bool>& truncated,
                               int64_t max_source_tokens);

/// /v1/model: languages, sizes, parameter count, checkpoint and step, the decode defaults,
/// the request limits and the resolved config (as RUN/config.yaml has it).
std::string model_response(const LoadedRun& run, const std::string& run_dir);

}  // namespace qkv
