// ServerProcess and the shared tiny run (see server_process.h).
#include "tests/serve/server_process.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <stdexcept>
#include <thread>

#include "tests/app/run_command.h"
#include "tests/app/tiny_run.h"

namespace qkv::testing {

namespace fs = std::filesystem;

ServerProcess::ServerProcess(const std::vector<std::string>& args) {
  static int started = 0;
  log_ = fs::temp_directory_path() /
         ("qkv_serve_" + std::to_string(::getpid()) + "_" + std::to_string(started++) + ".log");
  std::vector<std::string> argv = {QKV_BINARY, "serve", "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log_.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    std::vector<char*> c_argv;
    for (auto& arg : argv) c_argv.push_back(arg.data());
    c_argv.push_back(nullptr);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  const std::regex listening(R"(listening on http://[^:]+:(\d+)/)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string text = log();
    if (std::regex_search(text, match, listening)) {
      port_ = std::stoi(match[1]);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("qkv serve exited before listening: " + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("qkv serve did not listen within 60 s: " + log());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  fs::remove(log_);
}

void ServerProcess::signal(int signal_number) const { ::kill(pid_, signal_number); }

int ServerProcess::wait(int timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string ServerProcess::log() const { return read_file(log_); }

std::string shared_tiny_run() {
  const fs::path dir = QKV_SERVE_TEST_DIR;
  fs::create_directories(dir.parent_path());
  // One test process trains; the others wait for it here and then reuse the run.
  const int lock = ::open((dir.string() + ".lock").c_str(), O_CREAT | O_RDWR, 0644);
  ::flock(lock, LOCK_EX);
  const fs::path best = dir / "run" / "checkpoints" / "best.pt";
  if (!fs::exists(best) || fs::last_write_time(best) < fs::last_write_time(QKV_BINARY)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::vector<std::string> args = train_args(dir);
    args.insert(args.begin(), "-q");
    const CommandResult result = run_qkv(args, "", 600);
    if (result.exit_code != 0) {
      ::close(lock);
      throw std::runtime_error("training the tiny run failed: " + result.err);
    }
  }
  ::close(lock);
  return (dir / "run").string();
}

}  // namespace qkv::testing
