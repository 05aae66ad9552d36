// check_checkpoint_input (see fuzz_checks.h).
#include <caffe2/serialize/inline_container.h>

#include <string>
#include <vector>

#include "tests/fuzz/fuzz_checks.h"
#include "tests/fuzz/fuzz_input_file.h"
#include "train/checkpoint/checkpoint.h"

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

std::string check_checkpoint_pickle_input(std::string_view input) {
  std::vector<char> archive;
  caffe2::serialize::PyTorchStreamWriter writer([&archive](const void* data, size_t size) {
    archive.insert(
        archive.end(), static_cast<const char*>(data), static_cast<const char*>(data) + size);
    return size;
  });
  writer.writeRecord("data.pkl", input.data(), input.size());
  static const std::vector<char> storage(64, '\x3c');
  for (int key = 0; key < 8; ++key) {
    writer.writeRecord("data/" + std::to_string(key), storage.data(), storage.size());
  }
  writer.writeEndOfFile();
  return check_checkpoint_input(std::string_view(archive.data(), archive.size()));
}

}  // namespace qkv::fuzz
