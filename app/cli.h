// The qkv command line: builds the CLI11 app, runs it, and maps every failure to one error
// line on stderr and an exit code (1 = error, 2 = usage error).
#pragma once

namespace qkv {

/// Runs `qkv` with the given arguments and returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace qkv
