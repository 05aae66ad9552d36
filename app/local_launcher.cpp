#include "app/local_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace qkv {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kKillAfterTerm{5000};
constexpr std::chrono::milliseconds kPollInterval{20};

std::atomic<int> g_sigterm_count{0};  // only state the signal handler touches

extern "C" void on_launcher_signal(int number) {
  if (number == SIGTERM) g_sigterm_count.fetch_add(1);
  // SIGINT needs no record: surviving it is the point (see LauncherSignalScope).
}

// While the launcher waits, SIGINT and SIGTERM must not end it before its workers (they would
// be orphaned). Workers share our process group, so a terminal's Ctrl-C already reaches each
// of them; train/stop_signal.cpp ends a worker hard on a second signal, so forwarding SIGINT
// would turn one Ctrl-C into a hard stop. Hence SIGINT is only survived, never forwarded, and
// only the first SIGTERM is forwarded (kill(1) and docker stop signal the launcher alone; a
// sender that signals the whole group, such as systemd's KillMode=control-group, stops the
// workers hard). SIGCHLD is set to its default so that waitpid sees the workers' statuses even
// if the caller ignored it.
class LauncherSignalScope {
 public:
  LauncherSignalScope() {
    g_sigterm_count = 0;
    struct sigaction action {};
    action.sa_handler = on_launcher_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
    struct sigaction child_default {};
    child_default.sa_handler = SIG_DFL;
    sigemptyset(&child_default.sa_mask);
    sigaction(SIGCHLD, &child_default, &previous_chld_);
  }
  ~LauncherSignalScope() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
    sigaction(SIGCHLD, &previous_chld_, nullptr);
  }
  LauncherSignalScope(const LauncherSignalScope&) = delete;
  LauncherSignalScope& operator=(const LauncherSignalScope&) = delete;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
  struct sigaction previous_chld_ {};
};

// The parent's environment with the rendezvous variables replaced by this worker's.
std::vector<std::string> worker_environment(int rank, int nproc, uint16_t port) {
  const std::vector<std::pair<std::string, std::string>> own = {
      {"RANK", std::to_string(rank)},
      {"LOCAL_RANK", std::to_string(rank)},
      {"WORLD_SIZE", std::to_string(nproc)},
      {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
      {"MASTER_ADDR", "127.0.0.1"},
      {"MASTER_PORT", std::to_string(port)}};
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const std::string name = text.substr(0, text.find('='));
    bool replaced = false;
    for (const auto& [own_name, value] : own) replaced = replaced || name == own_name;
    if (!replaced) env.push_back(text);
  }
  for (const auto& [name, value] : own) env.push_back(name + "=" + value);
  return env;
}

// A null-terminated char* array over `strings` (which must outlive it), for execve.
std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  bool running = true;
};

int exit_code(int status) {
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void report_failure(int rank, int status) {
  if (WIFSIGNALED(status)) {
    const int number = WTERMSIG(status);
    std::cerr << "qkv: worker rank " << rank << " was killed by signal " << number << " ("
              << strsignal(number) << ")\n";
  } else {
    std::cerr << "qkv: worker rank " << rank << " exited with status " << exit_code(status) << "\n";
  }
}

void signal_running(const std::vector<Worker>& workers, int number) {
  for (const auto& worker : workers)
    if (worker.running) kill(worker.pid, number);
}

// Reaps the workers that have ended; returns (rank, wait status) for each.
std::vector<std::pair<int, int>> reap(std::vector<Worker>& workers) {
  std::vector<std::pair<int, int>> ended;
  for (auto& worker : workers) {
    if (!worker.running) continue;
    int status = 0;
    const pid_t result = waitpid(worker.pid, &status, WNOHANG);
    if (result == worker.pid) {
      worker.running = false;
      ended.emplace_back(worker.rank, status);
    } else if (result < 0 && errno != EINTR) {
      worker.running = false;  // not our child any more (ECHILD): nothing left to wait for
      ended.emplace_back(worker.rank, 0);
    }
  }
  return ended;
}

bool any_running(const std::vector<Worker>& workers) {
  for (const auto& worker : workers)
    if (worker.running) return true;
  return false;
}

// Used when starting fails part-way: SIGTERM, then SIGKILL after kKillAfterTerm, all reaped.
void end_workers(std::vector<Worker>& workers) {
  signal_running(workers, SIGTERM);
  const auto kill_at = Clock::now() + kKillAfterTerm;
  bool killed = false;
  for (reap(workers); any_running(workers); reap(workers)) {
    if (!killed && Clock::now() >= kill_at) {
      signal_running(workers, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// fork + execve. The child only calls async-signal-safe functions (execve, write, _exit): the
// caller may have other threads. A close-on-exec pipe carries execve's errno back, so a
// missing program is an error here rather than a worker exiting 127.
pid_t start_worker(const std::string& program, char* const argv[], char* const envp[], int rank) {
  const std::string what =
      "cannot start worker rank " + std::to_string(rank) + " (" + program + "): ";
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(what + std::strerror(errno));
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    execve(program.c_str(), argv, envp);
    const int error = errno;
    [[maybe_unused]] const ssize_t written = write(pipe_fds[1], &error, sizeof error);
    _exit(127);
  }
  const int fork_error = errno;
  close(pipe_fds[1]);
  if (pid < 0) {
    close(pipe_fds[0]);
    throw std::runtime_error(what + "fork: " + std::strerror(fork_error));
  }
  int exec_error = 0;
  ssize_t got = 0;
  do {
    got = read(pipe_fds[0], &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  close(pipe_fds[0]);
  if (got == static_cast<ssize_t>(sizeof exec_error)) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) continue;  // the child _exits now
    throw std::runtime_error(what + std::strerror(exec_error));
  }
  return pid;  // EOF: execve succeeded
}

// Waits for every worker: forwards the first SIGTERM, and after the first failure gives the
// others `grace`, then SIGTERM, then SIGKILL. Returns the launcher's exit status.
int wait_for_workers(std::vector<Worker>& workers, std::chrono::milliseconds grace) {
  std::optional<int> failure;
  Clock::time_point failed_at;
  bool forwarded = false;
  bool terminated = false;
  bool killed = false;
  while (any_running(workers)) {
    for (const auto& [rank, status] : reap(workers)) {
      if (status == 0 || failure) continue;
      failure = exit_code(status);
      failed_at = Clock::now();
      report_failure(rank, status);
    }
    if (!forwarded && g_sigterm_count.load() > 0) {
      signal_running(workers, SIGTERM);
      forwarded = true;
    }
    if (failure) {
      const auto since = Clock::now() - failed_at;
      if (!terminated && since >= grace) {
        signal_running(workers, SIGTERM);
        terminated = true;
      } else if (terminated && !killed && since >= grace + kKillAfterTerm) {
        signal_running(workers, SIGKILL);
        killed = true;
      }
    }
    if (any_running(workers)) std::this_thread::sleep_for(kPollInterval);
  }
  return failure.value_or(0);
}

}  // namespace

int launch_local_workers(const LocalLaunchOptions& options) {
  if (options.nproc < 1)
    throw std::invalid_argument("--nproc must be at least 1, got " + std::to_string(options.nproc));
  const uint16_t port = free_loopback_port();
  std::vector<std::string> argv_strings = {options.program};
  argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv = c_array(argv_strings);

  LauncherSignalScope signals;
  std::vector<Worker> workers;
  for (int rank = 0; rank < options.nproc; ++rank) {
    std::vector<std::string> env_strings = worker_environment(rank, options.nproc, port);
    std::vector<char*> envp = c_array(env_strings);
    try {
      workers.push_back({rank, start_worker(options.program, argv.data(), envp.data(), rank)});
    } catch (...) {
      end_workers(workers);
      throw;
    }
  }
  return wait_for_workers(workers, options.grace);
}

int launch_this_program(std::vector<std::string> args, int nproc, std::chrono::milliseconds grace) {
  if (spdlog::get_level() >= spdlog::level::warn) args.push_back("-q");
  LocalLaunchOptions launch;
  launch.program = std::filesystem::read_symlink("/proc/self/exe").string();
  launch.args = std::move(args);
  launch.nproc = nproc;
  launch.grace = grace;
  return launch_local_workers(launch);
}

uint16_t free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  close(fd);
  if (!ok) throw std::runtime_error(std::string("no free loopback port: ") + std::strerror(error));
  return ntohs(address.sin_port);
}

}  // namespace qkv
