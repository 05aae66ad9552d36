#include "tests/app/run_command.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace qkv::testing {
namespace {

std::string quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

CommandResult run_qkv(const std::vector<std::string>& args,
                      const std::string& stdin_text,
                      int timeout_seconds) {
  std::vector<std::string> argv = {QKV_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, stdin_text, timeout_seconds);
}

CommandResult run_program(const std::vector<std::string>& argv,
                          const std::string& stdin_text,
                          int timeout_seconds) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("qkv_cli_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in", std::ios::binary) << stdin_text;
  std::string command = "timeout " + std::to_string(timeout_seconds);
  for (const auto& arg : argv) command += " " + quote(arg);
  command += " <" + quote((dir / "in").string()) + " >" + quote((dir / "out").string()) + " 2>" +
             quote((dir / "err").string());
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(dir / "out");
  result.err = slurp(dir / "err");
  std::filesystem::remove_all(dir);
  return result;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace qkv::testing
