// The corpus download scripts, scripts/get_multi30k.sh and scripts/get_tatoeba.sh, run against
// file:// mirrors of their upstream repositories that make_corpus_mirror.sh builds from
// ../shared/data (the tests skip where it is missing): what they install equals the shared
// copies byte for byte and `qkv prepare` reads it from there; a wrong checksum, a missing file,
// an unreachable server and an unwritable folder each give one line on stderr, exit status 1
// and no corpus folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "tests/data/test_helpers.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kShared = QKV_SHARED_DATA_DIR;
const fs::path kSource = QKV_SOURCE_DIR;

struct ScriptRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Every file the shared copy's SHA256SUMS lists, and SHA256SUMS itself, is the same in `dir`.
void expect_same_files_as_shared(const fs::path& dir, const std::string& corpus) {
  const std::string sums = test::read_file(kShared / corpus / "SHA256SUMS");
  EXPECT_EQ(test::read_file(dir / "SHA256SUMS"), sums) << "the sums kept in the script";
  std::istringstream lines(sums);
  int files = 0;
  for (std::string hash, name; lines >> hash >> name; ++files) {
    EXPECT_TRUE(test::read_file(dir / name) == test::read_file(kShared / corpus / name)) << name;
  }
  EXPECT_GE(files, 4);
}

class GetCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* corpus : {"multi30k", "tatoeba"}) {
      if (!fs::is_directory(kShared / corpus)) {
        GTEST_SKIP() << (kShared / corpus) << " is missing: no shared copy to build a mirror of";
      }
    }
    const ScriptRun mirror =
        run((kSource / "tests" / "scripts" / "make_corpus_mirror.sh").string() + " " +
            kShared.string() + " " + mirror_.string());
    ASSERT_EQ(mirror.exit_code, 0) << mirror.err;
  }

  // Runs `command` with /bin/sh, capturing stdout and stderr.
  ScriptRun run(const std::string& command) {
    const fs::path out = tmp_ / "stdout", err = tmp_ / "stderr";
    const int status = std::system((command + " >" + out.string() + " 2>" + err.string()).c_str());
    return {
        WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::read_file(out), test::read_file(err)};
  }

  // scripts/get_<corpus>.sh DIR, downloading from `base_url` (default: the corpus's mirror).
  ScriptRun get(const std::string& corpus, const fs::path& dir, const std::string& base_url = "") {
    std::string variable = corpus == "multi30k" ? "QKV_MULTI30K_URL" : "QKV_TATOEBA_URL";
    const std::string url = base_url.empty() ? "file://" + (mirror_ / corpus).string() : base_url;
    return run(variable + "=" + url + " " +
               (kSource / "scripts" / ("get_" + corpus + ".sh")).string() + " " + dir.string());
  }

  // `qkv prepare --corpus <corpus>` with QKV_DATA_DIR=data_dir: exits 0, and the stamp names
  // the files it read, which must be in data_dir.
  void expect_prepare_reads(const std::string& corpus, const fs::path& data_dir) {
    const fs::path out = tmp_ / ("prepared-" + corpus);
    const ScriptRun prepare =
        run("QKV_DATA_DIR=" + data_dir.string() + " QKV_CACHE=" + (tmp_ / "cache").string() + " " +
            QKV_BINARY + " prepare --corpus " + corpus + " --out " + out.string());
    ASSERT_EQ(prepare.exit_code, 0) << prepare.err;
    EXPECT_THAT(test::read_file(out / "prepared.stamp"), HasSubstr(data_dir.string() + "/"));
  }

  // get_<corpus>.sh succeeds quietly, names the licence on stdout and in the README it
  // writes, installs the shared copy's files, and `qkv prepare --corpus <qkv_corpus>` reads them.
  void expect_complete_download(const std::string& corpus,
                                const std::string& licence,
                                const std::string& qkv_corpus) {
    const ScriptRun result = get(corpus, data_);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, "");
    EXPECT_THAT(result.out, HasSubstr(licence));
    expect_same_files_as_shared(data_ / corpus, corpus);
    EXPECT_THAT(test::read_file(data_ / corpus / "README.md"), HasSubstr(licence));
    expect_prepare_reads(qkv_corpus, data_);
  }

  test::TempDir tmp_;
  const fs::path mirror_ = tmp_ / "mirror";
  const fs::path data_ = tmp_ / "data";
};

// Exit status 1, one line on stderr: "<script>: <kind>: ..." naming `detail`.
void expect_one_line_failure(const ScriptRun& result,
                             const std::string& kind,
                             const std::string& detail) {
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_THAT(result.err, AllOf(HasSubstr(": " + kind + ": "), HasSubstr(detail)));
}

// Neither the corpus folder nor a partial one is left in `dir`.
void expect_nothing_installed(const fs::path& dir, const std::string& corpus) {
  EXPECT_FALSE(fs::exists(dir / corpus));
  if (!fs::is_directory(dir)) return;
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(StartsWith("." + corpus)));
  }
}

TEST_F(GetCorpusTest, Multi30kIsTheSharedCopyAndPrepareReadsIt) {
  expect_complete_download("multi30k", "non-commercial", "multi30k-en-de");
}

// The mirror's files carry stray whitespace, a rus_Latn pair and a duplicate pair that the
// script's processing must remove to reproduce the shared files exactly.
TEST_F(GetCorpusTest, TatoebaIsTheSharedCopyAndPrepareReadsIt) {
  expect_complete_download("tatoeba", "CC BY 2.0 FR", "tatoeba-en-ru");
}

TEST_F(GetCorpusTest, AWrongChecksumIsOneLineAndInstallsNothing) {
  const fs::path changed = mirror_ / "multi30k" / "data" / "task1" / "tok" / "val.lc.norm.tok.de";
  test::write_file(changed, test::read_file(changed) + "ein zusätzlicher satz .\n");
  const ScriptRun multi30k = get("multi30k", data_);
  expect_one_line_failure(multi30k, "checksum", "tok/val.lc.norm.tok.de");
  expect_nothing_installed(data_, "multi30k");

  const fs::path russian = mirror_ / "tatoeba" / "datasets" / "helsinki_nlp" / "tatoeba" /
                           "testsets" / "eng-rus" / "tatoeba-test-v2021-08-07.rus";
  std::string text = test::read_file(russian);
  text.replace(text.find('.'), 1, "!");
  test::write_file(russian, text);
  const ScriptRun tatoeba = get("tatoeba", data_);
  expect_one_line_failure(tatoeba, "checksum", "en-ru.ru.gz");
  expect_nothing_installed(data_, "tatoeba");
}

TEST_F(GetCorpusTest, AMissingFileIsOneLineAndInstallsNothing) {
  fs::remove(mirror_ / "multi30k" / "data" / "task1" / "raw" / "test_2017_mscoco.de.gz");
  const ScriptRun result = get("multi30k", data_);
  expect_one_line_failure(result, "missing", "test_2017_mscoco.de.gz");
  expect_nothing_installed(data_, "multi30k");
}

TEST_F(GetCorpusTest, AnUnreachableServerIsANetworkError) {
  // Port 9 (discard) on the loopback: nothing listens there, so curl is refused at once.
  const ScriptRun result = get("tatoeba", data_, "http://127.0.0.1:9");
  expect_one_line_failure(result, "network", "http://127.0.0.1:9/datasets/");
  expect_nothing_installed(data_, "tatoeba");
}

TEST_F(GetCorpusTest, AFolderThatCannotBeWrittenIsADiskError) {
  test::write_file(tmp_ / "a-file", "");
  const ScriptRun result = get("multi30k", tmp_ / "a-file" / "data");
  expect_one_line_failure(result, "disk", (tmp_ / "a-file").string());
  expect_nothing_installed(tmp_.path(), "multi30k");
}

TEST_F(GetCorpusTest, ACompleteFolderIsKeptAndAnotherOneRefused) {
  ASSERT_EQ(get("tatoeba", data_).exit_code, 0);
  fs::remove_all(mirror_ / "tatoeba");  // a second download would fail
  const ScriptRun again = get("tatoeba", data_);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("already complete"));

  test::write_file(data_ / "tatoeba" / "en-de.en", "changed\n");
  const ScriptRun changed = get("tatoeba", data_);
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_THAT(changed.err, HasSubstr("does not match the checksums"));
  EXPECT_EQ(test::read_file(data_ / "tatoeba" / "en-de.en"), "changed\n") << "left as it was";
}

// Without DIR and QKV_DATA_DIR the corpus goes into the qkv cache's data/ folder, which
// `qkv prepare` searches before any ../shared/data.
TEST_F(GetCorpusTest, TheDefaultFolderIsWherePrepareLooks) {
  test::ScopedEnv no_data_dir("QKV_DATA_DIR", std::nullopt);
  test::ScopedEnv cache("QKV_CACHE", (tmp_ / "cache").string());
  const ScriptRun result = get("multi30k", "");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr((tmp_ / "cache" / "data" / "multi30k").string()));
  const ScriptRun prepare =
      run(std::string(QKV_BINARY) + " prepare --corpus multi30k-en-de --out " +
          (tmp_ / "prepared").string());
  ASSERT_EQ(prepare.exit_code, 0) << prepare.err;
  EXPECT_THAT(test::read_file(tmp_ / "prepared" / "prepared.stamp"),
              HasSubstr((tmp_ / "cache" / "data" / "multi30k" / "val.en").string()));
}

}  // namespace
}  // namespace qkv
