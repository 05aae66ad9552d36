// Starting and reaping the rank processes of a multi-process test (see rank_launcher.h).
#include "tests/dist/rank_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace qkv::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RankProcess {
  pid_t pid = -1;
  fs::path log;
  RankOutcome outcome;
  bool done = false;
};

// The test's environment plus the launcher's variables for `rank` (later entries win in getenv
// only by luck, so the launcher's names are removed from the inherited ones first).
std::vector<std::string> rank_environment(int rank,
                                          int world_size,
                                          uint16_t port,
                                          std::chrono::milliseconds timeout) {
  const std::vector<std::pair<std::string, std::string>> launcher = {
      {"RANK", std::to_string(rank)},
      {"WORLD_SIZE", std::to_string(world_size)},
      {"LOCAL_RANK", std::to_string(rank)},
      {"MASTER_ADDR", "127.0.0.1"},
      {"MASTER_PORT", std::to_string(port)},
      {"QKV_DIST_TEST_TIMEOUT_MS", std::to_string(timeout.count())}};
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    bool replaced = false;
    for (const auto& variable : launcher) replaced |= text.rfind(variable.first + "=", 0) == 0;
    if (!replaced) entries.push_back(text);
  }
  for (const auto& [name, value] : launcher) entries.push_back(name + "=" + value);
  return entries;
}

// fork + exec of the scenario program, stdout and stderr into `log`. Everything is prepared
// before fork(): after it, only exec-safe calls.
pid_t start_rank(const std::string& scenario,
                 std::vector<std::string> environment,
                 const fs::path& log) {
  std::string program = QKV_DIST_TEST_RANKS;
  std::string argument = scenario;
  std::vector<char*> argv = {program.data(), argument.data(), nullptr};
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot write " + log.string());
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid < 0) throw std::runtime_error("fork failed");
  return pid;
}

void record_status(RankProcess& process, int status) {
  process.done = true;
  if (WIFEXITED(status)) process.outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) process.outcome.signal = WTERMSIG(status);
}

// Reaps every rank; those still running at `deadline` are killed, and their output says so.
void wait_for_all(std::vector<RankProcess>& ranks, Clock::time_point deadline) {
  for (bool running = true; running;) {
    running = false;
    for (auto& process : ranks) {
      int status = 0;
      if (!process.done && ::waitpid(process.pid, &status, WNOHANG) == process.pid) {
        record_status(process, status);
      }
      running |= !process.done;
    }
    if (!running) return;
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& process : ranks) {
    if (process.done) continue;
    ::kill(process.pid, SIGKILL);
    int status = 0;
    ::waitpid(process.pid, &status, 0);
    record_status(process, status);
    process.outcome.output = "[killed by the test: still running after the limit]\n";
  }
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("cannot bind a port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::vector<RankOutcome> run_ranks(const std::string& scenario,
                                   int world_size,
                                   std::chrono::milliseconds timeout,
                                   std::chrono::seconds limit) {
  const uint16_t port = free_loopback_port();
  std::vector<RankProcess> ranks(static_cast<std::size_t>(world_size));
  for (int rank = 0; rank < world_size; ++rank) {
    auto& process = ranks[static_cast<std::size_t>(rank)];
    process.log = fs::temp_directory_path() / ("qkv_dist_test_" + std::to_string(::getpid()) + "_" +
                                               std::to_string(rank) + ".log");
    process.pid =
        start_rank(scenario, rank_environment(rank, world_size, port, timeout), process.log);
  }
  wait_for_all(ranks, Clock::now() + limit);
  std::vector<RankOutcome> outcomes;
  for (auto& process : ranks) {
    process.outcome.output += slurp(process.log);
    fs::remove(process.log);
    outcomes.push_back(process.outcome);
  }
  return outcomes;
}

std::string line_starting_with(const std::string& output, const std::string& prefix) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

}  // namespace qkv::test
