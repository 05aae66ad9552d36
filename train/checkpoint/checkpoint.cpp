#include "train/checkpoint/checkpoint.h"

#include <ATen/core/Dict.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/serialize.h>

#include <fstream>
#include <set>
#include <sstream>

#include "data/io/atomic_file.h"
#include "data/io/crc32.h"
#include "model/torch_compat.h"
#include "train/checkpoint/archive.h"

namespace qkv {
namespace {

constexpr const char* kFormat = "qkv-checkpoint-1";

// CRC-32 over every field, in a fixed order, so that any change to the payload shows.
class PayloadCrc {
 public:
  void add(const std::string& text) {
    crc_.add(text);
    crc_.add(std::string_view("\0", 1));
  }
  void add(int64_t value) { add(std::to_string(value)); }
  void add(double value) {
    crc_.add(std::string_view(reinterpret_cast<const char*>(&value), sizeof(value)));
  }
  void add(const torch::Tensor& tensor) {
    const auto t = tensor.contiguous();
    std::ostringstream header;
    header << t.scalar_type() << t.sizes();
    add(header.str());
    crc_.add(std::string_view(static_cast<const char*>(t.data_ptr()),
                              static_cast<size_t>(t.numel()) * t.element_size()));
  }
  std::string hex() const { return crc32_hex(crc_.value()); }

 private:
  Crc32 crc_;
};

std::string checksum(const Checkpoint& c) {
  PayloadCrc crc;
  for (const auto* group : {&c.model, &c.optimizer}) {
    for (const auto& [name, tensor] : *group) {
      crc.add(name);
      crc.add(tensor);
    }
  }
  for (const auto& [name, value] : c.optimizer_steps) {
    crc.add(name);
    crc.add(value);
  }
  crc.add(c.step);
  crc.add(c.epoch);
  crc.add(c.batch);
  crc.add(c.elapsed_seconds);
  if (c.rng_state.defined()) crc.add(c.rng_state);
  crc.add(c.config_yaml);
  crc.add(c.tokenizer_crc32);
  for (const auto& [name, value] : c.metrics) {
    crc.add(name);
    crc.add(value);
  }
  crc.add(c.best_score);
  crc.add(c.bad_validations);
  return crc.hex();
}

c10::impl::GenericDict tensor_dict(const NamedTensors& tensors) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, tensor] : tensors) dict.insert(name, tensor);
  return dict;
}

// LibTorch's unpickler sets sizes, strides and offset from the file without checking them
// against the storage; a tensor reaching outside it would make every later read go astray.
void check_inside_storage(const torch::Tensor& t,
                          const std::string& what,
                          const std::string& file) {
  bool ok = t.storage_offset() >= 0;
  int64_t last = t.storage_offset();  // index of the element furthest into the storage
  bool empty = false;
  for (int64_t d = 0; d < t.dim() && ok; ++d) {
    int64_t reach = 0;
    ok = t.size(d) >= 0 && t.stride(d) >= 0;
    empty = empty || t.size(d) == 0;
    if (ok && t.size(d) > 0) {
      ok = !__builtin_mul_overflow(t.size(d) - 1, t.stride(d), &reach) &&
           !__builtin_add_overflow(last, reach, &last);
    }
  }
  int64_t bytes = 0;
  ok = ok && (empty || (!__builtin_mul_overflow(last + 1, t.element_size(), &bytes) &&
                        static_cast<size_t>(bytes) <= t.storage().nbytes()));
  if (!ok) {
    throw CheckpointError("checkpoint " + file + " is not a qkv checkpoint (tensor '" + what +
                          "' lies outside its storage)");
  }
}

NamedTensors tensors_of(const c10::IValue& value, const std::string& file) {
  NamedTensors tensors;
  for (const auto& entry : value.toGenericDict()) {
    tensors.emplace_back(entry.key().toStringRef(), entry.value().toTensor());
    check_inside_storage(tensors.back().second, tensors.back().first, file);
  }
  return tensors;
}

// torch::pickle_save, less its type tags. It wraps every dict in
// torch.jit._pickle.restore_type_tag, a global that torch.load(weights_only=True) (the default
// since PyTorch 2.6) refuses; untagged, the file holds only dicts, strings, numbers and
// torch._utils._rebuild_tensor_v2 calls, which every PyTorch since 1.13 loads with weights_only.
// LibTorch reads both forms back, so older checkpoints still load.
std::vector<char> pickle_without_type_tags(const c10::IValue& value) {
  std::vector<char> pickle;
  torch::jit::Pickler pickler(
      [&](const char* bytes, size_t size) { pickle.insert(pickle.end(), bytes, bytes + size); },
      /*tensor_table=*/nullptr,
      /*type_renamer=*/nullptr,
      /*memoized_class_types=*/nullptr,
      /*get_tensor_id=*/nullptr,
      /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(value);
  pickler.stop();
  std::vector<char> file;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t size) {
    file.insert(
        file.end(), static_cast<const char*>(bytes), static_cast<const char*>(bytes) + size);
    return size;
  });
  torch::jit::writeArchiveAndTensors(
      "data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
  return file;
}

// Real numbers are stored as 0-dim float64 tensors: PyTorch 1.13's weights-only unpickler has
// no float opcode (BINFLOAT), and a tensor keeps every bit of the double.
torch::Tensor number(double value) { return torch::scalar_tensor(value, torch::kFloat64); }

// A number as number() stores it, or as a plain float (checkpoints written before).
double number_of(const c10::IValue& value) {
  if (value.isDouble()) return value.toDouble();
  const torch::Tensor& tensor = value.toTensor();
  if (tensor.numel() != 1 || tensor.scalar_type() != torch::kFloat64)
    throw std::runtime_error("not a number");
  return tensor.item<double>();
}

}  // namespace

NamedTensors module_state(const torch::nn::Module& module) {
  NamedTensors state;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    state.emplace_back(item.key(), item.value().detach().to(torch::kCPU));
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    state.emplace_back(item.key(), item.value().detach().to(torch::kCPU));
  }
  return state;
}

void load_module_state(torch::nn::Module& module,
                       const NamedTensors& state,
                       const std::string& source) {
  std::map<std::string, torch::Tensor> saved(state.begin(), state.end());
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  auto copy_into = [&](const std::string& name, torch::Tensor& target) {
    auto it = saved.find(name);
    if (it == saved.end()) {
      throw CheckpointError("checkpoint " + source + " does not match the model: it has no '" +
                            name + "' (another architecture?)");
    }
    if (it->second.sizes() != target.sizes()) {
      std::ostringstream message;
      message << "checkpoint " << source << " does not match the model: '" << name << "' is "
              << it->second.sizes() << " in the checkpoint, " << target.sizes()
              << " in the model (another architecture or vocabulary?)";
      throw CheckpointError(message.str());
    }
    target.copy_(it->second);
    used.insert(name);
  };
  for (auto& item : module.named_parameters(true)) copy_into(item.key(), item.value());
  for (auto& item : module.named_buffers(true)) copy_into(item.key(), item.value());
  for (const auto& [name, tensor] : saved) {
    if (!used.count(name)) {
      throw CheckpointError("checkpoint " + source + " does not match the model: unexpected '" +
                            name + "' (another architecture?)");
    }
  }
}

void store_optimizer_state(const torch::optim::Adam& optimizer,
                           const torch::nn::Module& module,
                           Checkpoint& checkpoint) {
  checkpoint.optimizer.clear();
  checkpoint.optimizer_steps.clear();
  const auto& states = optimizer.state();
  for (const auto& item : module.named_parameters(true)) {
    auto it = states.find(torch_compat::optimizer_state_key(item.value()));
    if (it == states.end()) continue;  // no step taken yet for this parameter
    const auto& adam = static_cast<const torch::optim::AdamParamState&>(*it->second);
    checkpoint.optimizer.emplace_back(item.key() + ".exp_avg", adam.exp_avg().to(torch::kCPU));
    checkpoint.optimizer.emplace_back(item.key() + ".exp_avg_sq",
                                      adam.exp_avg_sq().to(torch::kCPU));
    checkpoint.optimizer_steps[item.key() + ".step"] = adam.step();
  }
}

void restore_optimizer_state(torch::optim::Adam& optimizer,
                             const torch::nn::Module& module,
                             const Checkpoint& checkpoint,
                             const std::string& source) {
  std::map<std::string, torch::Tensor> saved(checkpoint.optimizer.begin(),
                                             checkpoint.optimizer.end());
  auto& states = optimizer.state();
  states.clear();
  for (const auto& item : module.named_parameters(true)) {
    auto avg = saved.find(item.key() + ".exp_avg");
    auto avg_sq = saved.find(item.key() + ".exp_avg_sq");
    auto step = checkpoint.optimizer_steps.find(item.key() + ".step");
    if (avg == saved.end() || avg_sq == saved.end() || step == checkpoint.optimizer_steps.end()) {
      if (checkpoint.step == 0) continue;
      throw CheckpointError("checkpoint " + source + " has no optimizer state for '" + item.key() +
                            "'");
    }
    if (avg->second.sizes() != item.value().sizes()) {
      throw CheckpointError("checkpoint " + source + ": optimizer state of '" + item.key() +
                            "' has the wrong shape");
    }
    auto state = std::make_unique<torch::optim::AdamParamState>();
    state->step(step->second);
    state->exp_avg(avg->second.to(item.value().device(), /*non_blocking=*/false, /*copy=*/true));
    state->exp_avg_sq(
        avg_sq->second.to(item.value().device(), /*non_blocking=*/false, /*copy=*/true));
    states[torch_compat::optimizer_state_key(item.value())] = std::move(state);
  }
}

void save_checkpoint(const Checkpoint& c, const std::filesystem::path& path) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  dict.insert("format", std::string(kFormat));
  dict.insert("model", tensor_dict(c.model));
  dict.insert("optimizer", tensor_dict(c.optimizer));
  c10::impl::GenericDict steps(c10::StringType::get(), c10::IntType::get());
  for (const auto& [name, value] : c.optimizer_steps) steps.insert(name, value);
  dict.insert("optimizer_steps", steps);
  dict.insert("step", c.step);
  dict.insert("epoch", c.epoch);
  dict.insert("batch", c.batch);
  dict.insert("elapsed_seconds", number(c.elapsed_seconds));
  dict.insert("rng_state", c.rng_state.defined() ? c.rng_state : torch::empty({0}, torch::kUInt8));
  dict.insert("config", c.config_yaml);
  dict.insert("tokenizer_crc32", c.tokenizer_crc32);
  c10::impl::GenericDict metrics(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, value] : c.metrics) metrics.insert(name, number(value));
  dict.insert("metrics", metrics);
  dict.insert("best_score", number(c.best_score));
  dict.insert("bad_validations", c.bad_validations);
  dict.insert("checksum", checksum(c));
  const std::vector<char> bytes = pickle_without_type_tags(c10::IValue(dict));
  write_file_atomically(path, std::string_view(bytes.data(), bytes.size()));
}

std::string read_checkpoint_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code error;
  if (!in || std::filesystem::is_directory(path, error))
    throw CheckpointError("checkpoint " + path.string() + " does not exist or cannot be read");
  try {
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {  // libstdc++ throws from the iterator on a read error
    throw CheckpointError("checkpoint " + path.string() + " cannot be read: " + e.what());
  }
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  return parse_checkpoint(read_checkpoint_bytes(path), path.string());
}

Checkpoint parse_checkpoint(std::string_view bytes, const std::string& name) {
  // LibTorch's reader trusts the file; check the zip records' CRC-32s and data.pkl first.
  const ArchiveCheck archive = check_checkpoint_archive(bytes);
  if (archive.status == ArchiveStatus::kCorrupted) {
    throw CheckpointError("checkpoint " + name + " is corrupted (checksum mismatch)");
  }
  if (archive.status == ArchiveStatus::kMalformed) {
    throw CheckpointError("checkpoint " + name + " is truncated or not a qkv checkpoint (" +
                          archive.detail + ")");
  }
  c10::IValue root;
  try {
    root = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception&) {
    throw CheckpointError("checkpoint " + name +
                          " is truncated or not a qkv checkpoint (unreadable)");
  }
  Checkpoint c;
  std::string stored_checksum;
  try {
    if (!root.isGenericDict()) throw std::runtime_error("not a dict");
    const auto dict = root.toGenericDict();
    if (!dict.contains("format") || dict.at("format").toStringRef() != kFormat) {
      throw CheckpointError("checkpoint " + name + " is not a qkv checkpoint (no '" + kFormat +
                            "' format tag)");
    }
    c.model = tensors_of(dict.at("model"), name);
    c.optimizer = tensors_of(dict.at("optimizer"), name);
    for (const auto& entry : dict.at("optimizer_steps").toGenericDict()) {
      c.optimizer_steps[entry.key().toStringRef()] = entry.value().toInt();
    }
    c.step = dict.at("step").toInt();
    c.epoch = dict.at("epoch").toInt();
    c.batch = dict.at("batch").toInt();
    c.elapsed_seconds = number_of(dict.at("elapsed_seconds"));
    c.rng_state = dict.at("rng_state").toTensor();
    check_inside_storage(c.rng_state, "rng_state", name);
    if (c.rng_state.numel() == 0) c.rng_state = torch::Tensor();
    c.config_yaml = dict.at("config").toStringRef();
    c.tokenizer_crc32 = dict.at("tokenizer_crc32").toStringRef();
    for (const auto& entry : dict.at("metrics").toGenericDict()) {
      c.metrics[entry.key().toStringRef()] = number_of(entry.value());
    }
    c.best_score = number_of(dict.at("best_score"));
    c.bad_validations = dict.at("bad_validations").toInt();
    stored_checksum = dict.at("checksum").toStringRef();
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception&) {
    throw CheckpointError("checkpoint " + name +
                          " is not a qkv checkpoint (missing or mistyped fields)");
  }
  if (checksum(c) != stored_checksum) {
    throw CheckpointError("checkpoint " + name + " is corrupted (checksum mismatch)");
  }
  return c;
}

}  // namespace qkv
