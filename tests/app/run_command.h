// Runs the qkv executable as a user would, capturing stdout, stderr and the exit code.
#pragma once

#include <string>
#include <vector>

namespace qkv::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

/// Runs `QKV_BINARY args...` with `stdin_text` on standard input (bounded by `timeout`).
CommandResult run_qkv(const std::vector<std::string>& args,
                      const std::string& stdin_text = "",
                      int timeout_seconds = 120);

/// Runs the program argv[0] (found on PATH) with its arguments, likewise.
CommandResult run_program(const std::vector<std::string>& argv,
                          const std::string& stdin_text = "",
                          int timeout_seconds = 120);

/// Lines of `text`, without the trailing empty one.
std::vector<std::string> lines_of(const std::string& text);

}  // namespace qkv::testing
