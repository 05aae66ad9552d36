// NPY writer and reader: header layout, round trip, and errors on files that are not NPY.
#include "app/export/npy.h"

#include <gtest/gtest.h>

#include <fstream>

namespace qkv {
namespace {

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "qkv_npy_test";
  std::filesystem::create_directories(dir);
  return dir / name;
}

TEST(Npy, HeaderIsVersion1AlignedTo64AndNamesFloat32LittleEndian) {
  const std::string bytes = npy_bytes(torch::zeros({2, 3}));
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), std::string("\x93NUMPY", 6));
  EXPECT_EQ(bytes[6], 1);
  EXPECT_EQ(bytes[7], 0);
  const size_t header_size = static_cast<unsigned char>(bytes[8]) |
                             (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  EXPECT_EQ((10 + header_size) % 64, 0u);
  const std::string header = bytes.substr(10, header_size);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos) << header;
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.size(), 10 + header_size + 6 * 4);
}

TEST(Npy, OneDimensionalShapeIsAOneTuple) {
  const std::string bytes = npy_bytes(torch::zeros({5}));
  EXPECT_NE(bytes.find("'shape': (5,)"), std::string::npos);
}

TEST(Npy, RoundTripKeepsShapeAndValues) {
  torch::manual_seed(3);
  const auto original = torch::randn({4, 7, 5});
  const auto path = temp_path("round_trip.npy");
  write_npy(path, original);
  const NpyArray array = read_npy(path);
  EXPECT_EQ(array.dtype, "<f4");
  EXPECT_FALSE(array.fortran_order);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{4, 7, 5}));
  EXPECT_TRUE(torch::equal(to_tensor(array), original));
}

TEST(Npy, ConvertsOtherDtypesAndNonContiguousTensorsToFloat32COrder) {
  const auto doubles = torch::arange(6, torch::kFloat64).reshape({2, 3}).t();  // [3, 2] strided
  const auto path = temp_path("converted.npy");
  write_npy(path, doubles);
  const auto back = to_tensor(read_npy(path));
  EXPECT_EQ(back.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(torch::equal(back, doubles.to(torch::kFloat32)));
}

TEST(Npy, ReaderRejectsFilesThatAreNotNpy) {
  const auto path = temp_path("not.npy");
  std::ofstream(path) << "hello, world";
  EXPECT_THROW(
      {
        try {
          read_npy(path);
        } catch (const std::runtime_error& error) {
          EXPECT_NE(std::string(error.what()).find("not an NPY file"), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
}

TEST(Npy, ReaderRejectsTruncatedData) {
  std::string bytes = npy_bytes(torch::ones({3, 3}));
  bytes.resize(bytes.size() - 4);
  const auto path = temp_path("truncated.npy");
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_THROW(read_npy(path), std::runtime_error);
}

}  // namespace
}  // namespace qkv
