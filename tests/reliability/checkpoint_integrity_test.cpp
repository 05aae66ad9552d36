// Checkpoint integrity beyond tests/train/checkpoint/checkpoint_test.cpp: a real (tiny) Transformer
// checkpoint truncated at every point and with bits flipped anywhere either loads with its
// exact content or throws CheckpointError; foreign files of every kind (empty, directory,
// random bytes, zip or pickle that is not a qkv checkpoint, another format version) throw
// CheckpointError naming the file; another architecture or vocabulary is named; a failing write
// (disk full) keeps the previous checkpoint.
#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "data/special_tokens.h"
#include "model/transformer.h"
#include "train/checkpoint/checkpoint.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

ModelConfig tiny_model(int64_t d_model) {
  ModelConfig config;
  config.d_model = d_model;
  config.num_heads = 2;
  config.d_ff = 2 * d_model;
  config.encoder_layers = 1;
  config.decoder_layers = 1;
  config.max_positions = 16;
  return config;
}

// A checkpoint of a tiny Transformer after one Adam step: every field holds real data.
Checkpoint make_checkpoint(Transformer& model, int64_t vocab) {
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto src = torch::randint(4, vocab, {2, 5}, torch::kLong);  // [B, Ts]
  const auto tgt = torch::randint(4, vocab, {2, 4}, torch::kLong);  // [B, Tt]
  model->forward(src, tgt).logsumexp(-1).sum().backward();
  adam.step();
  Checkpoint c;
  c.model = module_state(*model);
  store_optimizer_state(adam, *model, c);
  c.step = 1;
  c.epoch = 0;
  c.batch = 1;
  c.elapsed_seconds = 0.5;
  c.rng_state = at::detail::getDefaultCPUGenerator().get_state();
  c.config_yaml = "model:\n  d_model: 16\n";
  c.tokenizer_crc32 = "12345678";
  c.metrics = {{"bleu", 1.5}};
  return c;
}

std::vector<char> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, const std::vector<char>& bytes, size_t size) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(size));
}

// True when every tensor and scalar of `a` equals that of `b`.
bool same_content(const Checkpoint& a, const Checkpoint& b) {
  if (a.model.size() != b.model.size() || a.optimizer.size() != b.optimizer.size()) return false;
  for (size_t i = 0; i < a.model.size(); ++i) {
    if (a.model[i].first != b.model[i].first || !torch::equal(a.model[i].second, b.model[i].second))
      return false;
  }
  for (size_t i = 0; i < a.optimizer.size(); ++i) {
    if (!torch::equal(a.optimizer[i].second, b.optimizer[i].second)) return false;
  }
  return a.step == b.step && a.batch == b.batch && a.config_yaml == b.config_yaml &&
         a.metrics == b.metrics && a.optimizer_steps == b.optimizer_steps;
}

class CheckpointIntegrity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    torch::set_num_threads(1);
    dir_ = fs::temp_directory_path() / ("qkv_integrity_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    torch::manual_seed(3);
    Transformer model(tiny_model(16), kVocab, kPadId);
    original_ = new Checkpoint(make_checkpoint(model, kVocab));
    save_checkpoint(*original_, dir_ / "good.pt");
    bytes_ = read_file(dir_ / "good.pt");
  }
  static void TearDownTestSuite() {
    delete original_;
    fs::remove_all(dir_);
  }

  // Loads `bytes` written to `name`: "" when it loaded with the original content, "error: ..."
  // for a CheckpointError (which must name the file), "CHANGED" when it loaded different data.
  static std::string outcome(const std::vector<char>& bytes, size_t size, const std::string& name) {
    write_file(dir_ / name, bytes, size);
    try {
      const Checkpoint loaded = load_checkpoint(dir_ / name);
      return same_content(loaded, *original_) ? "" : "CHANGED";
    } catch (const CheckpointError& e) {
      const std::string message = e.what();
      EXPECT_THAT(message, HasSubstr("checkpoint " + (dir_ / name).string() + " "));
      return "error: " + message;
    }
  }

  static constexpr int64_t kVocab = 24;
  static fs::path dir_;
  static Checkpoint* original_;
  static std::vector<char> bytes_;
};
fs::path CheckpointIntegrity::dir_;
Checkpoint* CheckpointIntegrity::original_ = nullptr;
std::vector<char> CheckpointIntegrity::bytes_;

TEST_F(CheckpointIntegrity, EveryTruncationIsRejectedOrLoadsIntact) {
  const size_t size = bytes_.size();
  ASSERT_GT(size, 10000u);
  std::vector<size_t> cuts;
  for (size_t cut = 0; cut < size; cut += size / 200 + 1) cuts.push_back(cut);
  for (size_t back = 1; back <= 200; ++back) cuts.push_back(size - back);  // the zip directory
  int rejected = 0;
  for (const size_t cut : cuts) {
    const std::string result = outcome(bytes_, cut, "cut.pt");
    EXPECT_NE(result, "CHANGED") << "truncated at " << cut << " of " << size;
    rejected += result.rfind("error: ", 0) == 0;
  }
  // Cutting into the payload must be caught (only cuts into the trailing zip records may load).
  EXPECT_GE(rejected, 200);
}

TEST_F(CheckpointIntegrity, BitFlipsAnywhereAreRejectedOrHarmless) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<size_t> position(0, bytes_.size() - 1);
  std::uniform_int_distribution<int> bit(0, 7);
  int corrupted = 0;
  for (int trial = 0; trial < 300; ++trial) {
    auto flipped = bytes_;
    const size_t at = position(rng);
    flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit(rng)));
    const std::string result = outcome(flipped, flipped.size(), "flip.pt");
    EXPECT_NE(result, "CHANGED") << "bit flipped at " << at;
    corrupted += result.find("is corrupted (checksum mismatch)") != std::string::npos;
  }
  // Most of the file is tensor data, where a flip can only be seen by the checksum.
  EXPECT_GT(corrupted, 100);
}

TEST_F(CheckpointIntegrity, ForeignFilesAreNamedErrors) {
  std::mt19937 rng(5);
  for (const size_t size : {size_t{1}, size_t{4}, size_t{22}, size_t{100}, size_t{20000}}) {
    std::vector<char> random(size);
    for (auto& byte : random) byte = static_cast<char>(rng());
    EXPECT_THAT(outcome(random, size, "random.pt"), HasSubstr("truncated or not a qkv checkpoint"))
        << size << " random bytes";
  }
  EXPECT_THAT(outcome({}, 0, "empty.pt"), HasSubstr("truncated or not a qkv checkpoint"));
  // A zip header followed by garbage, and the first half of a real zip glued to random bytes.
  std::vector<char> zip = {'P', 'K', '\x03', '\x04'};
  zip.resize(3000, '\x5a');
  EXPECT_THAT(outcome(zip, zip.size(), "zip.pt"), HasSubstr("truncated or not a qkv checkpoint"));
  auto glued = bytes_;
  for (size_t i = glued.size() / 2; i < glued.size(); ++i) glued[i] = static_cast<char>(rng());
  EXPECT_THAT(outcome(glued, glued.size(), "glued.pt"), HasSubstr("error: "));

  fs::create_directories(dir_ / "folder.pt");
  EXPECT_THROW(load_checkpoint(dir_ / "folder.pt"), CheckpointError);
  EXPECT_THROW(load_checkpoint(dir_ / "missing.pt"), CheckpointError);
}

TEST_F(CheckpointIntegrity, OtherPicklesAreNotQkvCheckpoints) {
  auto pickled = [](const c10::IValue& value) { return torch::pickle_save(value); };
  // torch.save-style files that are not dicts, or dicts without qkv's fields.
  auto tensor = pickled(torch::ones({3}));
  EXPECT_THAT(outcome(tensor, tensor.size(), "tensor.pt"), HasSubstr("not a qkv checkpoint"));
  auto number = pickled(c10::IValue(int64_t{7}));
  EXPECT_THAT(outcome(number, number.size(), "int.pt"), HasSubstr("not a qkv checkpoint"));
  c10::impl::GenericDict plain(c10::StringType::get(), c10::AnyType::get());
  plain.insert("model", int64_t{1});
  auto no_format = pickled(c10::IValue(plain));
  EXPECT_THAT(outcome(no_format, no_format.size(), "noformat.pt"),
              HasSubstr("no 'qkv-checkpoint-1' format tag"));
  // The right tag with a field missing, and with a field of the wrong type.
  c10::impl::GenericDict partial(c10::StringType::get(), c10::AnyType::get());
  partial.insert("format", std::string("qkv-checkpoint-1"));
  partial.insert("step", std::string("seven"));
  auto wrong = pickled(c10::IValue(partial));
  EXPECT_THAT(outcome(wrong, wrong.size(), "fields.pt"), HasSubstr("missing or mistyped fields"));
  // A future format version (an edited tag: unreadable or without the expected tag).
  auto future = bytes_;
  const std::string tag = "qkv-checkpoint-1";
  auto at = std::search(future.begin(), future.end(), tag.begin(), tag.end());
  ASSERT_NE(at, future.end());
  *(at + static_cast<std::ptrdiff_t>(tag.size()) - 1) = '2';
  EXPECT_THAT(outcome(future, future.size(), "future.pt"), HasSubstr("error: "));
}

TEST_F(CheckpointIntegrity, OtherArchitectureOrVocabularyIsNamed) {
  torch::manual_seed(4);
  Transformer wider(tiny_model(32), kVocab, kPadId);
  try {
    load_module_state(*wider, original_->model, "good.pt");
    FAIL() << "a d_model 16 checkpoint loaded into a d_model 32 model";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("good.pt does not match the model: '"));
    EXPECT_THAT(e.what(), HasSubstr("another architecture"));
  }
  Transformer more_words(tiny_model(16), kVocab + 8, kPadId);
  try {
    load_module_state(*more_words, original_->model, "good.pt");
    FAIL() << "a vocabulary 24 checkpoint loaded into a vocabulary 32 model";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("another architecture or vocabulary"));
  }
  ModelConfig deeper_config = tiny_model(16);
  deeper_config.decoder_layers = 2;
  Transformer deeper(deeper_config, kVocab, kPadId);
  EXPECT_THROW(load_module_state(*deeper, original_->model, "good.pt"), CheckpointError);
  Transformer same(tiny_model(16), kVocab, kPadId);
  NamedTensors extra = original_->model;
  extra.emplace_back("decoder.layers.7.weight", torch::zeros({2}));
  try {
    load_module_state(*same, extra, "extra.pt");
    FAIL() << "an unexpected tensor was accepted";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unexpected 'decoder.layers.7.weight'"));
  }
  // Optimizer state that does not belong to the model.
  torch::optim::Adam adam(same->parameters(), torch::optim::AdamOptions(1e-3));
  Checkpoint no_moments = *original_;
  no_moments.optimizer.clear();
  EXPECT_THROW(restore_optimizer_state(adam, *same, no_moments, "nomoments.pt"), CheckpointError);
}

TEST_F(CheckpointIntegrity, FailedWritesKeepThePreviousCheckpoint) {
  save_checkpoint(*original_, dir_ / "keep.pt");
  const std::string other(3 << 20, 'x');
  for (const size_t fail_after : {size_t{0}, size_t{1 << 20}, size_t{(3 << 20) - 1}}) {
    EXPECT_THROW(write_file_atomically_failing_after(dir_ / "keep.pt", other, fail_after),
                 std::runtime_error);
    EXPECT_TRUE(same_content(load_checkpoint(dir_ / "keep.pt"), *original_)) << fail_after;
  }
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos)
        << "temporary file left behind: " << entry.path();
  }
  // A folder that does not exist, and a path below a plain file: the path is named.
  try {
    save_checkpoint(*original_, dir_ / "no" / "such" / "folder" / "x.pt");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot write " + (dir_ / "no").string()));
  }
  EXPECT_THROW(save_checkpoint(*original_, dir_ / "keep.pt" / "x.pt"), std::runtime_error);
}

}  // namespace
}  // namespace qkv
