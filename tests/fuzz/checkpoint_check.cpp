// check_checkpoint_input (see fuzz_checks.h).
#include <string>

#include "tests/fuzz/fuzz_checks.h"
#include "tests/fuzz/fuzz_input_file.h"
#include "train/checkpoint.h"

namespace qkv::fuzz {

std::string check_checkpoint_input(std::string_view input) {
  Checkpoint checkpoint;
  try {
    checkpoint = load_checkpoint(write_input_file(input, "qkv_fuzz_checkpoint.pt"));
  } catch (const CheckpointError&) {
    return "";  // the expected outcome for a damaged or foreign file
  }
  // It loaded, so the checksum matched: saving it again must give a file that loads too.
  const auto copy = write_input_file("", "qkv_fuzz_checkpoint_copy.pt");
  save_checkpoint(checkpoint, copy);
  try {
    const Checkpoint again = load_checkpoint(copy);
    if (again.step != checkpoint.step || again.model.size() != checkpoint.model.size()) {
      return "a loaded checkpoint changed when saved and loaded again";
    }
  } catch (const CheckpointError& e) {
    return std::string("a loaded checkpoint does not load after saving it again: ") + e.what();
  }
  return "";
}

}  // namespace qkv::fuzz
