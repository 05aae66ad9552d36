#include "data/corpus_paths.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

using test::ScopedEnv;
using test::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(CacheRoot, FollowsQkvCacheThenXdgThenHome) {
  ScopedEnv qkv_cache("QKV_CACHE", "/tmp/qkv-cache");
  ScopedEnv xdg("XDG_CACHE_HOME", "/tmp/xdg");
  ScopedEnv home("HOME", "/home/someone");
  EXPECT_EQ(cache_root(), std::filesystem::path("/tmp/qkv-cache"));
  EXPECT_EQ(default_prepared_dir("ding-en-de"),
            std::filesystem::path("/tmp/qkv-cache/corpora/ding-en-de"));
  {
    ScopedEnv no_qkv_cache("QKV_CACHE", std::nullopt);
    EXPECT_EQ(cache_root(), std::filesystem::path("/tmp/xdg/qkv"));
    ScopedEnv no_xdg("XDG_CACHE_HOME", std::nullopt);
    EXPECT_EQ(cache_root(), std::filesystem::path("/home/someone/.cache/qkv"));
    ScopedEnv no_home("HOME", std::nullopt);
    EXPECT_THROW(cache_root(), std::runtime_error);
  }
}

TEST(FindRawDir, ConfiguredFolderWinsAndMustExist) {
  TempDir dir;
  EXPECT_EQ(find_raw_dir(dir.path().string(), "multi30k", "val.en", "hint"), dir.path());
  EXPECT_THROW(find_raw_dir((dir / "missing").string(), "multi30k", "val.en", "hint"),
               std::runtime_error);
}

TEST(FindRawDir, SearchesQkvDataDirForTheMarkerFile) {
  TempDir dir;
  std::filesystem::create_directories(dir / "tatoeba");
  test::write_gzip(dir / "tatoeba" / "en-ru.en.gz", "Hi.\n");
  ScopedEnv data_dir("QKV_DATA_DIR", dir.path().string());
  EXPECT_EQ(find_raw_dir("", "tatoeba", "en-ru.en", "hint"), dir / "tatoeba");
}

TEST(FindRawDir, NotFoundListsPlacesAndHint) {
  TempDir dir;
  ScopedEnv data_dir("QKV_DATA_DIR", dir.path().string());
  ScopedEnv cache("QKV_CACHE", (dir / "cache").string());
  try {
    find_raw_dir("", "no-such-corpus", "marker.txt", "run scripts/get_it.sh");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(),
                AllOf(HasSubstr((dir / "no-such-corpus").string()),
                      HasSubstr((dir / "cache" / "data" / "no-such-corpus").string()),
                      HasSubstr("run scripts/get_it.sh"),
                      HasSubstr("data.raw_dir")));
  }
}

// Run from the source tree, ./.. is the source tree's parent; with QKV_DATA_DIR = the cache's
// data folder, the first two candidates are the same folder too. Each is listed once.
TEST(FindRawDir, NoFolderIsListedTwice) {
  TempDir dir;
  ScopedEnv cache("QKV_CACHE", dir.path().string());
  ScopedEnv data_dir("QKV_DATA_DIR", (dir / "data").string() + "/");
  const std::filesystem::path old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(QKV_SOURCE_DIR);
  const auto candidates = raw_dir_candidates("no-such-corpus");
  std::string message;
  try {
    find_raw_dir("", "no-such-corpus", "marker.txt", "hint");
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  std::filesystem::current_path(old_cwd);

  const std::filesystem::path shared =
      std::filesystem::path(QKV_SOURCE_DIR).parent_path() / "shared" / "data" / "no-such-corpus";
  EXPECT_EQ(candidates,
            (std::vector<std::filesystem::path>{
                dir / "data" / "no-such-corpus",
                shared.lexically_normal(),
                (std::filesystem::path(QKV_SOURCE_DIR) / "shared" / "data" / "no-such-corpus")
                    .lexically_normal()}));
  const std::string listed = shared.lexically_normal().string() + ",";
  ASSERT_NE(message.find(listed), std::string::npos) << message;
  EXPECT_EQ(message.find(listed, message.find(listed) + 1), std::string::npos) << message;
}

TEST(PlainOrGzip, PrefersThePlainFile) {
  TempDir dir;
  test::write_gzip(dir / "a.en.gz", "x\n");
  EXPECT_EQ(plain_or_gzip(dir.path(), "a.en"), dir / "a.en.gz");
  test::write_file(dir / "a.en", "x\n");
  EXPECT_EQ(plain_or_gzip(dir.path(), "a.en"), dir / "a.en");
  EXPECT_THROW(plain_or_gzip(dir.path(), "b.en"), std::runtime_error);
}

}  // namespace
}  // namespace qkv
