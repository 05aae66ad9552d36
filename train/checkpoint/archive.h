// Checks of a checkpoint file's bytes before LibTorch parses them. A torch.save file is a zip
// archive of stored (uncompressed) records: data.pkl (the pickled dict) and one record per
// tensor storage, data/<key>. LibTorch 1.13 does not verify the records' CRC-32s, and its
// unpickler trusts data.pkl (see pickle.h): a flipped bit in a length field made it
// reserve 4 GB (found by tests/fuzz/checkpoint_fuzzer). So load_checkpoint first verifies every
// record's CRC-32, then data.pkl. Not a full zip reader: it accepts what torch.save writes.
#pragma once

#include <string>
#include <string_view>

namespace qkv {

enum class ArchiveStatus {
  kOk,         // every record matches its CRC-32 and data.pkl is well-formed
  kCorrupted,  // a record's bytes do not match its CRC-32 (damaged on disk or in transfer)
  kMalformed,  // not a zip archive, truncated, compressed records, or an unsafe data.pkl
};

struct ArchiveCheck {
  ArchiveStatus status = ArchiveStatus::kOk;
  std::string detail;  // what is wrong, e.g. "record archive/data/3: CRC-32 mismatch"
};

/// Verifies the torch.save zip archive held in `bytes` (see the file comment). Never throws
/// for any content.
ArchiveCheck check_checkpoint_archive(std::string_view bytes);

}  // namespace qkv
