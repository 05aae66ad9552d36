#include "train/stop_signal.h"

#include <atomic>
#include <csignal>

namespace qkv {
namespace {

std::atomic<int> g_signal{0};  // only state a signal handler may touch
struct sigaction g_previous_int;
struct sigaction g_previous_term;

extern "C" void on_stop_signal(int number) {
  if (g_signal.exchange(number) != 0) {
    // Second signal: give up on a clean stop.
    std::signal(number, SIG_DFL);
    std::raise(number);
  }
}

}  // namespace

StopSignalScope::StopSignalScope() {
  g_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

StopSignalScope::~StopSignalScope() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

bool StopSignalScope::requested() { return g_signal.load() != 0; }
int StopSignalScope::signal_number() { return g_signal.load(); }

}  // namespace qkv
