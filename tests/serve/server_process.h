// A real `qkv serve` for the tests: started as a child process on a free loopback port (--port
// 0; the port is read from its log line), with its log in a file, stopped by a signal.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace qkv::testing {

class ServerProcess {
 public:
  /// Starts `qkv serve --port 0 ARGS...` and waits (up to 60 s) until it listens; throws
  /// std::runtime_error with its log when it exits or does not listen in time.
  explicit ServerProcess(const std::vector<std::string>& args);
  /// Kills the server if it still runs.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  /// Sends `signal_number` (e.g. SIGTERM).
  void signal(int signal_number) const;
  /// Waits up to `timeout_seconds` for the process to end: its exit code, 128 + the signal
  /// that ended it, or -1 if it still runs.
  int wait(int timeout_seconds);
  /// Everything it logged so far.
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
  int port_ = 0;
};

/// A tiny trained run shared by every server test of this build (trained once, under a lock,
/// again when qkv was rebuilt since): its run directory.
std::string shared_tiny_run();

}  // namespace qkv::testing
