// A check of the pickle in a checkpoint (data.pkl) before LibTorch 1.13's unpickler runs it.
// That unpickler trusts its input: a length field makes it reserve up to 4 GB, an opcode
// without operands reads an empty stack, a memo index sizes its memo table, and a storage's
// element count is taken from the pickle while its bytes come from a zip record of any size.
// The check walks the opcodes (pickle protocols 0-5), tracking the stack, marks and memo,
// and rejects what could make LibTorch misbehave. It is not an unpickler: it accepts what
// torch.save writes and leaves type errors to LibTorch, which throws for them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace qkv {

/// Returns "" when `pickle` is safe to give to LibTorch, else what is wrong. `storage_bytes`
/// maps each storage key of the archive (record "<archive>/data/<key>") to its size in bytes;
/// every persistent id ("storage", torch.<Type>Storage, key, location, numel) must name one
/// whose record holds numel elements. Never throws for any input.
std::string check_checkpoint_pickle(std::string_view pickle,
                                    const std::map<std::string, uint64_t>& storage_bytes);

}  // namespace qkv
