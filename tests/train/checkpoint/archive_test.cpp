// The checks load_checkpoint runs before LibTorch parses a file: train/checkpoint/archive.h
// (zip structure, CRC-32 of every record, then the data.pkl check of pickle.h, tested in
// pickle_test.cpp), plus the tensor-inside-storage check after unpickling.
#include "train/checkpoint/archive.h"

#include <caffe2/serialize/inline_container.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "tests/train/checkpoint/pickle_bytes.h"
#include "train/checkpoint/checkpoint.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::string_literals;
using test::persistent_id;
using test::pickle;

// A torch.save-style archive with the given data.pkl (none for nullopt) and storage records.
std::string archive(const std::optional<std::string>& data_pkl,
                    const std::map<std::string, size_t>& storages) {
  std::string bytes;
  caffe2::serialize::PyTorchStreamWriter writer([&bytes](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  if (data_pkl) writer.writeRecord("data.pkl", data_pkl->data(), data_pkl->size());
  for (const auto& [key, size] : storages) {
    const std::string content(size, '\x01');
    writer.writeRecord("data/" + key, content.data(), content.size());
  }
  writer.writeEndOfFile();
  return bytes;
}

TEST(CheckpointArchive, ASavedCheckpointPassesAndDamageIsClassified) {
  Checkpoint c;
  c.model = {{"w", torch::arange(12, torch::kFloat).reshape({3, 4})}};
  c.config_yaml = "model: {}\n";
  const fs::path path = fs::temp_directory_path() / ("qkv_archive_" + std::to_string(::getpid()));
  save_checkpoint(c, path);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(path);
  EXPECT_EQ(check_checkpoint_archive(bytes).status, ArchiveStatus::kOk)
      << check_checkpoint_archive(bytes).detail;

  // One bit of the tensor data (the record holding 0.0, 1.0, 2.0, ... as floats).
  std::string flipped = bytes;
  const std::string two_floats("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // 1.0f, 2.0f
  const size_t at = flipped.find(two_floats);
  ASSERT_NE(at, std::string::npos);
  flipped[at + 2] = static_cast<char>(flipped[at + 2] ^ 0x01);
  const ArchiveCheck damaged = check_checkpoint_archive(flipped);
  EXPECT_EQ(damaged.status, ArchiveStatus::kCorrupted);
  EXPECT_THAT(damaged.detail, HasSubstr("CRC-32 mismatch"));

  for (const size_t keep : {size_t{0}, size_t{30}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_EQ(check_checkpoint_archive(bytes.substr(0, keep)).status, ArchiveStatus::kMalformed)
        << keep;
  }
}

TEST(CheckpointArchive, ArchivesWithoutAPickleOrWithAnOversizedStorageAreMalformed) {
  const ArchiveCheck no_pickle = check_checkpoint_archive(archive(std::nullopt, {{"0", 8}}));
  EXPECT_EQ(no_pickle.status, ArchiveStatus::kMalformed);
  EXPECT_EQ(no_pickle.detail, "no data.pkl record");
  EXPECT_EQ(check_checkpoint_archive(archive(std::string(), {})).detail,
            "data.pkl: no STOP opcode");
  EXPECT_EQ(check_checkpoint_archive(archive(pickle("N."), {})).status, ArchiveStatus::kOk);
  const ArchiveCheck oversized = check_checkpoint_archive(
      archive(pickle(persistent_id("FloatStorage", "0", 100) + "."), {{"0", 64}}));
  EXPECT_EQ(oversized.status, ArchiveStatus::kMalformed);
  EXPECT_THAT(oversized.detail, HasSubstr("data.pkl: storage 0 claims 100 elements"));
}

TEST(CheckpointArchive, TensorsOutsideTheirStorageAreRejectedAfterUnpickling) {
  // A tensor whose sizes promise more than its storage holds, pickled as such.
  auto small = torch::zeros({4});
  small.unsafeGetTensorImpl()->set_sizes_contiguous({100});
  Checkpoint c;
  c.model = {{"w", torch::zeros({2})}};
  const fs::path path = fs::temp_directory_path() / ("qkv_outside_" + std::to_string(::getpid()));
  save_checkpoint(c, path);
  // Re-pickle the same dict with the bad tensor in place of "w".
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto root = torch::pickle_load(bytes).toGenericDict();
  c10::impl::GenericDict model(c10::StringType::get(), c10::TensorType::get());
  model.insert("w", small);
  root.insert_or_assign("model", model);
  const auto repickled = torch::pickle_save(c10::IValue(root));
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(repickled.data(), static_cast<std::streamsize>(repickled.size()));
  try {
    load_checkpoint(path);
    ADD_FAILURE() << "a tensor outside its storage loaded";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("tensor 'w' lies outside its storage"));
  }
  fs::remove(path);
}

}  // namespace
}  // namespace qkv
