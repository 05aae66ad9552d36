// The rules of the source tree, checked on the sources themselves (README "Layout"):
//   - which folder may include which: model/ is LibTorch only; data/ knows no model, training
//     or CLI; data/io/ is torch-free; train/ and inference/ know nothing of app/;
//   - QKV_NO_FUSED is read in exactly one place (model/kernels/dispatch.cpp);
//   - no function in the library folders is longer than 80 lines.
// Which targets link cairo is checked by CMake at configure time (top-level CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kRoot = QKV_SOURCE_DIR;
constexpr size_t kMaxFunctionLines = 80;

// The source folders (C++ files), relative to the repository root, with their files.
std::vector<fs::path> sources_under(const std::string& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(kRoot / folder)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".h" || ext == ".cpp")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string repo_path(const fs::path& path) { return fs::relative(path, kRoot).string(); }

// Every `#include "..."` and `#include <...>` of `folder`'s files that starts with one of
// `forbidden` (e.g. "train/"), as "file: include" lines.
std::vector<std::string> forbidden_includes(const std::string& folder,
                                            const std::vector<std::string>& forbidden) {
  static const std::regex include(R"(^\s*#\s*include\s*["<]([^">]+)[">])");
  std::vector<std::string> found;
  for (const auto& file : sources_under(folder)) {
    for (const auto& line : lines_of(file)) {
      std::smatch match;
      if (!std::regex_search(line, match, include)) continue;
      const std::string target = match[1];
      for (const auto& prefix : forbidden) {
        if (target.rfind(prefix, 0) == 0) found.push_back(repo_path(file) + ": " + target);
      }
    }
  }
  return found;
}

TEST(SourceTree, ModelIncludesOnlyLibTorchAndItself) {
  EXPECT_EQ(forbidden_includes(
                "model",
                {"data/", "train/", "inference/", "app/", "yaml-cpp/", "spdlog/", "sentencepiece"}),
            std::vector<std::string>{});
}

TEST(SourceTree, DataKnowsNoModelTrainingOrCli) {
  EXPECT_EQ(forbidden_includes("data", {"model/", "train/", "inference/", "app/"}),
            std::vector<std::string>{});
}

TEST(SourceTree, DataIoIsTorchFreeAndSelfContained) {
  EXPECT_EQ(forbidden_includes("data/io",
                               {"torch/",
                                "ATen/",
                                "c10/",
                                "model/",
                                "train/",
                                "inference/",
                                "app/",
                                "data/batching",
                                "data/dataset",
                                "data/tokenizer"}),
            std::vector<std::string>{});
}

TEST(SourceTree, TrainAndInferenceKnowNothingOfTheCli) {
  EXPECT_EQ(forbidden_includes("train", {"app/", "cairo"}), std::vector<std::string>{});
  EXPECT_EQ(forbidden_includes("inference", {"app/", "cairo"}), std::vector<std::string>{});
}

TEST(SourceTree, MetricsAreTorchFree) {
  EXPECT_EQ(forbidden_includes("train/metrics", {"torch/", "ATen/", "c10/", "model/"}),
            std::vector<std::string>{});
}

TEST(SourceTree, TheFusedSwitchIsReadInOnePlace) {
  std::vector<std::string> readers;
  for (const auto* folder : {"model", "data", "train", "inference", "app"}) {
    for (const auto& file : sources_under(folder)) {
      for (const auto& line : lines_of(file)) {
        if (line.find("getenv(\"QKV_NO_FUSED\")") != std::string::npos) {
          readers.push_back(repo_path(file));
        }
      }
    }
  }
  EXPECT_EQ(readers, std::vector<std::string>{"model/kernels/dispatch.cpp"});
}

// A function definition starts at column 0 (the tree is clang-formatted: namespaces are not
// indented) with a line that is not a type, namespace, comment or preprocessor line, and whose
// signature (possibly over several lines) ends in "{"; it ends at the next "}" in column 0.
bool starts_definition(const std::string& line) {
  if (line.empty() || std::isspace(static_cast<unsigned char>(line[0]))) return false;
  for (const char* skip : {"//",
                           "#",
                           "namespace",
                           "}",
                           "class ",
                           "struct ",
                           "enum ",
                           "union ",
                           "template <class",
                           "extern ",
                           "using ",
                           "static_assert",
                           "TORCH_"}) {
    if (line.rfind(skip, 0) == 0) return false;
  }
  return line.find('(') != std::string::npos;
}

// "file:line name (N lines)" for every function of `file` longer than kMaxFunctionLines.
std::vector<std::string> long_functions(const fs::path& file) {
  const auto lines = lines_of(file);
  std::vector<std::string> found;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!starts_definition(lines[i])) continue;
    size_t open = i;  // the signature's last line: "{" opens a body, ";" or "}" ends it
    while (open < lines.size() && lines[open].find(';') == std::string::npos &&
           (lines[open].empty() || (lines[open].back() != '{' && lines[open].back() != '}'))) {
      ++open;
    }
    if (open >= lines.size() || lines[open].empty() || lines[open].back() != '{') continue;
    size_t close = open;
    if (lines[open].find('}') == std::string::npos) {
      while (close < lines.size() && lines[close].rfind('}', 0) != 0) ++close;
    }
    const size_t length = close - i + 1;
    if (length > kMaxFunctionLines) {
      found.push_back(repo_path(file) + ":" + std::to_string(i + 1) + " " + lines[i].substr(0, 60) +
                      " (" + std::to_string(length) + " lines)");
    }
    i = close;
  }
  return found;
}

TEST(SourceTree, NoFunctionIsLongerThan80Lines) {
  std::vector<std::string> found;
  for (const auto* folder : {"model", "data", "train", "inference", "app", "serve"}) {
    for (const auto& file : sources_under(folder)) {
      if (file.extension() != ".cpp") continue;
      if (file.filename() == "unicode_tables.cpp") continue;  // generated tables, no functions
      for (auto& entry : long_functions(file)) found.push_back(std::move(entry));
    }
  }
  std::ostringstream list;
  for (const auto& entry : found) list << "\n  " << entry;
  EXPECT_TRUE(found.empty()) << "functions over " << kMaxFunctionLines << " lines:" << list.str();
}

// The scanner itself: it must see a long function, or the test above could never fail.
TEST(SourceTree, TheFunctionScannerSeesALongFunction) {
  const fs::path file = fs::temp_directory_path() / "qkv_source_tree_probe.cpp";
  {
    std::ofstream out(file);
    out << "namespace qkv {\n\nint long_one(int a,\n             int b) {\n";
    for (int i = 0; i < 90; ++i) out << "  a += b;\n";
    out << "  return a;\n}\n\nint short_one() { return 1; }\n";
    out << "Holder::Holder(int a)\n    : a_(a) {}\n\n}  // namespace qkv\n";
  }
  const auto found = long_functions(file);
  fs::remove(file);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("long_one"), std::string::npos);
  EXPECT_NE(found[0].find("(94 lines)"), std::string::npos) << found[0];
}

}  // namespace
