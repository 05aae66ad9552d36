// app/local_launcher: real /bin/sh workers see their rank and the shared rendezvous, the first
// failure decides the exit status and ends the others after the grace period, a SIGTERM to the
// launcher reaches the workers (a SIGINT does not), and bad input is a clear error.
#include "app/local_launcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace qkv {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::HasSubstr;

class LocalLauncher : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "qkv-launcher-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Workers of `sh -c script` (the script sees its directory as $1).
  LocalLaunchOptions shell(const std::string& script, int nproc) const {
    LocalLaunchOptions options;
    options.program = "/bin/sh";
    options.args = {"-c", script, "sh", dir_.string()};
    options.nproc = nproc;
    options.grace = milliseconds(200);
    return options;
  }

  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Sends `number` to this process once every rank has written ready-RANK (at most 5 s).
  std::thread signal_when_ready(int nproc, std::vector<int> numbers) const {
    return std::thread([this, nproc, numbers] {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      for (int rank = 0; rank < nproc; ++rank)
        while (!fs::exists(dir_ / ("ready-" + std::to_string(rank))) &&
               std::chrono::steady_clock::now() < give_up)
          std::this_thread::sleep_for(milliseconds(10));
      for (int number : numbers) {
        kill(getpid(), number);
        std::this_thread::sleep_for(milliseconds(100));
      }
    });
  }

  fs::path dir_;
};

TEST_F(LocalLauncher, EveryWorkerSeesItsRankAndTheSharedRendezvous) {
  const auto options = shell(
      R"(echo "$RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $MASTER_ADDR $MASTER_PORT" \
           > "$1/rank-$RANK")",
      3);
  EXPECT_EQ(launch_local_workers(options), 0);
  std::string first_port;
  for (int rank = 0; rank < 3; ++rank) {
    std::istringstream line(read("rank-" + std::to_string(rank)));
    int seen_rank = -1, local_rank = -1, world = 0, local_world = 0;
    std::string address, port;
    line >> seen_rank >> local_rank >> world >> local_world >> address >> port;
    EXPECT_EQ(seen_rank, rank);
    EXPECT_EQ(local_rank, rank);
    EXPECT_EQ(world, 3);
    EXPECT_EQ(local_world, 3);
    EXPECT_EQ(address, "127.0.0.1");
    EXPECT_GT(std::stoi(port), 0);
    if (rank == 0) first_port = port;
    EXPECT_EQ(port, first_port);
  }
}

TEST_F(LocalLauncher, FirstFailureGivesItsStatusAndNamesItsRank) {
  testing::internal::CaptureStderr();
  const int status = launch_local_workers(shell(R"([ "$RANK" = 1 ] && exit 3; exit 0)", 3));
  const std::string errors = testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 3);
  EXPECT_EQ(errors, "qkv: worker rank 1 exited with status 3\n");
}

TEST_F(LocalLauncher, KilledWorkerEndsTheOthersAfterTheGracePeriod) {
  const auto start = std::chrono::steady_clock::now();
  testing::internal::CaptureStderr();
  const int status =
      launch_local_workers(shell(R"([ "$RANK" = 0 ] && kill -9 $$; exec sleep 30)", 3));
  const std::string errors = testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 128 + SIGKILL);
  EXPECT_THAT(errors, HasSubstr("qkv: worker rank 0 was killed by signal 9"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

// The trap writes its file; a worker that never hears anything gives up after 10 s (exit 5).
constexpr const char* kTrappingWorker = R"(
  trap 'echo got > "$1/term-$RANK"; exit 0' TERM
  trap 'echo got > "$1/int-$RANK"' INT
  touch "$1/ready-$RANK"
  n=0; while [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done; exit 5)";

TEST_F(LocalLauncher, SigtermToTheLauncherReachesTheWorkers) {
  std::thread sender = signal_when_ready(2, {SIGTERM});
  const int status = launch_local_workers(shell(kTrappingWorker, 2));
  sender.join();
  EXPECT_EQ(status, 0);
  EXPECT_EQ(read("term-0"), "got\n");
  EXPECT_EQ(read("term-1"), "got\n");
}

// Ctrl-C reaches the workers from the terminal (same process group); the launcher survives a
// SIGINT and does not repeat it, which would stop a qkv worker hard.
TEST_F(LocalLauncher, SigintToTheLauncherIsNotForwarded) {
  std::thread sender = signal_when_ready(2, {SIGINT, SIGTERM});
  const int status = launch_local_workers(shell(kTrappingWorker, 2));
  sender.join();
  EXPECT_EQ(status, 0);
  EXPECT_FALSE(fs::exists(dir_ / "int-0"));
  EXPECT_FALSE(fs::exists(dir_ / "int-1"));
  EXPECT_EQ(read("term-1"), "got\n");
}

TEST_F(LocalLauncher, RejectsFewerThanOneWorker) {
  LocalLaunchOptions options = shell("exit 0", 0);
  try {
    launch_local_workers(options);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "--nproc must be at least 1, got 0");
  }
}

TEST_F(LocalLauncher, MissingProgramThrowsNamingIt) {
  LocalLaunchOptions options = shell("exit 0", 2);
  options.program = (dir_ / "no-such-qkv").string();
  try {
    launch_local_workers(options);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot start worker rank 0"));
    EXPECT_THAT(error.what(), HasSubstr(options.program));
    EXPECT_THAT(error.what(), HasSubstr("No such file or directory"));
  }
}

TEST(FreeLoopbackPort, CanBeBoundAgain) {
  const uint16_t port = free_loopback_port();
  ASSERT_GT(port, 0);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  close(fd);
}

}  // namespace
}  // namespace qkv
