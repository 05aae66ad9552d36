// The qkv subcommands. Each add_*_command registers one CLI11 subcommand whose callback is a
// thin shell over a library call; errors are thrown and turned into one line by run_cli().
#pragma once

namespace CLI {
class App;
}

namespace qkv {

/// Thrown by a subcommand whose outcome is an exit status that has been reported already (the
/// workers of `qkv train --nproc`): run_cli() returns `code` without another line.
struct ExitStatus {
  int code = 0;
};

void add_config_command(CLI::App& app);     // app/cmd_config.cpp
void add_prepare_command(CLI::App& app);    // app/cmd_prepare.cpp
void add_train_command(CLI::App& app);      // app/cmd_train.cpp
void add_score_command(CLI::App& app);      // app/cmd_score.cpp
void add_translate_command(CLI::App& app);  // app/cmd_translate.cpp
void add_evaluate_command(CLI::App& app);   // app/cmd_evaluate.cpp
void add_bench_command(CLI::App& app);      // app/cmd_bench.cpp
void add_attention_command(CLI::App& app);  // app/cmd_attention.cpp
void add_heads_command(CLI::App& app);      // app/cmd_heads.cpp
void add_average_command(CLI::App& app);    // app/cmd_average.cpp
void add_export_command(CLI::App& app);     // app/cmd_export.cpp
void add_serve_command(CLI::App& app);      // app/cmd_serve.cpp

}  // namespace qkv
