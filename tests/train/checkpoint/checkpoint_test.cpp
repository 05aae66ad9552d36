// Checkpoints: round trip, atomic replacement under a failing write, corruption and
// truncation detection, architecture mismatch, and (when python3-torch is installed) that
// Python's torch.load reads the file.
#include "train/checkpoint/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/train/checkpoint/tiny_checkpoint.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using test::TinyNet;
using CheckpointTest = test::CheckpointFolderTest;

TEST_F(CheckpointTest, RoundTripRestoresEveryField) {
  torch::manual_seed(0);
  TinyNet net(4);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  const Checkpoint saved = make_checkpoint(net, adam);
  save_checkpoint(saved, dir_ / "a.pt");
  const Checkpoint loaded = load_checkpoint(dir_ / "a.pt");
  EXPECT_EQ(loaded.step, 17);
  EXPECT_EQ(loaded.epoch, 2);
  EXPECT_EQ(loaded.batch, 5);
  EXPECT_DOUBLE_EQ(loaded.elapsed_seconds, 12.5);
  EXPECT_EQ(loaded.config_yaml, saved.config_yaml);
  EXPECT_EQ(loaded.tokenizer_crc32, "0badc0de");
  EXPECT_EQ(loaded.metrics, saved.metrics);
  EXPECT_EQ(loaded.bad_validations, 1);
  EXPECT_TRUE(torch::equal(loaded.rng_state, saved.rng_state));

  TinyNet other(4);
  torch::optim::Adam other_adam(other.parameters(), torch::optim::AdamOptions(1e-2));
  load_module_state(other, loaded.model, "a.pt");
  restore_optimizer_state(other_adam, other, loaded, "a.pt");
  for (const auto& [name, tensor] : module_state(net)) {
    EXPECT_TRUE(torch::equal(tensor, other.named_parameters()[name])) << name;
  }
  // The next Adam step is identical from the original and from the restored state.
  const auto x = torch::randn({4, 3});
  for (auto* pair : {&net, &other}) pair->zero_grad();
  net.forward(x).pow(2).sum().backward();
  other.forward(x).pow(2).sum().backward();
  adam.step();
  other_adam.step();
  EXPECT_TRUE(torch::equal(net.proj->weight, other.proj->weight));
}

TEST_F(CheckpointTest, FailedWriteLeavesThePreviousCheckpointLoadable) {
  torch::manual_seed(1);
  TinyNet net(4);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  const Checkpoint first = make_checkpoint(net, adam);
  save_checkpoint(first, dir_ / "last.pt");
  const std::string other(5 << 20, 'x');
  EXPECT_THROW(write_file_atomically_failing_after(dir_ / "last.pt", other, 3 << 20),
               std::runtime_error);
  EXPECT_EQ(load_checkpoint(dir_ / "last.pt").step, 17);
  // No temporary file is left behind.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(CheckpointTest, CorruptionAndTruncationAreNamed) {
  torch::manual_seed(2);
  TinyNet net(64);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  save_checkpoint(make_checkpoint(net, adam), dir_ / "c.pt");
  std::ifstream in(dir_ / "c.pt", std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 2000u);
  // Truncated at several points inside the payload. (Cutting only into the zip's closing
  // directory record can still load, and then the checksum proves the payload is intact.)
  for (size_t keep : {size_t{0}, size_t{10}, bytes.size() / 3, 2 * bytes.size() / 3}) {
    std::ofstream(dir_ / "t.pt", std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(keep));
    try {
      load_checkpoint(dir_ / "t.pt");
      ADD_FAILURE() << "truncated at " << keep << " loaded";
    } catch (const CheckpointError& e) {
      EXPECT_THAT(e.what(), HasSubstr("t.pt is "));
    }
  }
  // One flipped bit inside tensor data.
  auto flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  std::ofstream(dir_ / "f.pt", std::ios::binary)
      .write(flipped.data(), static_cast<std::streamsize>(flipped.size()));
  try {
    load_checkpoint(dir_ / "f.pt");
    ADD_FAILURE() << "flipped bit loaded";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("f.pt is corrupted"));
  }
  // A random file renamed to .pt, and a missing one.
  std::ofstream(dir_ / "r.pt") << "not a checkpoint at all\n";
  EXPECT_THROW(load_checkpoint(dir_ / "r.pt"), CheckpointError);
  EXPECT_THROW(load_checkpoint(dir_ / "missing.pt"), CheckpointError);
}

TEST_F(CheckpointTest, OtherArchitectureIsRejectedWithTheParameterName) {
  TinyNet net(4);
  TinyNet wider(8);
  try {
    load_module_state(wider, module_state(net), "small.pt");
    FAIL() << "no error";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("small.pt does not match the model: 'proj.weight'"));
  }
}

// A checkpoint written before the restructure (the fuzz seed small.pt, with LibTorch's type
// tags) still verifies, which pins the checksum's CRC-32 and its hex form. Saved again it holds
// the same payload without the tags (the form torch.load(weights_only=True) accepts), and
// saving is deterministic.
TEST_F(CheckpointTest, OldCheckpointsLoadAndSaveAgainWithoutTypeTags) {
  const fs::path old = fs::path(QKV_SOURCE_DIR) / "tests/fuzz/corpus/checkpoint/small.pt";
  const Checkpoint loaded = load_checkpoint(old);
  save_checkpoint(loaded, dir_ / "again.pt");
  save_checkpoint(load_checkpoint(dir_ / "again.pt"), dir_ / "twice.pt");
  const auto bytes_of = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  EXPECT_THAT(bytes_of(old), HasSubstr("restore_type_tag"));
  EXPECT_THAT(bytes_of(dir_ / "again.pt"), Not(HasSubstr("restore_type_tag")));
  EXPECT_EQ(bytes_of(dir_ / "again.pt"), bytes_of(dir_ / "twice.pt"));
  const Checkpoint again = load_checkpoint(dir_ / "again.pt");
  EXPECT_EQ(again.step, loaded.step);
  EXPECT_EQ(again.config_yaml, loaded.config_yaml);
  EXPECT_EQ(again.metrics, loaded.metrics);
  ASSERT_EQ(again.model.size(), loaded.model.size());
  for (size_t i = 0; i < again.model.size(); ++i) {
    EXPECT_EQ(again.model[i].first, loaded.model[i].first);
    EXPECT_TRUE(torch::equal(again.model[i].second, loaded.model[i].second));
  }
}

TEST_F(CheckpointTest, PythonTorchLoadReadsIt) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-torch is not installed";
  }
  torch::manual_seed(3);
  TinyNet net(4);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-2));
  save_checkpoint(make_checkpoint(net, adam), dir_ / "p.pt");
  const std::string script =
      "import torch, sys; c = torch.load(sys.argv[1], weights_only=True); "
      "assert c['format'] == 'qkv-checkpoint-1'; assert c['step'] == 17; "
      "assert tuple(c['model']['proj.weight'].shape) == (4, 3); "
      "assert abs(c['metrics']['bleu'] - 3.25) < 1e-12";
  const std::string command = "/usr/bin/python3 -c \"" + script + "\" " + (dir_ / "p.pt").string();
  EXPECT_EQ(std::system(command.c_str()), 0);
}

}  // namespace
}  // namespace qkv
