// The checks load_checkpoint runs before LibTorch parses a file: train/checkpoint_archive.h
// (zip structure, CRC-32 of every record) and train/checkpoint_pickle.h (data.pkl opcodes,
// stack, memo and storage sizes), plus the tensor-inside-storage check after unpickling.
#include "train/checkpoint_archive.h"

#include <caffe2/serialize/inline_container.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "train/checkpoint.h"
#include "train/checkpoint_pickle.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::string_literals;

std::string pickle(const std::string& body) { return std::string("\x80\x02", 2) + body; }

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

// ("storage", torch.<type>, key, "cpu", numel) BINPERSID, as LibTorch's pickler writes it.
std::string persistent_id(const std::string& type, const std::string& key, char numel) {
  const auto text = [](const std::string& s) {
    return "X" + std::string(1, static_cast<char>(s.size())) + std::string(3, '\0') + s;
  };
  return "(" + text("storage") + "ctorch\n" + type + "\n" + text(key) + text("cpu") + "K" +
         std::string(1, numel) + "tQ";
}

TEST(CheckpointPickle, WellFormedPicklesPass) {
  EXPECT_EQ(check_checkpoint_pickle(pickle("N."), {}), "");
  EXPECT_EQ(check_checkpoint_pickle(pickle("}q\x00(K\x01K\x02u."s), {}), "");  // {1: 2}
  // A storage of 16 floats in a 64-byte record, and an empty one with no record at all.
  EXPECT_EQ(
      check_checkpoint_pickle(pickle(persistent_id("FloatStorage", "0", 16) + "."), {{"0", 64}}),
      "");
  EXPECT_EQ(check_checkpoint_pickle(pickle(persistent_id("FloatStorage", "7", 0) + "."), {}), "");
}

TEST(CheckpointPickle, UnsafeOpcodesAreNamed) {
  const std::map<std::string, uint64_t> none;
  EXPECT_THAT(check_checkpoint_pickle(pickle("R."), none), HasSubstr("stack underflow"));
  EXPECT_THAT(check_checkpoint_pickle(pickle(std::string("X\xff\xff\xff\xff"
                                                         "abc.",
                                                         9)),
                                      none),
              HasSubstr("a length points past the end"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("K\x01r\xff\xff\xff\x7f."), none),
              HasSubstr("memo index out of order"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("K\x01h\x05."), none),
              HasSubstr("memo index out of range"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("t."), none), HasSubstr("no MARK"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("(K\x01" "e."), none),
              HasSubstr("no container below the MARK"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("(K\x01"
                                             "0."),
                                      none),
              HasSubstr("stack underflow"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("K\x01"), none), HasSubstr("no STOP opcode"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("\xff."), none), HasSubstr("unsupported opcode"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("J\x01"), none), HasSubstr("truncated"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("ctorch\nFloat"), none),
              HasSubstr("unterminated text argument"));
}

TEST(CheckpointPickle, StorageSizesMustFitTheirRecords) {
  const std::map<std::string, uint64_t> records = {{"0", 64}};
  EXPECT_THAT(
      check_checkpoint_pickle(pickle(persistent_id("FloatStorage", "0", 17) + "."), records),
      HasSubstr("storage 0 claims 17 elements but its record holds 64 bytes"));
  EXPECT_THAT(
      check_checkpoint_pickle(pickle(persistent_id("DoubleStorage", "0", 9) + "."), records),
      HasSubstr("claims 9 elements"));
  EXPECT_THAT(check_checkpoint_pickle(pickle(persistent_id("FloatStorage", "1", 1) + "."), records),
              HasSubstr("storage 1 has no record"));
  EXPECT_THAT(
      check_checkpoint_pickle(pickle(persistent_id("NoSuchStorage", "0", 1) + "."), records),
      HasSubstr("unknown storage type torch.NoSuchStorage"));
  EXPECT_THAT(check_checkpoint_pickle(pickle("K\x01Q."), records),
              HasSubstr("a persistent id is not a 5-tuple"));
  // The element count as a negative LONG1.
  std::string negative = persistent_id("FloatStorage", "0", 1);
  negative.replace(negative.size() - 4, 2, std::string("\x8a\x01\xff", 3));
  EXPECT_THAT(check_checkpoint_pickle(pickle(negative + "."), records), HasSubstr("negative size"));
  // Values that come back from the memo are still known: "storage" is put, popped, and got.
  std::string memoized = persistent_id("FloatStorage", "0", 17);
  const std::string storage_text = memoized.substr(1, 12);  // X <len> "storage"
  memoized.replace(1, 12, "h\x00"s);
  EXPECT_THAT(
      check_checkpoint_pickle(pickle(storage_text + "q\x00"s + "0" + memoized + "."), records),
      HasSubstr("claims 17 elements"));
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
