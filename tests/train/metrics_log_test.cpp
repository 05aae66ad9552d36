// metrics.jsonl: records written and read back, and resuming after a kill, which keeps the
// lines up to the resumed step and drops later ones and a torn last line.
#include "train/metrics_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class MetricsLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qkv_metrics_log_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = dir_ / "metrics.jsonl";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& bytes) const { std::ofstream(path_, std::ios::binary) << bytes; }
  std::string content() const {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  fs::path dir_;
  fs::path path_;
};

TEST_F(MetricsLogTest, AppendedRecordsReadBack) {
  {
    MetricsLog log(path_, 0);
    log.append({"train", 10, {{"loss", 2.5}, {"lr", 0.001}}});
    log.append({"valid", 10, {{"valid_loss", 2.25}, {"bleu", 12.0}}});
  }
  EXPECT_EQ(content(),
            "{\"type\":\"train\",\"step\":10,\"loss\":2.5,\"lr\":0.001}\n"
            "{\"type\":\"valid\",\"step\":10,\"bleu\":12.0,\"valid_loss\":2.25}\n");
  const std::vector<MetricsRecord> records = MetricsLog::read(path_);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].type, "train");
  EXPECT_EQ(records[0].step, 10);
  EXPECT_EQ(records[0].values, (std::map<std::string, double>{{"loss", 2.5}, {"lr", 0.001}}));
  EXPECT_EQ(records[1].type, "valid");
  EXPECT_EQ(records[1].values.at("bleu"), 12.0);
}

TEST_F(MetricsLogTest, ResumingDropsLaterStepsAndATornLine) {
  write(
      "{\"type\":\"train\",\"step\":1,\"loss\":3}\n"
      "\n"
      "{\"type\":\"train\",\"step\":2,\"loss\":2}\n"
      "{\"type\":\"train\",\"step\":3,\"loss\":1}\n"
      "{\"type\":\"train\",\"st\xC3");  // killed mid-write, in the middle of a character too
  {
    MetricsLog log(path_, 2);
    log.append({"train", 3, {{"loss", 1.5}}});
  }
  EXPECT_EQ(content(),
            "{\"type\":\"train\",\"step\":1,\"loss\":3}\n"
            "{\"type\":\"train\",\"step\":2,\"loss\":2}\n"
            "{\"type\":\"train\",\"step\":3,\"loss\":1.5}\n");
  // No temporary file of the rewrite is left beside the log.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(MetricsLogTest, ReadSkipsEmptyLinesAndNamesABadLine) {
  write("{\"type\":\"train\",\"step\":1,\"loss\":3}\r\n\n[1, 2]\n");
  try {
    MetricsLog::read(path_);
    FAIL() << "a line that is not a JSON object must be an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path_.string() + ":3: not a JSON object"));
  }
  write("{\"type\":\"train\",\"step\":1,\"loss\":3}\r\n\n");
  EXPECT_EQ(MetricsLog::read(path_).size(), 1U);
}

TEST_F(MetricsLogTest, ReadingAMissingLogNamesIt) {
  try {
    MetricsLog::read(dir_ / "none.jsonl");
    FAIL() << "a missing file must be an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("none.jsonl"));
  }
}

}  // namespace
}  // namespace qkv
