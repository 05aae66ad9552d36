// Collecting attention maps of a sentence pair: teacher-forced, recorder attached (see
// attention_maps.h).
#include "inference/attention_maps.h"

#include <algorithm>
#include <stdexcept>

#include "data/special_tokens.h"
#include "model/search.h"

namespace qkv {
namespace {

torch::Tensor ids_tensor(const std::vector<int64_t>& ids, torch::Device device) {
  return torch::tensor(ids, torch::kLong).unsqueeze(0).to(device);  // [1, T]
}

void check_ids(const std::vector<int64_t>& ids, int64_t vocab_size, const char* what) {
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size) {
      throw std::invalid_argument(std::string("attention: ") + what + " id " + std::to_string(id) +
                                  " is outside the vocabulary [0, " + std::to_string(vocab_size) +
                                  ")");
    }
  }
}

// One record of `site` without its batch dimension, as float32 on the CPU.
torch::Tensor first_row(const torch::Tensor& tensor) {
  if (!tensor.defined()) return {};
  return tensor.select(/*dim=*/0, 0).to(torch::kCPU, torch::kFloat32).contiguous();
}

SiteAttention site_from(const AttentionRecorder& recorder,
                        const std::string& site,
                        AttentionType type,
                        int64_t layer) {
  const auto& records = recorder.at(site);
  TORCH_CHECK(
      records.size() == 1, "attention: expected one record of ", site, ", got ", records.size());
  const AttentionRecord& record = records.front();
  SiteAttention out;
  out.site = site;
  out.type = type;
  out.layer = layer;
  out.weights = first_row(record.weights);      // [H, Tq, Tk]
  out.query = first_row(record.q);              // [H, Tq, Dh]
  out.key = first_row(record.k);                // [H, Tk, Dh]
  out.value = first_row(record.v);              // [H, Tk, Dh]
  out.output = first_row(record.head_outputs);  // [H, Tq, Dh]
  return out;
}

void label_tokens(SentenceAttention& sentence, const Tokenizer& tokenizer) {
  auto pieces = [&](const std::vector<int64_t>& ids) {
    std::vector<std::string> out;
    for (int64_t id : ids) out.push_back(tokenizer.id_to_piece(id));
    return out;
  };
  sentence.source_tokens = pieces(sentence.source_ids);
  sentence.target_tokens = pieces(sentence.target_ids);
  sentence.predicted_tokens = pieces(sentence.predicted_ids);
}

// Source ids as Translator reads them: cut to `limit` tokens.
std::vector<int64_t> encode_source(const Tokenizer& tokenizer,
                                   const std::string& text,
                                   int64_t limit) {
  auto ids = tokenizer.encode(text);
  if (static_cast<int64_t>(ids.size()) > limit) ids.resize(static_cast<size_t>(limit));
  if (ids.empty()) {
    throw std::invalid_argument("attention: the sentence '" + text + "' has no tokens");
  }
  return ids;
}

// Search stops a hypothesis without </s> only when it reaches the length limit (tokens, </s>
// included), so a shorter one ended with </s>. The limit is the one Translator searched with.
bool ended_with_eos(int64_t tokens,
                    int64_t source_tokens,
                    int64_t max_positions,
                    const TranslateOptions& options) {
  return tokens <
         max_output_length(source_tokens, max_positions, search_options(options, max_positions));
}

}  // namespace

std::string attention_type_name(AttentionType type) {
  switch (type) {
    case AttentionType::kEncoderSelf:
      return "encoder_self";
    case AttentionType::kDecoderSelf:
      return "decoder_self";
    case AttentionType::kCross:
      return "cross";
  }
  throw std::invalid_argument("attention_type_name: unknown type");
}

const SiteAttention& SentenceAttention::at(const std::string& site) const {
  std::string known;
  for (const auto& entry : sites) {
    if (entry.site == site) return entry;
    known += (known.empty() ? "" : ", ") + entry.site;
  }
  throw std::out_of_range("attention: no site '" + site + "'; sites: [" + known + "]");
}

AttentionRecorder record_teacher_forced(Transformer& model,
                                        const torch::Tensor& src,
                                        const torch::Tensor& tgt_in,
                                        bool keep_projections) {
  torch::NoGradGuard no_grad;
  model->eval();  // no dropout: the maps are those inference computes
  AttentionRecorderOptions options;
  options.keep_projections = keep_projections;
  AttentionRecorder recorder(options);
  {
    AttentionRecordingScope scope(model, recorder);
    model->forward(src, tgt_in);  // [B, T, V], unused: the recorder holds what we want
  }
  return recorder;
}

SentenceAttention collect_attention(Transformer& model,
                                    const TokenPair& tokens,
                                    bool keep_projections) {
  const ModelConfig& config = model->config();
  if (tokens.source.empty()) throw std::invalid_argument("attention: the source has no tokens");
  if (!tokens.target_finished && tokens.target.empty()) {
    throw std::invalid_argument("attention: an unfinished target needs at least one token");
  }
  check_ids(tokens.source, model->vocab_size(), "source");
  check_ids(tokens.target, model->vocab_size(), "target");

  SentenceAttention sentence;
  sentence.finished = tokens.target_finished;
  // 1. The sequences as the model reads them: source + </s>; <s> + target, where position t
  //    predicts token t + 1 (and the last position </s>, when the target ended with it).
  sentence.source_ids = tokens.source;
  sentence.source_ids.push_back(kEosId);
  sentence.target_ids = {kBosId};
  sentence.target_ids.insert(sentence.target_ids.end(), tokens.target.begin(), tokens.target.end());
  sentence.predicted_ids = tokens.target;
  if (tokens.target_finished) {
    sentence.predicted_ids.push_back(kEosId);
  } else {
    sentence.target_ids.pop_back();  // the last token was predicted, never fed
  }
  const auto longest =
      static_cast<int64_t>(std::max(sentence.source_ids.size(), sentence.target_ids.size()));
  if (longest > config.max_positions) {
    throw std::invalid_argument("attention: " + std::to_string(longest) +
                                " tokens do not fit the model's max_positions " +
                                std::to_string(config.max_positions));
  }
  // 2. One teacher-forced pass with the recorder attached.
  const torch::Device device = model->parameters().front().device();
  const AttentionRecorder recorder = record_teacher_forced(model,
                                                           ids_tensor(sentence.source_ids, device),
                                                           ids_tensor(sentence.target_ids, device),
                                                           keep_projections);
  // 3. The sites, in the order of the forward pass.
  sentence.d_model = config.d_model;
  sentence.num_heads = config.num_heads;
  sentence.encoder_layers = config.encoder_layers;
  sentence.decoder_layers = config.decoder_layers;
  sentence.heads_off = model->head_mask();  // the pass above ran with it: those outputs are 0
  for (int64_t l = 0; l < config.encoder_layers; ++l) {
    const std::string prefix = "encoder." + std::to_string(l);
    sentence.sites.push_back(
        site_from(recorder, prefix + ".self_attn", AttentionType::kEncoderSelf, l));
  }
  for (int64_t l = 0; l < config.decoder_layers; ++l) {
    const std::string prefix = "decoder." + std::to_string(l);
    sentence.sites.push_back(
        site_from(recorder, prefix + ".self_attn", AttentionType::kDecoderSelf, l));
    sentence.sites.push_back(site_from(recorder, prefix + ".cross_attn", AttentionType::kCross, l));
  }
  return sentence;
}

SentenceAttention collect_forced_attention(Transformer& model,
                                           const Tokenizer& tokenizer,
                                           const std::string& source,
                                           const std::string& target,
                                           bool keep_projections) {
  const int64_t limit = model->config().max_positions - 1;
  TokenPair tokens;
  tokens.source = encode_source(tokenizer, source, limit);
  tokens.target = tokenizer.encode(target);
  if (static_cast<int64_t>(tokens.target.size()) > limit) {
    tokens.target.resize(static_cast<size_t>(limit));
  }
  SentenceAttention sentence = collect_attention(model, tokens, keep_projections);
  sentence.source_text = source;
  sentence.target_text = target;
  sentence.forced = true;
  label_tokens(sentence, tokenizer);
  return sentence;
}

SentenceAttention collect_decoded_attention(Translator& translator,
                                            const std::string& source,
                                            const TranslateOptions& options,
                                            bool keep_projections) {
  Transformer& model = translator.model();
  const int64_t limit = options.max_source_tokens > 0
                            ? std::min(options.max_source_tokens, translator.max_source_tokens())
                            : translator.max_source_tokens();
  TokenPair tokens;
  tokens.source = encode_source(translator.tokenizer(), source, limit);
  TranslateOptions best_only = options;
  best_only.n_best = 1;
  const Translation best = translator.translate({source}, best_only).front().front();
  tokens.target = best.tokens;
  tokens.target_finished = ended_with_eos(static_cast<int64_t>(best.tokens.size()),
                                          static_cast<int64_t>(tokens.source.size()),
                                          model->config().max_positions,
                                          options);
  SentenceAttention sentence = collect_attention(model, tokens, keep_projections);
  sentence.source_text = source;
  sentence.target_text = best.text;
  sentence.forced = false;
  label_tokens(sentence, translator.tokenizer());
  return sentence;
}

}  // namespace qkv
