// Checks that every rank runs with the same settings (config, vocabulary, code version): each
// rank hashes its text, the hashes are gathered, and any difference stops every rank with the
// same one-line error naming the ranks that differ, before a step mixes mismatched gradients.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dist/process_group.h"

namespace qkv {

/// 64-bit FNV-1a of `text`: the same on every machine and build (std::hash is not).
uint64_t fnv1a_64(std::string_view text);

/// "" when every entry of `hash_by_rank` is the same; else one line naming which ranks hold
/// which hash, e.g. "the config differs between ranks: ranks 0, 2 have 1f0c..., rank 1 has
/// 9a3e...; start every rank with the same config".
std::string describe_disagreement(const std::string& what,
                                  const std::vector<uint64_t>& hash_by_rank);

/// Throws std::runtime_error(describe_disagreement(what, ...)) on every rank unless all ranks
/// passed the same `text`.
void check_same_on_all_ranks(ProcessGroup& group, const std::string& what, std::string_view text);

}  // namespace qkv
