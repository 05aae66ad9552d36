// `qkv train` as a data-parallel group on 127.0.0.1 (issue 16), as users start it: ranks
// launched by `qkv train --nproc N`, or by their environment (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT) as torchrun launches them, and by torchrun itself where it is installed. The
// model is en-de-tiny on the fixture corpus with dropout 0, so runs can be compared exactly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "app/local_launcher.h"
#include "tests/app/run_command.h"
#include "tests/app/tiny_run.h"
#include "train/checkpoint/checkpoint.h"
#include "train/metrics_log.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using testing::run_program;
using testing::run_qkv;

// The tiny run of tests/app/tiny_run.h into `run`: 20 steps (or `steps`), dropout 0,
// validation every 10 steps, then `extra` arguments.
std::vector<std::string> exact_args(const fs::path& dir,
                                    const fs::path& run,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = testing::train_args(dir);
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--run-dir") args[i + 1] = run.string();
  }
  args.insert(args.end(),
              {"--set",
               "model.dropout=0",
               "--set",
               "model.attention_dropout=0",
               "--set",
               "train.max_steps=20",
               "--set",
               "train.validate_every=10"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A shell command that runs rank `rank` of `world` in `cwd`, as torchrun would start it,
// writing its output to `log`; meant to be started in the background ("&").
std::string rank_command(int rank,
                         int world,
                         uint16_t port,
                         const fs::path& cwd,
                         const std::vector<std::string>& args,
                         const fs::path& log) {
  std::ostringstream command;
  command << "(cd " << quoted(cwd.string()) << " && RANK=" << rank << " LOCAL_RANK=" << rank
          << " WORLD_SIZE=" << world << " MASTER_ADDR=127.0.0.1 MASTER_PORT=" << port << " exec "
          << quoted(QKV_BINARY);
  for (const auto& arg : args) command << " " << quoted(arg);
  command << " > " << quoted(log.string()) << " 2>&1)";
  return command.str();
}

// Relative difference of every parameter of two checkpoints: |a - b| / |b| (Frobenius norms).
// Except the key projections' biases: adding one vector to every key adds the same number to
// each score of a query's row, which softmax ignores, so their gradient is zero in exact
// arithmetic and float rounding noise in practice; Adam divides that noise by its own size and
// takes full learning-rate steps. Their values are noise that changes no output (the losses
// are compared below).
void expect_same_parameters(const fs::path& a, const fs::path& b, double tolerance) {
  const Checkpoint first = load_checkpoint(a);
  const Checkpoint second = load_checkpoint(b);
  ASSERT_EQ(first.step, second.step);
  ASSERT_EQ(first.model.size(), second.model.size());
  for (std::size_t i = 0; i < first.model.size(); ++i) {
    const auto& [name, tensor] = first.model[i];
    ASSERT_EQ(name, second.model[i].first);
    if (name.size() >= 13 && name.compare(name.size() - 13, 13, "key_proj.bias") == 0) continue;
    const auto& reference = second.model[i].second;
    const double difference = (tensor - reference).norm().item<double>() /
                              std::max(reference.norm().item<double>(), 1e-12);
    EXPECT_LT(difference, tolerance) << name << " of " << a << " against " << b;
  }
}

// The training loss of every logged step of a run, and the world size each was trained with.
std::map<int64_t, std::pair<double, double>> train_losses(const fs::path& run) {
  std::map<int64_t, std::pair<double, double>> losses;
  for (const auto& record : MetricsLog::read(run / "metrics.jsonl")) {
    if (record.type == "train") {
      losses[record.step] = {record.values.at("loss"), record.values.at("world_size")};
    }
  }
  return losses;
}

void expect_same_losses(const fs::path& run, const fs::path& reference) {
  const auto got = train_losses(run);
  const auto expected = train_losses(reference);
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [step, loss] : expected) {
    ASSERT_TRUE(got.count(step)) << "step " << step;
    EXPECT_NEAR(got.at(step).first, loss.first, 1e-5 * loss.first) << "step " << step;
  }
}

class TrainDist : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qkv_train_dist_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `qkv train` with `args`; its exit code must be 0.
  void train(const std::vector<std::string>& args) {
    const auto result = run_qkv(args, "", 300);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  // Ranks 0 and 1 of `args_by_rank`, started by their environment, in `cwd_by_rank`; returns
  // the script's output: "<exit code of rank 0> <exit code of rank 1>".
  std::string run_two_ranks(const std::vector<std::vector<std::string>>& args_by_rank,
                            const std::vector<fs::path>& cwd_by_rank) {
    const uint16_t port = free_loopback_port();
    std::string script;
    for (int rank = 0; rank < 2; ++rank) {
      script += rank_command(rank,
                             2,
                             port,
                             cwd_by_rank[rank],
                             args_by_rank[rank],
                             dir_ / ("rank" + std::to_string(rank) + ".log")) +
                " & p" + std::to_string(rank) + "=$!\n";
    }
    script += "wait $p0; r0=$?; wait $p1; r1=$?; echo \"$r0 $r1\"\n";
    const auto result = run_program({"sh", "-c", script}, "", 300);
    return result.out;
  }

  std::string rank_log(int rank) const {
    return testing::read_file(dir_ / ("rank" + std::to_string(rank) + ".log"));
  }

  fs::path dir_;
};

TEST_F(TrainDist, TwoRanksEqualOneProcessOnTheSameGlobalBatches) {
  train(exact_args(dir_, dir_ / "two", {"--nproc", "2"}));
  train(exact_args(dir_, dir_ / "one", {"--set", "train.accumulate=2"}));
  expect_same_parameters(
      dir_ / "two/checkpoints/step-20.pt", dir_ / "one/checkpoints/step-20.pt", 1e-5);
  expect_same_losses(dir_ / "two", dir_ / "one");
  EXPECT_EQ(train_losses(dir_ / "two").at(20).second, 2.0);  // metrics.jsonl's world_size
  // The run directory is a normal one: qkv translate uses it.
  const auto translated = run_qkv({"translate", "--model", (dir_ / "two").string()}, "a dog\n");
  EXPECT_EQ(translated.exit_code, 0) << translated.err;
  EXPECT_EQ(testing::lines_of(translated.out).size(), 1u);
}

TEST_F(TrainDist, ResumeAcrossWorldSizesContinuesTheDataOrderAndTheLosses) {
  train(exact_args(dir_, dir_ / "straight", {"--set", "train.accumulate=2"}));
  // 2 ranks to step 10, then 1 process with 2 batches per step to step 20.
  train(exact_args(dir_, dir_ / "two-one", {"--nproc", "2", "--set", "train.max_steps=10"}));
  train(exact_args(dir_, dir_ / "two-one", {"--resume", "--set", "train.accumulate=2"}));
  // And the other way round.
  train(exact_args(
      dir_, dir_ / "one-two", {"--set", "train.accumulate=2", "--set", "train.max_steps=10"}));
  train(exact_args(
      dir_, dir_ / "one-two", {"--resume", "--nproc", "2", "--set", "train.accumulate=1"}));
  for (const char* run : {"two-one", "one-two"}) {
    expect_same_parameters(
        dir_ / run / "checkpoints/step-20.pt", dir_ / "straight/checkpoints/step-20.pt", 1e-5);
    expect_same_losses(dir_ / run, dir_ / "straight");
  }
  EXPECT_EQ(train_losses(dir_ / "two-one").at(10).second, 2.0);
  EXPECT_EQ(train_losses(dir_ / "two-one").at(20).second, 1.0);
}

// Rank 1 runs in a folder of its own with the same relative --run-dir: rank 0 alone writes a
// run directory, and rank 1 needs none (the tokenizer comes from rank 0).
TEST_F(TrainDist, RankZeroAloneWritesTheRunDirectory) {
  fs::create_directories(dir_ / "machine0");
  fs::create_directories(dir_ / "machine1");
  const auto args = exact_args(dir_, "run");
  EXPECT_EQ(run_two_ranks({args, args}, {dir_ / "machine0", dir_ / "machine1"}), "0 0\n")
      << rank_log(0) << rank_log(1);
  EXPECT_TRUE(fs::exists(dir_ / "machine0/run/checkpoints/step-20.pt"));
  EXPECT_TRUE(fs::is_empty(dir_ / "machine1")) << "rank 1 wrote files";
  const std::string log = testing::read_file(dir_ / "machine0/run/train.log");
  EXPECT_NE(log.find("rank 0 of 2"), std::string::npos) << log;
  EXPECT_EQ(log.find("rank 1 of 2"), std::string::npos) << log;
}

TEST_F(TrainDist, DifferentConfigsStopBothRanksWithOneLine) {
  const auto first = exact_args(dir_, dir_ / "run");
  auto second = first;
  second.insert(second.end(), {"--set", "train.learning_rate=0.01"});
  EXPECT_EQ(run_two_ranks({first, second}, {dir_, dir_}), "1 1\n");
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_NE(rank_log(rank).find("qkv: error: the config differs between ranks"),
              std::string::npos)
        << rank_log(rank);
  }
}

class LostRank : public TrainDist, public ::testing::WithParamInterface<int> {};

// A SIGKILLed rank ends the other within train.dist_timeout_s, with one line naming it, and
// no half-written checkpoint.
TEST_P(LostRank, EndsTheOtherWithinTheTimeoutNamingIt) {
  const int victim = GetParam();
  const int survivor = 1 - victim;
  const auto args = exact_args(dir_,
                               dir_ / "run",
                               {"--set",
                                "train.max_steps=1000000",
                                "--set",
                                "train.validate_every=100000",
                                "--set",
                                "train.dist_timeout_s=5"});
  const uint16_t port = free_loopback_port();
  std::string script;
  for (int rank = 0; rank < 2; ++rank) {
    script +=
        rank_command(rank, 2, port, dir_, args, dir_ / ("rank" + std::to_string(rank) + ".log")) +
        " & p" + std::to_string(rank) + "=$!\n";
  }
  // Kill once training is under way (rank 0 logged step 40), then time the survivor's end.
  script += "i=0; while [ $i -lt 1200 ] && ! grep -q 'step 40 |' " +
            quoted((dir_ / "run/train.log").string()) +
            " 2>/dev/null; do sleep 0.05; i=$((i+1)); done\n";
  script += "kill -9 $p" + std::to_string(victim) + "; t0=$(date +%s%N)\n";
  script += "wait $p" + std::to_string(survivor) + "; r=$?; t1=$(date +%s%N)\n";
  script += "wait $p" + std::to_string(victim) + "\n";
  script += "echo \"$r $(( (t1 - t0) / 1000000 ))\"\n";
  const auto result = run_program({"sh", "-c", script}, "", 300);
  int exit_code = -1;
  int64_t milliseconds = -1;
  std::istringstream(result.out) >> exit_code >> milliseconds;
  const std::string log = rank_log(survivor);
  EXPECT_EQ(exit_code, 1) << result.out << log;
  EXPECT_GE(milliseconds, 0);
  EXPECT_LT(milliseconds, 5000 + 2000) << log;
  EXPECT_NE(log.find("lost rank " + std::to_string(victim)), std::string::npos) << log;
  // A run that never reached its first checkpoint is removed again; else no temporary file.
  if (!fs::exists(dir_ / "run/checkpoints")) return;
  for (const auto& entry : fs::directory_iterator(dir_ / "run/checkpoints")) {
    EXPECT_NE(entry.path().filename().string().front(), '.') << entry.path();
  }
}

INSTANTIATE_TEST_SUITE_P(Victim, LostRank, ::testing::Values(0, 1), [](const auto& param_info) {
  return "Rank" + std::to_string(param_info.param);
});

// `qkv -q train --nproc 2`: the workers log warnings and errors only, like one process would.
TEST_F(TrainDist, QuietReachesTheWorkers) {
  std::vector<std::string> args = {"-q"};
  for (const auto& arg : exact_args(dir_, dir_ / "quiet", {"--nproc", "2"})) args.push_back(arg);
  const auto result = run_qkv(args, "", 300);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err.find(" info]"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("trained 20 steps"), std::string::npos) << result.out;
}

TEST_F(TrainDist, BadLaunchesAreOneLineAndNonZero) {
  auto args = exact_args(dir_, dir_ / "run", {"--nproc", "0"});
  auto result = run_qkv(args);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--nproc: must be at least 1, got 0"), std::string::npos) << result.err;

  std::string command = "WORLD_SIZE=2 RANK=0 exec " + quoted(QKV_BINARY);
  for (const auto& arg : exact_args(dir_, dir_ / "run")) command += " " + quoted(arg);
  result = run_program({"sh", "-c", command});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("qkv: error: WORLD_SIZE=2 but MASTER_ADDR is not set"),
            std::string::npos)
      << result.err;

  // Rank 1 of a group whose master never comes: gives up after the timeout, naming it.
  const std::string port = std::to_string(free_loopback_port());
  command = "RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " exec " +
            quoted(QKV_BINARY);
  for (const auto& arg : exact_args(dir_, dir_ / "run", {"--set", "train.dist_timeout_s=2"})) {
    command += " " + quoted(arg);
  }
  result = run_program({"sh", "-c", command}, "", 30);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("MASTER_ADDR:MASTER_PORT=127.0.0.1:" + port), std::string::npos)
      << result.err;
  EXPECT_FALSE(fs::exists(dir_ / "run")) << "a rank that never joined wrote files";
}

// torchrun from Debian's python3-torch, through scripts/torchrun (which sidesteps Debian 12's
// and Debian 13's packaging traps, see there): one machine with two workers, and two
// "machines" (torchrun agents) on 127.0.0.1 with one worker each.
TEST_F(TrainDist, TorchrunStartsTheRanks) {
  const std::string torchrun = quoted(QKV_SOURCE_DIR "/scripts/torchrun");
  if (std::system((torchrun + " --help >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << "torchrun (Debian's python3-torch) is not installed";
  }
  // A free port rather than torchrun's default 29500, which another run may hold.
  std::string command = torchrun + " --nproc_per_node 2 --master_addr 127.0.0.1 " +
                        std::string("--master_port ") + std::to_string(free_loopback_port()) +
                        " --no_python " + quoted(QKV_BINARY);
  for (const auto& arg : exact_args(dir_, dir_ / "local")) command += " " + quoted(arg);
  auto result = run_program({"sh", "-c", command}, "", 300);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  const std::string port = std::to_string(free_loopback_port());
  std::string script;
  for (int node = 0; node < 2; ++node) {
    script += torchrun + " --nnodes 2 --node_rank " + std::to_string(node) +
              " --nproc_per_node 1 --master_addr 127.0.0.1 --master_port " + port +
              " --no_python " + quoted(QKV_BINARY);
    for (const auto& arg : exact_args(dir_, dir_ / "nodes")) script += " " + quoted(arg);
    script += " > " + quoted((dir_ / ("node" + std::to_string(node) + ".log")).string()) +
              " 2>&1 & p" + std::to_string(node) + "=$!\n";
  }
  script += "wait $p0; r0=$?; wait $p1; r1=$?; echo \"$r0 $r1\"\n";
  result = run_program({"sh", "-c", script}, "", 300);
  EXPECT_EQ(result.out, "0 0\n") << testing::read_file(dir_ / "node0.log")
                                 << testing::read_file(dir_ / "node1.log");
  expect_same_parameters(
      dir_ / "nodes/checkpoints/step-20.pt", dir_ / "local/checkpoints/step-20.pt", 1e-5);
}

}  // namespace
}  // namespace qkv
