// Corpus locations (see corpus_paths.h).
#include "data/corpus_paths.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace qkv {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

bool is_file(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

bool is_folder(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_directory(path, error);
}

}  // namespace

std::filesystem::path cache_root() {
  if (const std::string qkv_cache = environment("QKV_CACHE"); !qkv_cache.empty()) {
    return qkv_cache;
  }
  if (const std::string xdg = environment("XDG_CACHE_HOME"); !xdg.empty()) {
    return std::filesystem::path(xdg) / "qkv";
  }
  if (const std::string home = environment("HOME"); !home.empty()) {
    return std::filesystem::path(home) / ".cache" / "qkv";
  }
  throw std::runtime_error("no cache folder: set QKV_CACHE (or HOME), or set data.prepared_dir");
}

std::filesystem::path default_prepared_dir(const std::string& corpus) {
  return cache_root() / "corpora" / corpus;
}

std::vector<std::filesystem::path> raw_dir_candidates(const std::string& name) {
  std::vector<std::filesystem::path> candidates;
  // Each folder once, however it was reached (run from the source tree, cwd/.. and the source
  // tree's parent are the same folder).
  const auto add = [&candidates](const std::filesystem::path& folder) {
    const std::filesystem::path normal = folder.lexically_normal();
    if (std::find(candidates.begin(), candidates.end(), normal) == candidates.end()) {
      candidates.push_back(normal);
    }
  };
  if (const std::string data_dir = environment("QKV_DATA_DIR"); !data_dir.empty()) {
    add(std::filesystem::path(data_dir) / name);
  }
  try {
    add(cache_root() / "data" / name);
  } catch (const std::runtime_error&) {
    // No cache folder: the other candidates may still hold the data.
  }
  std::error_code error;
  const std::filesystem::path cwd = std::filesystem::current_path(error);
  if (!error) {
    add(cwd.parent_path() / "shared" / "data" / name);
    add(cwd / "shared" / "data" / name);
  }
  add(std::filesystem::path(QKV_DATA_SOURCE_DIR).parent_path() / "shared" / "data" / name);
  return candidates;
}

std::filesystem::path find_raw_dir(const std::string& configured,
                                   const std::string& name,
                                   const std::string& marker_file,
                                   const std::string& where_hint) {
  if (!configured.empty()) {
    if (!is_folder(configured)) {
      throw std::runtime_error("data.raw_dir " + configured + ": no such folder");
    }
    return configured;
  }
  std::string tried;
  for (const auto& candidate : raw_dir_candidates(name)) {
    if (is_file(candidate / marker_file) || is_file(candidate / (marker_file + ".gz"))) {
      return candidate;
    }
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  throw std::runtime_error("raw " + name + " files not found (looked for " + marker_file + " in " +
                           tried + "): " + where_hint + ", or set data.raw_dir (or QKV_DATA_DIR)");
}

std::filesystem::path plain_or_gzip(const std::filesystem::path& dir, const std::string& file) {
  const std::filesystem::path plain = dir / file;
  if (is_file(plain)) return plain;
  std::filesystem::path gzip = plain;
  gzip += ".gz";
  if (is_file(gzip)) return gzip;
  throw std::runtime_error(plain.string() + " (or " + gzip.filename().string() + "): no such file");
}

}  // namespace qkv
