// A trained run's files read by Python as a user would: the checkpoint with
// torch.load(weights_only=True) (the default since PyTorch 2.6), the README's own snippet, and
// `qkv export --safetensors` read by safetensors (Debian 13's python3-safetensors) or, where it
// is not packaged (Debian 12), by a 10-line reader of the format. Every number Python prints is
// compared with qkv's own load_checkpoint. Skipped with a message without python3 + torch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include "tests/app/run_command.h"
#include "tests/app/tiny_run.h"
#include "train/checkpoint/checkpoint.h"

namespace qkv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::lines_of;
using testing::read_file;
using testing::run_program;
using testing::run_qkv;

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-torch

// Prints "step", the shape and the first values of one weight, read with weights_only=True.
constexpr char kLoadWeight[] = R"(
import sys, torch
ckpt = torch.load(sys.argv[1], weights_only=True)
w = ckpt["model"][sys.argv[2]]
print(ckpt["step"], ckpt["format"], list(w.shape))
print(" ".join(repr(float(x)) for x in w.flatten()[:16]))
)";

// One line per tensor: name, shape, sum in float64; first line: which reader was used.
constexpr char kReadSafetensors[] = R"(
import sys, json, struct
import numpy as np
try:
    from safetensors.numpy import load_file
    tensors, reader = load_file(sys.argv[1]), "safetensors"
except ImportError:
    data = open(sys.argv[1], "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    kinds = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}
    tensors = {name: np.frombuffer(data[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]],
                                   dtype=kinds[e["dtype"]]).reshape(e["shape"])
               for name, e in header.items()}
    reader = "by hand"
print(reader)
for name, t in sorted(tensors.items()):
    print(name, list(t.shape), repr(float(t.astype(np.float64).sum())))
)";

bool python_has_torch() {
  return std::system((std::string(kPython) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0;
}

bool is_debian13() { return read_file("/etc/debian_version").rfind("13", 0) == 0; }

std::string shape_of(const torch::Tensor& t) {
  std::string text = "[";
  for (int64_t d = 0; d < t.dim(); ++d) text += (d ? ", " : "") + std::to_string(t.size(d));
  return text + "]";
}

class PythonReadsRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("qkv_export_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    const auto result = run_qkv(testing::train_args(*dir_), "", 600);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    if (!python_has_torch())
      GTEST_SKIP() << "python3 with torch not found (apt install python3-torch)";
  }
  static fs::path run() { return *dir_ / "run"; }
  static fs::path* dir_;
};
fs::path* PythonReadsRun::dir_ = nullptr;

TEST_F(PythonReadsRun, CheckpointLoadsWithWeightsOnlyAndEqualsQkvsOwn) {
  const fs::path best = run() / "checkpoints" / "best.pt";
  const std::string name = "decoder.layers.0.cross_attn.query_proj.weight";
  const auto result = run_program({kPython, "-c", kLoadWeight, best.string(), name});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Checkpoint checkpoint = load_checkpoint(best);
  torch::Tensor weight;
  for (const auto& [key, tensor] : checkpoint.model) {
    if (key == name) weight = tensor;
  }
  ASSERT_TRUE(weight.defined()) << name << " is not in the checkpoint";
  const auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_EQ(lines[0], std::to_string(checkpoint.step) + " qkv-checkpoint-1 " + shape_of(weight));
  std::istringstream values(lines[1]);
  const auto flat = weight.flatten();
  for (int64_t i = 0; i < 16; ++i) {
    double value = 0;
    ASSERT_TRUE(values >> value) << lines[1];
    EXPECT_EQ(value, static_cast<double>(flat[i].item<float>())) << "element " << i;
  }
}

// The README's snippet, run as written: from a folder where its path exists.
TEST_F(PythonReadsRun, ReadmeSnippetRuns) {
  const std::string readme = read_file(QKV_SOURCE_DIR "/README.md");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(readme, match, std::regex("```python\n(import torch\n[^`]*)```")))
      << "README.md has no ```python block that starts with `import torch`";
  const std::string snippet = match[1];
  std::smatch path;
  ASSERT_TRUE(std::regex_search(snippet, path, std::regex("torch\\.load\\(\"([^\"]+)\"")));
  const fs::path cwd = *dir_ / "readme";
  fs::create_directories((cwd / path[1].str()).parent_path());
  fs::copy_file(run() / "checkpoints" / "best.pt", cwd / path[1].str());
  const auto result =
      run_program({"sh", "-c", "cd '" + cwd.string() + "' && /usr/bin/python3 -c \"$0\"", snippet});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Checkpoint checkpoint = load_checkpoint(run() / "checkpoints" / "best.pt");
  EXPECT_THAT(result.out, ::testing::StartsWith(std::to_string(checkpoint.step) + " "));
  EXPECT_THAT(result.out, HasSubstr("encoder."));
}

TEST_F(PythonReadsRun, SafetensorsExportEqualsTheCheckpoint) {
  const fs::path out = *dir_ / "model.safetensors";
  const auto exported =
      run_qkv({"export", "--model", run().string(), "--safetensors", out.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_THAT(exported.out, HasSubstr("-> " + out.string()));
  const auto result = run_program({kPython, "-c", kReadSafetensors, out.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto lines = lines_of(result.out);
  ASSERT_FALSE(lines.empty());
  if (is_debian13()) {
    EXPECT_EQ(lines[0], "safetensors") << "python3-safetensors is missing";
  }
  std::map<std::string, std::string> read;  // name -> "shape sum"
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto space = lines[i].find(' ');
    read[lines[i].substr(0, space)] = lines[i].substr(space + 1);
  }
  const Checkpoint checkpoint = load_checkpoint(run() / "checkpoints" / "best.pt");
  ASSERT_EQ(read.size(), checkpoint.model.size());
  for (const auto& [name, tensor] : checkpoint.model) {
    ASSERT_TRUE(read.count(name)) << name;
    const std::string& line = read[name];
    EXPECT_EQ(line.substr(0, line.rfind(' ')), shape_of(tensor)) << name;
    const double sum = std::stod(line.substr(line.rfind(' ') + 1));
    const double expected = tensor.to(torch::kFloat64).sum().item<double>();
    EXPECT_NEAR(sum, expected, 1e-9 * (1 + std::abs(expected))) << name;
  }
}

TEST(ExportCli, MissingRunIsOneClearLine) {
  const auto result = run_qkv({"export", "--model", "/nonexistent/run", "--safetensors", "/tmp/x"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("/nonexistent/run"));
  EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
}

}  // namespace
}  // namespace qkv
