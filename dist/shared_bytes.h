// Rank 0's files for the other ranks: the tokenizer it trained and the checkpoint it resumes
// from travel through the group, so only rank 0 reads and writes the run directory and the
// machines need no shared filesystem for them.
#pragma once

#include <string>

#include "dist/process_group.h"

namespace qkv {

/// Rank 0's `bytes` on every rank (the others pass anything, e.g. ""). Waits for rank 0 as
/// ProcessGroup::wait_for_rank0(name) does, then broadcasts the length and the bytes.
std::string share_bytes_from_rank0(ProcessGroup& group, const std::string& name, std::string bytes);

}  // namespace qkv
