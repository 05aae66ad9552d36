// SentencePiece behind the Tokenizer pimpl. Training reads sentences from memory through a
// SentenceIterator and returns the serialized model, which we write ourselves (atomically)
// instead of letting SentencePiece write <prefix>.model and <prefix>.vocab.
#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "data/io/atomic_file.h"
#include "data/special_tokens.h"

namespace qkv {

struct Tokenizer::Impl {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

constexpr int64_t kMinVocabSize = 8;  // the 4 special pieces plus a few real ones

// Feeds an in-memory list of sentences to the SentencePiece trainer.
class VectorSentenceIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorSentenceIterator(const std::vector<std::string>& sentences)
      : sentences_(sentences) {}
  bool done() const override { return index_ >= sentences_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return sentences_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& sentences_;
  std::size_t index_ = 0;
};

void check_options(const TokenizerOptions& options) {
  if (options.model_type != "unigram" && options.model_type != "bpe") {
    throw std::invalid_argument("tokenizer model type must be unigram or bpe, got '" +
                                options.model_type + "'");
  }
  if (options.vocab_size < kMinVocabSize) {
    throw std::invalid_argument("tokenizer vocab size must be at least " +
                                std::to_string(kMinVocabSize) + ", got " +
                                std::to_string(options.vocab_size));
  }
  if (!(options.character_coverage >= 0.98 && options.character_coverage <= 1.0)) {
    throw std::invalid_argument("tokenizer character coverage must lie in [0.98, 1], got " +
                                std::to_string(options.character_coverage));
  }
}

std::string number(double value) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << value;
  return out.str();
}

// SentencePiece's failed checks read "src/x.cc(660) [(a) == (b)] Vocabulary size too high...":
// keep the sentence for people, drop the source location and the check expression.
std::string readable(const sentencepiece::util::Status& status) {
  std::string message = status.message();
  const std::size_t check_end = message.find("] ");
  if (message.rfind("src/", 0) == 0 && check_end != std::string::npos) {
    message.erase(0, check_end + 2);
  }
  return message;
}

// Fails unless `processor` uses qkv's special ids.
void check_special_ids(const sentencepiece::SentencePieceProcessor& processor,
                       const std::filesystem::path& model_path) {
  if (processor.pad_id() != kPadId || processor.unk_id() != kUnkId ||
      processor.bos_id() != kBosId || processor.eos_id() != kEosId) {
    throw std::runtime_error(
        model_path.string() + ": special ids pad=" + std::to_string(processor.pad_id()) + " unk=" +
        std::to_string(processor.unk_id()) + " bos=" + std::to_string(processor.bos_id()) +
        " eos=" + std::to_string(processor.eos_id()) +
        " differ from qkv's pad=0 unk=1 bos=2 eos=3; train the tokenizer with qkv");
  }
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::train(const std::vector<std::string>& sentences,
                           const TokenizerOptions& options,
                           const std::filesystem::path& model_path) {
  check_options(options);
  if (sentences.empty()) throw std::invalid_argument("cannot train a tokenizer on no sentences");
  const std::unordered_map<std::string, std::string> arguments = {
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", number(options.character_coverage)},
      {"pad_id", std::to_string(kPadId)},
      {"unk_id", std::to_string(kUnkId)},
      {"bos_id", std::to_string(kBosId)},
      {"eos_id", std::to_string(kEosId)},
      {"num_threads", "1"},          // multi-threaded EM sums floats in a varying order
      {"input_sentence_size", "0"},  // use every sentence: no random sampling
      {"minloglevel", "2"},          // SentencePiece's own INFO/WARNING lines would drown ours
  };
  sentencepiece::SetRandomGeneratorSeed(options.seed);
  VectorSentenceIterator iterator(sentences);
  std::string serialized_model;
  const auto status =
      sentencepiece::SentencePieceTrainer::Train(arguments, &iterator, &serialized_model);
  if (!status.ok()) {
    throw std::runtime_error("SentencePiece training failed: " + readable(status) +
                             " (vocab_size " + std::to_string(options.vocab_size) + ", " +
                             std::to_string(sentences.size()) + " sentences)");
  }
  write_file_atomically(model_path, serialized_model);
  auto impl = std::make_unique<Impl>();
  const auto load_status = impl->processor.LoadFromSerializedProto(serialized_model);
  if (!load_status.ok()) {
    throw std::runtime_error("SentencePiece could not load the model it trained: " +
                             std::string(load_status.message()));
  }
  check_special_ids(impl->processor, model_path);
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::load(const std::filesystem::path& model_path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(model_path, error)) {
    throw std::runtime_error(model_path.string() + ": no such tokenizer model file");
  }
  auto impl = std::make_unique<Impl>();
  const auto status = impl->processor.Load(model_path.string());
  if (!status.ok()) {
    throw std::runtime_error(model_path.string() + ": not a SentencePiece model (" +
                             std::string(status.message()) + ")");
  }
  check_special_ids(impl->processor, model_path);
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_bytes(const std::string& bytes, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  const auto status = impl->processor.LoadFromSerializedProto(bytes);
  if (!status.ok()) {
    throw std::runtime_error(name + ": not a SentencePiece model (" +
                             std::string(status.message()) + ")");
  }
  check_special_ids(impl->processor, name);
  return Tokenizer(std::move(impl));
}

std::string Tokenizer::serialized() const { return impl_->processor.serialized_model_proto(); }

std::vector<int64_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = impl_->processor.Encode(text, &ids);
  if (!status.ok()) throw std::runtime_error("SentencePiece encode: " + status.ToString());
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (const int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                              std::to_string(vocab_size()) + ")");
    }
    if (id != kPadId && id != kBosId && id != kEosId) kept.push_back(static_cast<int>(id));
  }
  std::string text;
  const auto status = impl_->processor.Decode(kept, &text);
  if (!status.ok()) throw std::runtime_error("SentencePiece decode: " + status.ToString());
  return text;
}

std::vector<std::string> Tokenizer::pieces(std::string_view text) const {
  std::vector<std::string> result;
  const auto status = impl_->processor.Encode(text, &result);
  if (!status.ok()) throw std::runtime_error("SentencePiece encode: " + status.ToString());
  return result;
}

std::string Tokenizer::id_to_piece(int64_t id) const {
  if (id < 0 || id >= vocab_size()) {
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                            std::to_string(vocab_size()) + ")");
  }
  return impl_->processor.IdToPiece(static_cast<int>(id));
}

int64_t Tokenizer::vocab_size() const { return impl_->processor.GetPieceSize(); }

}  // namespace qkv
