// The zip and pickle checks of checkpoint_archive.h. Every read is bounds-checked against the
// input; offsets are 64-bit so no sum of two fields can wrap.
//   1. find the end-of-central-directory record (zip64 when torch.save wrote one's markers);
//   2. for every central directory entry: the local header and the stored bytes lie inside the
//      file, and their CRC-32 matches the directory's;
//   3. walk data.pkl's opcodes, tracking stack depth, marks and memo size.
#include "train/checkpoint_archive.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

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

uint32_t crc32_of(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!data.empty()) {
    const auto chunk = static_cast<uInt>(std::min<size_t>(data.size(), 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()), chunk);
    data.remove_prefix(chunk);
  }
  return static_cast<uint32_t>(crc);
}

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

// --- step 3: data.pkl -----------------------------------------------------------------------

// What one pickle opcode reads from the data and does to the stack.
struct Opcode {
  int pops = 0;                  // stack items consumed (above the innermost mark)
  int pushes = 0;                // stack items produced
  int argument_bytes = 0;        // fixed-size argument, or the width of a length prefix
  bool length_prefixed = false;  // the argument is the length of a payload that follows
  int lines = 0;                 // newline-terminated text arguments
  enum Mark { kNone, kSet, kPopToMark, kCollect, kExtend } mark = kNone;
  enum Memo { kNoMemo, kPut, kGet } memo = kNoMemo;
  bool known = false;
};

// The opcodes of pickle protocols 0-5 (Python's Lib/pickletools.py), indexed by byte.
const std::array<Opcode, 256>& opcodes() {
  static const std::array<Opcode, 256> table = [] {
    std::array<Opcode, 256> t{};
    const auto set = [&t](std::string_view bytes, Opcode o) {
      o.known = true;
      for (const char c : bytes) t[static_cast<unsigned char>(c)] = o;
    };
    set("N\x88\x89}])\x8f\x97", {0, 1});   // None, True, False, empty containers, NEXT_BUFFER
    set(".0", {1, 0});                     // STOP, POP
    set("2", {1, 2});                      // DUP
    set("Q\x85\x98", {1, 1});              // BINPERSID, TUPLE1, READONLY_BUFFER
    set("Rba\x81\x86\x93", {2, 1});        // REDUCE, BUILD, APPEND, NEWOBJ, TUPLE2, STACK_GLOBAL
    set("s\x87\x92", {3, 1});              // SETITEM, TUPLE3, NEWOBJ_EX
    set("K\x82", {0, 1, 1});               // BININT1, EXT1
    set("M\x83", {0, 1, 2});               // BININT2, EXT2
    set("J\x84", {0, 1, 4});               // BININT, EXT4
    set("G", {0, 1, 8});                   // BINFLOAT
    set("\x80", {0, 0, 1});                // PROTO
    set("\x95", {0, 0, 8});                // FRAME
    set("UC\x8c\x8a", {0, 1, 1, true});    // short strings, bytes, LONG1
    set("TXB\x8b", {0, 1, 4, true});       // strings, bytes, LONG4
    set("\x8d\x8e\x96", {0, 1, 8, true});  // BINUNICODE8, BINBYTES8, BYTEARRAY8
    set("FILSVP", {0, 1, 0, false, 1});    // text literals, PERSID
    set("c", {0, 1, 0, false, 2});         // GLOBAL
    set("h", {0, 1, 1, false, 0, Opcode::kNone, Opcode::kGet});     // BINGET
    set("j", {0, 1, 4, false, 0, Opcode::kNone, Opcode::kGet});     // LONG_BINGET
    set("g", {0, 1, 0, false, 1, Opcode::kNone, Opcode::kGet});     // GET
    set("q", {1, 1, 1, false, 0, Opcode::kNone, Opcode::kPut});     // BINPUT
    set("r", {1, 1, 4, false, 0, Opcode::kNone, Opcode::kPut});     // LONG_BINPUT
    set("p", {1, 1, 0, false, 1, Opcode::kNone, Opcode::kPut});     // PUT
    set("\x94", {1, 1, 0, false, 0, Opcode::kNone, Opcode::kPut});  // MEMOIZE
    set("(", {0, 0, 0, false, 0, Opcode::kSet});                    // MARK
    set("1", {0, 0, 0, false, 0, Opcode::kPopToMark});              // POP_MARK
    set("tld\x91o", {0, 0, 0, false, 0, Opcode::kCollect});  // TUPLE, LIST, DICT, FROZENSET, OBJ
    set("i", {0, 0, 0, false, 2, Opcode::kCollect});         // INST
    set("eu\x90", {0, 0, 0, false, 0, Opcode::kExtend});     // APPENDS, SETITEMS, ADDITEMS
    return t;
  }();
  return table;
}

}  // namespace

std::string check_pickle_structure(std::string_view pickle) {
  const Bytes data(pickle);
  uint64_t at = 0;
  uint64_t depth = 0;           // items on the stack
  std::vector<uint64_t> marks;  // depth at each open MARK
  uint64_t memo_entries = 0;    // memo ids are written in order: 0, 1, 2, ...
  while (at < data.size()) {
    const uint64_t position = at;
    const auto op = static_cast<unsigned char>(pickle[at++]);
    const Opcode& o = opcodes()[op];
    if (!o.known) return "unknown opcode at byte " + std::to_string(position);
    const auto where = [&] { return " (opcode at byte " + std::to_string(position) + ")"; };
    uint64_t argument = 0;
    if (o.argument_bytes > 0) {
      if (!data.has(at, static_cast<uint64_t>(o.argument_bytes))) return "truncated" + where();
      argument = data.read(at, o.argument_bytes);
      at += static_cast<uint64_t>(o.argument_bytes);
    }
    if (o.length_prefixed) {
      if (!data.has(at, argument)) return "a length points past the end" + where();
      at += argument;
    }
    for (int line = 0; line < o.lines; ++line) {
      const size_t end = pickle.find('\n', at);
      if (end == std::string_view::npos) return "unterminated text argument" + where();
      at = end + 1;
    }
    // Memo ids are written in order 0, 1, 2, ...; LibTorch sizes its memo by the id it reads.
    if (o.memo == Opcode::kGet && o.argument_bytes > 0 && argument >= memo_entries)
      return "memo index out of range" + where();
    if (o.memo == Opcode::kPut) {
      const uint64_t id = o.argument_bytes > 0 ? argument : memo_entries;
      if (id > memo_entries) return "memo index out of order" + where();
      memo_entries = std::max(memo_entries, id + 1);
    }
    const uint64_t floor = marks.empty() ? 0 : marks.back();
    if (o.mark == Opcode::kSet) {
      marks.push_back(depth);
    } else if (o.mark != Opcode::kNone) {
      if (marks.empty()) return "no MARK for a collecting opcode" + where();
      depth = marks.back();
      marks.pop_back();
      if (o.mark == Opcode::kCollect) ++depth;  // the new tuple, list, dict or object
      if (o.mark == Opcode::kExtend && depth <= (marks.empty() ? 0 : marks.back()))
        return "no container below the MARK" + where();
    } else {
      if (depth < floor + static_cast<uint64_t>(o.pops)) return "stack underflow" + where();
      depth = depth - static_cast<uint64_t>(o.pops) + static_cast<uint64_t>(o.pushes);
    }
    if (op == '.') return "";  // STOP: the rest of the record is not read
  }
  return "no STOP opcode";
}

ArchiveCheck check_checkpoint_archive(std::string_view bytes) {
  const Bytes zip(bytes);
  Directory directory;
  if (!find_directory(zip, directory) || !zip.has(directory.offset, directory.size)) {
    return malformed("not a zip archive, or its end is cut off");
  }
  const uint64_t directory_end = directory.offset + directory.size;
  uint64_t at = directory.offset;
  bool has_pickle = false;
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
    const std::string suffix = "/data.pkl";
    if (record.size() >= suffix.size() &&
        record.compare(record.size() - suffix.size(), suffix.size(), suffix) == 0) {
      if (std::string problem = check_pickle_structure(content); !problem.empty())
        return malformed("record " + record + ": " + problem);
      has_pickle = true;
    }
  }
  if (!has_pickle) return malformed("no data.pkl record");
  return {};
}

}  // namespace qkv
