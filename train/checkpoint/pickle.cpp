// The pickle walk of pickle.h. Per opcode: read its arguments (bounds-checked),
// check memo ids, then apply its stack effect to a shadow stack that keeps just enough of each
// value (strings, small ints, globals, tuples) to check the storages that BINPERSID loads.
#include "train/checkpoint/pickle.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace qkv {
namespace {

// What one opcode reads from the data and does to the stack.
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

// The opcodes torch.save and Python's pickle write (Lib/pickletools.py), indexed by byte.
// PERSID, EXT*, INST, OBJ and the protocol 5 buffers are left out: LibTorch reads none of them.
const std::array<Opcode, 256>& opcodes() {
  static const std::array<Opcode, 256> table = [] {
    std::array<Opcode, 256> t{};
    const auto set = [&t](std::string_view bytes, Opcode o) {
      o.known = true;
      for (const char c : bytes) t[static_cast<unsigned char>(c)] = o;
    };
    set("N\x88\x89}])\x8f", {0, 1});     // None, True, False, empty dict/list/tuple/set
    set(".0", {1, 0});                   // STOP, POP
    set("2", {1, 2});                    // DUP
    set("Q\x85", {1, 1});                // BINPERSID, TUPLE1
    set("Rba\x81\x86\x93", {2, 1});      // REDUCE, BUILD, APPEND, NEWOBJ, TUPLE2, STACK_GLOBAL
    set("s\x87\x92", {3, 1});            // SETITEM, TUPLE3, NEWOBJ_EX
    set("K", {0, 1, 1});                 // BININT1
    set("M", {0, 1, 2});                 // BININT2
    set("J", {0, 1, 4});                 // BININT
    set("G", {0, 1, 8});                 // BINFLOAT
    set("\x80", {0, 0, 1});              // PROTO
    set("\x95", {0, 0, 8});              // FRAME
    set("UC\x8c\x8a", {0, 1, 1, true});  // short strings, bytes, LONG1
    set("TXB\x8b", {0, 1, 4, true});     // strings, bytes, LONG4
    set("\x8d\x8e", {0, 1, 8, true});    // BINUNICODE8, BINBYTES8
    set("FILSV", {0, 1, 0, false, 1});   // text literals
    set("c", {0, 1, 0, false, 2});       // GLOBAL
    set("h", {0, 1, 1, false, 0, Opcode::kNone, Opcode::kGet});     // BINGET
    set("j", {0, 1, 4, false, 0, Opcode::kNone, Opcode::kGet});     // LONG_BINGET
    set("q", {1, 1, 1, false, 0, Opcode::kNone, Opcode::kPut});     // BINPUT
    set("r", {1, 1, 4, false, 0, Opcode::kNone, Opcode::kPut});     // LONG_BINPUT
    set("\x94", {1, 1, 0, false, 0, Opcode::kNone, Opcode::kPut});  // MEMOIZE
    set("(", {0, 0, 0, false, 0, Opcode::kSet});                    // MARK
    set("1", {0, 0, 0, false, 0, Opcode::kPopToMark});              // POP_MARK
    set("tld\x91", {0, 0, 0, false, 0, Opcode::kCollect});          // TUPLE, LIST, DICT, FROZENSET
    set("eu\x90", {0, 0, 0, false, 0, Opcode::kExtend});            // APPENDS, SETITEMS, ADDITEMS
    return t;
  }();
  return table;
}

// A stack value, as far as the check needs to know it.
struct Value {
  enum Kind { kOther, kString, kInt, kGlobal, kTuple } kind = kOther;
  std::string text;          // kString: the string; kGlobal: "module.name"
  int64_t number = 0;        // kInt
  std::vector<Value> items;  // kTuple
};

// Bytes per element of the storage classes LibTorch 1.13 pickles ("torch.<Type>Storage").
int64_t element_size(const std::string& global) {
  static const std::map<std::string, int64_t> sizes = {{"torch.FloatStorage", 4},
                                                       {"torch.DoubleStorage", 8},
                                                       {"torch.HalfStorage", 2},
                                                       {"torch.BFloat16Storage", 2},
                                                       {"torch.LongStorage", 8},
                                                       {"torch.IntStorage", 4},
                                                       {"torch.ShortStorage", 2},
                                                       {"torch.CharStorage", 1},
                                                       {"torch.ByteStorage", 1},
                                                       {"torch.BoolStorage", 1},
                                                       {"torch.ComplexFloatStorage", 8},
                                                       {"torch.ComplexDoubleStorage", 16}};
  const auto it = sizes.find(global);
  return it == sizes.end() ? 0 : it->second;
}

// The persistent id of a storage: ("storage", torch.<Type>Storage, key, location, numel).
std::string check_storage(const Value& id, const std::map<std::string, uint64_t>& storage_bytes) {
  if (id.kind != Value::kTuple || id.items.size() != 5) return "a persistent id is not a 5-tuple";
  const auto& f = id.items;
  if (f[0].kind != Value::kString || f[0].text != "storage" || f[1].kind != Value::kGlobal ||
      f[2].kind != Value::kString || f[3].kind != Value::kString || f[4].kind != Value::kInt) {
    return "a persistent id is not ('storage', type, key, location, numel)";
  }
  const int64_t size = element_size(f[1].text);
  if (size == 0) return "unknown storage type " + f[1].text;
  const int64_t numel = f[4].number;
  if (numel < 0) return "storage " + f[2].text + " has a negative size";
  if (numel == 0) return "";  // LibTorch reads no record for an empty storage
  const auto record = storage_bytes.find(f[2].text);
  if (record == storage_bytes.end()) return "storage " + f[2].text + " has no record";
  if (static_cast<uint64_t>(numel) > record->second / static_cast<uint64_t>(size)) {
    return "storage " + f[2].text + " claims " + std::to_string(numel) +
           " elements but its record " + "holds " + std::to_string(record->second) + " bytes";
  }
  return "";
}

// Little-endian unsigned integer of `width` bytes at `data`.
uint64_t read_le(std::string_view data, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(data[i]);
  return value;
}

// Longest string kept on the shadow stack: storage keys and "storage" are short, and keeping
// long ones would let memo copies grow without bound.
constexpr size_t kMaxKeptText = 64;

// The value an opcode with a literal argument pushes (others push kOther).
Value literal(unsigned char op, std::string_view payload, uint64_t argument) {
  Value v;
  if (std::string_view("XUT\x8c\x8d").find(static_cast<char>(op)) != std::string_view::npos) {
    if (payload.size() <= kMaxKeptText) {
      v.kind = Value::kString;
      v.text = std::string(payload);
    }
  } else if (op == 'K' || op == 'M') {  // unsigned 1- and 2-byte ints
    v.kind = Value::kInt;
    v.number = static_cast<int64_t>(argument);
  } else if (op == 'J') {  // signed 4-byte int
    v.kind = Value::kInt;
    v.number = static_cast<int32_t>(static_cast<uint32_t>(argument));
  } else if (op == 0x8a && payload.size() <= 8) {  // LONG1: signed little-endian
    v.kind = Value::kInt;
    if (!payload.empty()) {
      const auto width = static_cast<int>(payload.size());
      const uint64_t sign = uint64_t{1} << (8 * width - 1);
      const uint64_t raw = read_le(payload, width);
      v.number = (raw & sign) != 0 && width < 8 ? static_cast<int64_t>(raw - (sign << 1))
                                                : static_cast<int64_t>(raw);
    }
  }
  return v;
}

// A tuple value keeps its items only when it may be a persistent id: at most 5 flat items.
Value tuple_of(std::vector<Value>::const_iterator begin, std::vector<Value>::const_iterator end) {
  Value v;
  v.kind = Value::kTuple;
  if (end - begin > 5) return Value{};
  for (auto it = begin; it != end; ++it) {
    v.items.push_back(it->kind == Value::kTuple ? Value{} : *it);
  }
  return v;
}

// The arguments of one opcode, read from the bytes that follow it.
struct Arguments {
  uint64_t number = 0;       // the fixed-size argument (for a payload: its length)
  std::string_view payload;  // the length-prefixed payload
  std::string lines;         // the text arguments, joined by '.' ("module.name" for GLOBAL)
};

// The walk over one pickle: the read position and the shadow stack, marks and memo.
class PickleWalk {
 public:
  PickleWalk(std::string_view pickle, const std::map<std::string, uint64_t>& storage_bytes)
      : pickle_(pickle), storage_bytes_(storage_bytes) {}

  std::string run() {
    while (at_ < pickle_.size()) {
      const uint64_t position = at_;
      if (std::optional<std::string> outcome = step(); outcome) {
        return outcome->empty() ? ""
                                : *outcome + " (opcode at byte " + std::to_string(position) + ")";
      }
    }
    return "no STOP opcode";
  }

 private:
  // One opcode: nullopt to go on, "" at STOP, else what is wrong with it.
  std::optional<std::string> step() {
    const auto op = static_cast<unsigned char>(pickle_[at_++]);
    const Opcode& o = opcodes()[op];
    if (!o.known) return "unsupported opcode";
    Arguments arguments;
    if (std::string problem = read_arguments(o, arguments); !problem.empty()) return problem;
    // LibTorch pops without checking, so an underflow must not reach it.
    if (o.mark != Opcode::kNone) return nonempty_or_nullopt(apply_mark(op, o));
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + static_cast<size_t>(o.pops)) return "stack underflow";
    if (o.memo != Opcode::kNoMemo) return nonempty_or_nullopt(apply_memo(o, arguments.number));
    return apply_value(op, o, arguments);
  }

  static std::optional<std::string> nonempty_or_nullopt(std::string problem) {
    if (problem.empty()) return std::nullopt;
    return problem;
  }

  // Step 1: the opcode's arguments, bounds-checked.
  std::string read_arguments(const Opcode& o, Arguments& arguments) {
    if (o.argument_bytes > 0) {
      if (pickle_.size() - at_ < static_cast<uint64_t>(o.argument_bytes)) return "truncated";
      arguments.number = read_le(pickle_.substr(at_), o.argument_bytes);
      at_ += static_cast<uint64_t>(o.argument_bytes);
    }
    if (o.length_prefixed) {
      if (arguments.number > pickle_.size() - at_) return "a length points past the end";
      arguments.payload = pickle_.substr(at_, arguments.number);
      at_ += arguments.number;
    }
    for (int line = 0; line < o.lines; ++line) {
      const size_t end = pickle_.find('\n', at_);
      if (end == std::string_view::npos) return "unterminated text argument";
      arguments.lines += (line > 0 ? "." : "") + std::string(pickle_.substr(at_, end - at_));
      at_ = end + 1;
    }
    return "";
  }

  // Step 2: MARK, and the opcodes that collect or extend what lies above the last MARK.
  std::string apply_mark(unsigned char op, const Opcode& o) {
    if (o.mark == Opcode::kSet) {
      marks_.push_back(stack_.size());
      return "";
    }
    if (marks_.empty()) return "no MARK for a collecting opcode";
    const size_t mark = marks_.back();
    marks_.pop_back();
    Value collected;
    if (op == 't') {
      collected = tuple_of(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    }
    stack_.resize(mark);
    if (o.mark == Opcode::kCollect) stack_.push_back(std::move(collected));
    if (o.mark == Opcode::kExtend && stack_.size() <= (marks_.empty() ? 0 : marks_.back())) {
      return "no container below the MARK";
    }
    return "";
  }

  // Step 3: memo gets and puts; LibTorch sizes its memo table by the id it reads.
  std::string apply_memo(const Opcode& o, uint64_t argument) {
    if (o.memo == Opcode::kGet) {
      if (argument >= memo_.size()) return "memo index out of range";
      stack_.push_back(memo_[argument]);
      return "";
    }
    const uint64_t id = o.argument_bytes > 0 ? argument : memo_.size();
    if (id > memo_.size()) return "memo index out of order";
    if (id == memo_.size()) memo_.emplace_back();
    memo_[id] = stack_.back();
    return "";
  }

  // Step 4: the stack effect of the other opcodes, keeping the values worth keeping
  // (literals, globals, small tuples) and checking each persistent id (BINPERSID).
  std::optional<std::string> apply_value(unsigned char op,
                                         const Opcode& o,
                                         const Arguments& arguments) {
    Value result = literal(op, arguments.payload, arguments.number);
    if (op == 'c') {
      if (arguments.lines.size() <= kMaxKeptText) {
        result.kind = Value::kGlobal;
        result.text = arguments.lines;
      }
    } else if (op == 0x85 || op == 0x86 || op == 0x87) {  // TUPLE1..3
      result = tuple_of(stack_.end() - o.pops, stack_.end());
    } else if (op == 'Q') {
      if (std::string problem = check_storage(stack_.back(), storage_bytes_); !problem.empty()) {
        return problem;
      }
    } else if (op == '.') {
      return "";  // STOP: the rest of the record is not read
    }
    stack_.resize(stack_.size() - static_cast<size_t>(o.pops));
    for (int i = 0; i < o.pushes; ++i) stack_.push_back(i == 0 ? std::move(result) : Value{});
    return std::nullopt;
  }

  std::string_view pickle_;
  const std::map<std::string, uint64_t>& storage_bytes_;
  uint64_t at_ = 0;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;  // stack size at each open MARK
  std::vector<Value> memo_;    // ids are written in order: 0, 1, 2, ...
};

}  // namespace

std::string check_checkpoint_pickle(std::string_view pickle,
                                    const std::map<std::string, uint64_t>& storage_bytes) {
  return PickleWalk(pickle, storage_bytes).run();
}

}  // namespace qkv
