#include "app/cli.h"

#include <c10/util/Exception.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "app/commands.h"
#include "app/process_settings.h"

namespace qkv {
namespace {

// Logs go to stderr so that stdout carries only results (translations, scores, YAML).
void setup_logging(int verbose, bool quiet) {
  auto logger = spdlog::stderr_color_mt("qkv");
  logger->set_pattern("%^[%H:%M:%S %l]%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(quiet ? spdlog::level::warn
                          : (verbose > 0 ? spdlog::level::debug : spdlog::level::info));
}

// The first line of a message: LibTorch appends C++ stack traces to its errors.
std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"qkv: a small Transformer translator whose attention you can look inside"};
  app.name("qkv");
  app.set_version_flag("--version",
                       std::string("qkv ") + QKV_VERSION + " (LibTorch " + TORCH_VERSION + ")");
  int verbose = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "More log output (debug level)");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors in the log");
  app.require_subcommand(1);
  app.fallthrough();  // -v/-q may also follow the subcommand
  app.parse_complete_callback([&] {
    setup_logging(verbose, quiet);
    // Before any tensor exists: qkv's measured thread count and CPU settings for every
    // subcommand (train and bench apply their own --threads / train.threads again).
    configure_threads(0);
  });

  add_config_command(app);
  add_prepare_command(app);
  add_train_command(app);
  add_translate_command(app);
  add_evaluate_command(app);
  add_average_command(app);
  add_export_command(app);
  add_attention_command(app);
  add_heads_command(app);
  add_score_command(app);
  add_bench_command(app);
  add_serve_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const ExitStatus& status) {
    return status.code;
  } catch (const CLI::ParseError& e) {
    std::cerr << "qkv: error: " << e.what() << " (see qkv --help)" << std::endl;
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "qkv: error: " << first_line(e.what_without_backtrace()) << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "qkv: error: " << first_line(e.what()) << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace qkv
