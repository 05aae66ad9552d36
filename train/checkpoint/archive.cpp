// The zip and pickle checks of archive.h. Every read is bounds-checked against the
// input; offsets are 64-bit so no sum of two fields can wrap.
//   1. find the end-of-central-directory record (zip64 when torch.save wrote one's markers);
//   2. for every central directory entry: the local header and the stored bytes lie inside the
//      file, and their CRC-32 matches the directory's;
//   3. check data.pkl against the storage records (pickle.h).
#include "train/checkpoint/archive.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "data/io/crc32.h"
#include "train/checkpoint/pickle.h"

namespace qkv {
namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint64_t kMaxUint16 = 0xFFFF;
constexpr uint64_t kMaxUint32 = 0xFFFFFFFF;

// Little-endian fields of a byte string, bounds-checked.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  uint64_t size() const { return data_.size(); }
  bool has(uint64_t offset, uint64_t length) const {
    return offset <= data_.size() && length <= data_.size() - offset;
  }
  // Precondition: has(offset, width).
  uint64_t read(uint64_t offset, int width) const {
    uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) {
      value = (value << 8) | static_cast<unsigned char>(data_[offset + static_cast<uint64_t>(i)]);
    }
    return value;
  }
  std::string_view slice(uint64_t offset, uint64_t length) const {
    return data_.substr(offset, length);
  }

 private:
  std::string_view data_;
};

ArchiveCheck malformed(std::string detail) {
  return {ArchiveStatus::kMalformed, std::move(detail)};
}

struct Directory {
  uint64_t entries = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

// Step 1: where the central directory is, from the (zip64) end-of-directory record.
bool find_directory(const Bytes& zip, Directory& directory) {
  if (zip.size() < 22) return false;
  const uint64_t lowest = zip.size() >= 22 + kMaxUint16 ? zip.size() - 22 - kMaxUint16 : 0;
  for (uint64_t end = zip.size() - 22;; --end) {
    if (zip.read(end, 4) == kEndOfDirectory && end + 22 + zip.read(end + 20, 2) == zip.size()) {
      directory = {zip.read(end + 10, 2), zip.read(end + 16, 4), zip.read(end + 12, 4)};
      if (directory.entries != kMaxUint16 && directory.offset != kMaxUint32 &&
          directory.size != kMaxUint32) {
        return true;
      }
      // Zip64: the locator (20 bytes) just before points to the zip64 record (56 bytes).
      if (end < 20 || zip.read(end - 20, 4) != kZip64Locator) return false;
      const uint64_t record = zip.read(end - 20 + 8, 8);
      if (!zip.has(record, 56) || zip.read(record, 4) != kZip64EndOfDirectory) return false;
      directory = {zip.read(record + 32, 8), zip.read(record + 48, 8), zip.read(record + 40, 8)};
      return true;
    }
    if (end == lowest) return false;
  }
}

struct Entry {
  std::string_view name;
  uint64_t method = 0;
  uint32_t crc = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t local_header = 0;
};

// Reads the directory entry at `at` and advances `at`; false when it is not one.
bool read_entry(const Bytes& zip, uint64_t& at, uint64_t directory_end, Entry& entry) {
  if (!zip.has(at, 46) || at + 46 > directory_end || zip.read(at, 4) != kDirectoryEntry)
    return false;
  entry.method = zip.read(at + 10, 2);
  entry.crc = static_cast<uint32_t>(zip.read(at + 16, 4));
  entry.compressed_size = zip.read(at + 20, 4);
  entry.size = zip.read(at + 24, 4);
  entry.local_header = zip.read(at + 42, 4);
  const uint64_t name_length = zip.read(at + 28, 2);
  const uint64_t extra_length = zip.read(at + 30, 2);
  const uint64_t comment_length = zip.read(at + 32, 2);
  const uint64_t next = at + 46 + name_length + extra_length + comment_length;
  if (next > directory_end || !zip.has(at, next - at)) return false;
  entry.name = zip.slice(at + 46, name_length);
  // Zip64 extra field (id 1): 8-byte values for the fields that hold 0xFFFFFFFF, in order.
  for (uint64_t field = at + 46 + name_length; field + 4 <= at + 46 + name_length + extra_length;) {
    const uint64_t id = zip.read(field, 2);
    const uint64_t length = zip.read(field + 2, 2);
    uint64_t value = field + 4;
    const uint64_t field_end = value + length;
    if (field_end > at + 46 + name_length + extra_length) return false;
    if (id == 1) {
      for (uint64_t* target : {&entry.size, &entry.compressed_size, &entry.local_header}) {
        if (*target != kMaxUint32) continue;
        if (value + 8 > field_end) return false;
        *target = zip.read(value, 8);
        value += 8;
      }
    }
    field = field_end;
  }
  at = next;
  return true;
}

}  // namespace

ArchiveCheck check_checkpoint_archive(std::string_view bytes) {
  const Bytes zip(bytes);
  Directory directory;
  if (!find_directory(zip, directory) || !zip.has(directory.offset, directory.size)) {
    return malformed("not a zip archive, or its end is cut off");
  }
  const uint64_t directory_end = directory.offset + directory.size;
  uint64_t at = directory.offset;
  std::string_view pickle;
  std::map<std::string, uint64_t> storage_bytes;  // "<key>" of "<archive>/data/<key>" -> size
  // Step 2: every record, in directory order.
  for (uint64_t i = 0; i < directory.entries; ++i) {
    Entry entry;
    if (!read_entry(zip, at, directory_end, entry)) return malformed("broken zip directory");
    const std::string record(entry.name);
    if (entry.method != 0 || entry.compressed_size != entry.size) {
      return malformed("record " + record + " is compressed (torch.save stores records)");
    }
    const uint64_t header = entry.local_header;
    if (!zip.has(header, 30) || zip.read(header, 4) != kLocalHeader) {
      return malformed("record " + record + ": broken local header");
    }
    const uint64_t data = header + 30 + zip.read(header + 26, 2) + zip.read(header + 28, 2);
    if (!zip.has(data, entry.size)) return malformed("record " + record + " is cut off");
    const std::string_view content = zip.slice(data, entry.size);
    if (crc32_of(content) != entry.crc) {
      return {ArchiveStatus::kCorrupted, "record " + record + ": CRC-32 mismatch"};
    }
    const size_t slash = record.find('/');
    const std::string inside = slash == std::string::npos ? record : record.substr(slash + 1);
    if (inside == "data.pkl") pickle = content;
    if (inside.rfind("data/", 0) == 0) storage_bytes[inside.substr(5)] = entry.size;
  }
  if (pickle.data() == nullptr) return malformed("no data.pkl record");
  // Step 3.
  if (std::string problem = check_checkpoint_pickle(pickle, storage_bytes); !problem.empty()) {
    return malformed("data.pkl: " + problem);
  }
  return {};
}

}  // namespace qkv
