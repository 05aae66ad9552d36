// Same-settings check (see agreement.h): FNV-1a hash, all_gather, one message for all ranks.
#include "dist/agreement.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace qkv {
namespace {

std::string hex(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

// "rank 1", "ranks 0, 2".
std::string rank_list(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

}  // namespace

uint64_t fnv1a_64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV offset basis
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;  // FNV prime
  }
  return hash;
}

std::string describe_disagreement(const std::string& what,
                                  const std::vector<uint64_t>& hash_by_rank) {
  // Ranks grouped by hash, in order of each hash's first rank.
  std::vector<std::pair<uint64_t, std::vector<int>>> groups;
  for (std::size_t rank = 0; rank < hash_by_rank.size(); ++rank) {
    const uint64_t hash = hash_by_rank[rank];
    auto group = std::find_if(
        groups.begin(), groups.end(), [&](const auto& entry) { return entry.first == hash; });
    if (group == groups.end()) group = groups.emplace(groups.end(), hash, std::vector<int>{});
    group->second.push_back(static_cast<int>(rank));
  }
  if (groups.size() <= 1) return "";
  std::string text = "the " + what + " differs between ranks: ";
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const auto& [hash, ranks] = groups[i];
    text +=
        (i ? ", " : "") + rank_list(ranks) + (ranks.size() == 1 ? " has " : " have ") + hex(hash);
  }
  return text + "; start every rank with the same " + what;
}

void check_same_on_all_ranks(ProcessGroup& group, const std::string& what, std::string_view text) {
  const uint64_t hash = fnv1a_64(text);
  int64_t as_signed = 0;  // Gloo has no uint64 tensors: the same 64 bits as int64
  std::memcpy(&as_signed, &hash, sizeof(hash));
  const auto gathered = group.all_gather(torch::tensor({as_signed}, torch::kInt64));
  std::vector<uint64_t> hash_by_rank;
  for (int rank = 0; rank < group.world_size(); ++rank) {
    const int64_t value = gathered[rank][0].item<int64_t>();
    uint64_t unsigned_value = 0;
    std::memcpy(&unsigned_value, &value, sizeof(value));
    hash_by_rank.push_back(unsigned_value);
  }
  const auto disagreement = describe_disagreement(what, hash_by_rank);
  if (!disagreement.empty()) throw std::runtime_error(disagreement);
}

}  // namespace qkv
