// Crash safety of `qkv train`, run as a child process (the qkv binary) on the fixture corpus:
//   1. SIGKILL at random moments (seeded): during setup, mid-step, mid-validation and
//      mid-checkpoint-write. After every kill the latest step checkpoint (and best.pt) loads,
//      the checkpoint step never goes back, `--resume` continues from it to the end, and the
//      temporary files of interrupted writes are cleaned up.
//   2. SIGINT saves a checkpoint and exits 0 within a few seconds; `--resume` continues it.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/run_dir.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

const std::string kFixtures = QKV_FIXTURES_DIR;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A `qkv` child process with stdout and stderr in files.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
    // Everything the child needs is prepared before fork(): after it, only exec-safe calls.
    std::vector<std::string> strings = {QKV_BINARY};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out_fd, STDOUT_FILENO);
      ::dup2(err_fd, STDERR_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
  }
  ~Child() {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// The wait status once the child has ended, else nullopt.
  std::optional<int> poll() {
    if (!status_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    }
    return status_;
  }
  int wait() {
    if (!status_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      status_ = status;
    }
    return *status_;
  }
  /// Waits at most `limit` for the end; nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::duration<double> limit) {
    const auto end = Clock::now() + limit;
    while (!poll() && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return poll();
  }
  void signal(int number) const { ::kill(pid_, number); }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

class CrashSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qkv_crash_safety_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path run_dir() const { return dir_ / "run"; }

  // Arguments of a tiny training run on the fixture corpus that checkpoints every 2 steps.
  std::vector<std::string> train_args(bool resume, const std::vector<std::string>& extra) const {
    std::vector<std::string> args = {"train", "--run-dir", run_dir().string()};
    if (resume) {
      args.push_back("--resume");
    } else {
      args.insert(args.end(), {"--config", QKV_SOURCE_DIR "/configs/en-de-tiny.yaml"});
    }
    // A resumed run keeps the data section of its saved config.
    const std::vector<std::string> data = {"data.corpus=files",
                                           "data.train_source=" + kFixtures + "/data/small.en",
                                           "data.train_target=" + kFixtures + "/data/small.de",
                                           "data.valid_source=" + kFixtures + "/data/small.en",
                                           "data.valid_target=" + kFixtures + "/data/small.de",
                                           "data.prepared_dir=" + (dir_ / "prepared").string(),
                                           "data.vocab_size=100"};
    if (!resume) {
      for (const auto& set : data) args.insert(args.end(), {"--set", set});
    }
    for (const char* set :
         {"train.warmup_steps=2", "train.log_every=1", "train.valid_max_sentences=2"}) {
      args.insert(args.end(), {"--set", set});
    }
    for (const auto& set : extra) args.insert(args.end(), {"--set", set});
    return args;
  }

  // The step of the latest step checkpoint, after checking that it and best.pt load.
  std::optional<int64_t> latest_loadable_step() const {
    const RunDir run(run_dir());
    const auto latest = run.latest_checkpoint();
    if (!latest) return std::nullopt;
    Checkpoint checkpoint;
    EXPECT_NO_THROW(checkpoint = load_checkpoint(*latest)) << *latest;
    if (fs::exists(run.best_checkpoint())) {
      EXPECT_NO_THROW(load_checkpoint(run.best_checkpoint()));
    }
    return checkpoint.step;
  }

  fs::path dir_;
};

// Temporary checkpoint files (".step-N.pt.tmp-PID") in the run's checkpoints folder.
int temporary_files(const fs::path& checkpoints) {
  int count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(checkpoints, error)) {
    count += entry.path().filename().string().find(".tmp") != std::string::npos;
  }
  return count;
}

TEST_F(CrashSafety, KilledAtRandomMomentsTheLatestCheckpointLoadsAndResumeContinues) {
  // Killed runs aim far (no run ends by itself); the last one stops 4 steps after its start.
  const std::vector<std::string> far = {"train.max_steps=100000", "train.validate_every=2"};
  std::mt19937 rng(20240611);
  std::uniform_real_distribution<double> setup_delay(0.02, 0.6);
  std::uniform_real_distribution<double> training_delay(0.0, 0.6);
  constexpr int kRounds = 7;
  const fs::path checkpoints = RunDir(run_dir()).checkpoints();
  int64_t last_step = -1;
  int kills_in_training = 0;
  int kills_mid_write = 0;  // the temporary file was there when the process died
  for (int round = 0; round < kRounds; ++round) {
    const bool resume = last_step >= 0;
    const std::string log = "round" + std::to_string(round);
    Child child(train_args(resume, far), dir_ / (log + ".out"), dir_ / (log + ".err"));
    if (round == 0) {
      // Somewhere in setup: start-up, corpus preparation, tokenizer training, first steps.
      ASSERT_FALSE(child.wait_for(std::chrono::duration<double>(setup_delay(rng))))
          << slurp(dir_ / (log + ".err"));
    } else {
      // Wait for a checkpoint newer than the one resumed from. Then rounds 1-3 kill at a
      // random moment of the following steps, validations and writes; rounds 4-6 as soon as
      // the next checkpoint's temporary file appears (in the middle of writing it).
      const auto deadline = Clock::now() + std::chrono::seconds(120);
      bool new_checkpoint = false;
      while (!new_checkpoint && !child.poll() && Clock::now() < deadline) {
        const auto latest = RunDir(run_dir()).latest_checkpoint();
        new_checkpoint = latest && *latest != RunDir(run_dir()).step_checkpoint(last_step);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ASSERT_TRUE(new_checkpoint) << slurp(dir_ / (log + ".err"));
      if (round <= 3) {
        ASSERT_FALSE(child.wait_for(std::chrono::duration<double>(training_delay(rng))))
            << slurp(dir_ / (log + ".err"));
      } else {
        const auto write_deadline = Clock::now() + std::chrono::seconds(30);
        while (temporary_files(checkpoints) == 0 && !child.poll() &&
               Clock::now() < write_deadline) {
        }
      }
      ++kills_in_training;
    }
    child.signal(SIGKILL);
    const int status = child.wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    kills_mid_write += temporary_files(checkpoints) > 0;
    if (const auto step = latest_loadable_step()) {
      EXPECT_GE(*step, last_step) << "the latest checkpoint went back in round " << round;
      EXPECT_GT(*step, 0);
      last_step = *step;
    }
    if (resume) {
      EXPECT_THAT(slurp(dir_ / (log + ".err")), HasSubstr("resuming from"));
    }
  }
  EXPECT_EQ(kills_in_training, kRounds - 1);
  // Not asserted (a fast disk may finish a write between two polls), but shown.
  RecordProperty("kills_mid_write", kills_mid_write);
  std::cout << "[crash-safety] " << kRounds << " kills, " << kills_mid_write
            << " of them while a checkpoint was being written\n";

  // The last run resumes (or starts over if no checkpoint survived round 0) and finishes,
  // removing the temporary files the killed runs left.
  const int64_t end = std::max<int64_t>(last_step, 0) + 4;
  Child last(train_args(last_step >= 0, {"train.max_steps=" + std::to_string(end)}),
             dir_ / "last.out",
             dir_ / "last.err");
  ASSERT_EQ(last.wait(), 0) << slurp(dir_ / "last.err");
  EXPECT_THAT(slurp(dir_ / "last.out"), HasSubstr("trained " + std::to_string(end) + " steps"));
  EXPECT_EQ(latest_loadable_step(), end);
  EXPECT_EQ(temporary_files(checkpoints), 0);
}

TEST_F(CrashSafety, SigintSavesAndExitsZeroThenResumeContinues) {
  // No stop condition will be reached soon, and no validation checkpoint either.
  Child child(train_args(false, {"train.max_steps=100000", "train.validate_every=100000"}),
              dir_ / "sigint.out",
              dir_ / "sigint.err");
  // Steps are running once metrics.jsonl has a training record.
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!child.poll() && Clock::now() < deadline &&
         slurp(RunDir(run_dir()).metrics()).find("\"train\"") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(child.poll()) << slurp(dir_ / "sigint.err");
  const auto sent = Clock::now();
  child.signal(SIGINT);
  const auto status = child.wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(status) << "still running 10 s after SIGINT";
  const double seconds = std::chrono::duration<double>(Clock::now() - sent).count();
  ASSERT_TRUE(WIFEXITED(*status)) << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0) << slurp(dir_ / "sigint.err");
  EXPECT_LT(seconds, 5.0);
  EXPECT_THAT(slurp(dir_ / "sigint.out"), HasSubstr("signal"));
  const auto step = latest_loadable_step();
  ASSERT_TRUE(step);
  ASSERT_GE(*step, 1);

  Child resumed(train_args(true, {"train.max_steps=" + std::to_string(*step + 3)}),
                dir_ / "resume.out",
                dir_ / "resume.err");
  ASSERT_EQ(resumed.wait(), 0) << slurp(dir_ / "resume.err");
  EXPECT_THAT(slurp(dir_ / "resume.err"), HasSubstr("resuming from"));
  EXPECT_EQ(latest_loadable_step(), *step + 3);
}

}  // namespace
}  // namespace qkv
