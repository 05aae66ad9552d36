// Subword tokenizer: a SentencePiece model (unigram or BPE) trained jointly on source and
// target text, with fixed special ids (data/special_tokens.h). The model is one file, saved in
// the run directory, so translation needs nothing else. SentencePiece stays behind a pimpl:
// no qkv header includes it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qkv {

struct TokenizerOptions {
  std::string model_type = "unigram";  // unigram | bpe
  int64_t vocab_size = 8000;           // pieces including pad/unk/bos/eos; at least 8
  double character_coverage = 1.0;     // share of characters covered, SentencePiece's [0.98, 1]
  uint32_t seed = 1;                   // SentencePiece's random generator seed
};

class Tokenizer {
 public:
  /// Trains a model on `sentences` (source and target lines together for a joint vocabulary)
  /// and writes it atomically to `model_path`. Deterministic for the same sentences and
  /// options (single-threaded training, fixed seed). Throws std::invalid_argument for bad
  /// options and std::runtime_error with SentencePiece's reason when training fails (e.g.
  /// "Vocabulary size too high (9000). Please set it to a value <= 5621.").
  static Tokenizer train(const std::vector<std::string>& sentences,
                         const TokenizerOptions& options,
                         const std::filesystem::path& model_path);

  /// Loads a model file. Throws std::runtime_error when it is missing or unreadable, or when
  /// its special ids differ from pad=0 unk=1 bos=2 eos=3.
  static Tokenizer load(const std::filesystem::path& model_path);

  /// Loads a model from the bytes of its file (what rank 0 of a data-parallel run sends the
  /// others); `name` stands for the file in errors, which are those of load().
  static Tokenizer from_bytes(const std::string& bytes, const std::string& name);

  /// The model as from_bytes() reads it (SentencePiece's serialized proto).
  std::string serialized() const;

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  /// Token ids of `text`, without bos/eos. SentencePiece first applies NFKC normalisation.
  std::vector<int64_t> encode(std::string_view text) const;

  /// Detokenised text of `ids`; pad, bos and eos are skipped. Throws std::out_of_range for an
  /// id outside [0, vocab_size()).
  std::string decode(const std::vector<int64_t>& ids) const;

  /// The pieces of `text` (e.g. "▁Haus"), one per id of encode(text): labels for attention maps.
  std::vector<std::string> pieces(std::string_view text) const;

  /// The piece of one id ("<pad>", "<unk>", "<s>", "</s>" for the special ids). Throws
  /// std::out_of_range for an id outside [0, vocab_size()).
  std::string id_to_piece(int64_t id) const;

  /// Number of pieces, special ones included.
  int64_t vocab_size() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qkv
