// One-line messages for the ways a data-parallel group fails: no rendezvous with the master, and
// a collective that a lost (killed, hung) peer never completes. Pure text functions, so the
// wording is tested without processes; dist/process_group.cpp throws them.
#pragma once

#include <chrono>
#include <exception>
#include <string>

#include "dist/distributed_env.h"

namespace qkv {

/// The first line of `message` without the "[path/file.cc:123] " source location that Gloo puts
/// in front of its errors.
std::string first_line_without_location(const std::string& message);

/// LibTorch's message for `error` as one line: c10::Error's text without its C++ backtrace,
/// otherwise what(), through first_line_without_location().
std::string short_cause(const std::exception& error);

/// "rank 1 of 2: no rendezvous at MASTER_ADDR:MASTER_PORT=127.0.0.1:29500 within 5 s (did all 2
/// ranks start?): <cause>".
std::string describe_rendezvous_failure(const DistributedEnv& env,
                                        std::chrono::milliseconds timeout,
                                        const std::string& cause);

/// A collective `operation` (e.g. "all_reduce") that failed on `rank` of `world_size` with
/// `cause`. c10d does not say which peer is gone, only its socket address; in a group of two it
/// can only be the other rank, so that rank is named, else the line says the group lost a peer.
/// A cause that is a timeout says the peer did not answer within `timeout`.
std::string describe_collective_failure(const std::string& operation,
                                        int rank,
                                        int world_size,
                                        std::chrono::milliseconds timeout,
                                        const std::string& cause);

}  // namespace qkv
