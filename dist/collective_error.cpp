// Wording of the group's failures (see collective_error.h).
#include "dist/collective_error.h"

#include <c10/util/Exception.h>

#include <sstream>

namespace qkv {
namespace {

// "5 s", "2.5 s": the timeout as the user gave it (train.dist_timeout_s).
std::string seconds_text(std::chrono::milliseconds timeout) {
  std::ostringstream text;
  text << static_cast<double>(timeout.count()) / 1000.0 << " s";
  return text.str();
}

bool is_timeout(const std::string& cause) {
  return cause.find("imed out") != std::string::npos || cause.find("imeout") != std::string::npos;
}

}  // namespace

std::string first_line_without_location(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  // Gloo: "[../third_party/gloo/gloo/transport/tcp/pair.cc:598] Connection closed by peer ..."
  if (!line.empty() && line.front() == '[') {
    const auto close = line.find("] ");
    if (close != std::string::npos && line.rfind(':', close) != std::string::npos) {
      line = line.substr(close + 2);
    }
  }
  return line;
}

std::string short_cause(const std::exception& error) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&error)) {
    return first_line_without_location(torch_error->what_without_backtrace());
  }
  return first_line_without_location(error.what());
}

std::string describe_rendezvous_failure(const DistributedEnv& env,
                                        std::chrono::milliseconds timeout,
                                        const std::string& cause) {
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
         ": no rendezvous at MASTER_ADDR:MASTER_PORT=" + env.master_addr + ":" +
         std::to_string(env.master_port) + " within " + seconds_text(timeout) + " (did all " +
         std::to_string(env.world_size) + " ranks start?): " + cause;
}

std::string describe_collective_failure(const std::string& operation,
                                        int rank,
                                        int world_size,
                                        std::chrono::milliseconds timeout,
                                        const std::string& cause) {
  const std::string who = "rank " + std::to_string(rank) + " of " + std::to_string(world_size);
  const bool only_peer_known = world_size == 2;
  const std::string peer =
      only_peer_known ? "rank " + std::to_string(1 - rank) : std::string("a peer");
  std::string what;
  if (is_timeout(cause)) {
    what = peer + " did not answer within " + seconds_text(timeout);
  } else {
    what = only_peer_known ? "lost " + peer : "the group lost a peer";
  }
  return who + ": " + operation + " failed: " + what + " (" + cause + ")";
}

}  // namespace qkv
