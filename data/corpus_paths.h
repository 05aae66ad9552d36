// Where corpora live on disk: the cache folder for prepared splits, and the search for raw
// files of the downloadable corpora (Multi30k, Tatoeba). Never inside the git repository: these
// data sets have their own licences.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace qkv {

/// qkv's cache root: $QKV_CACHE, else $XDG_CACHE_HOME/qkv, else ~/.cache/qkv. Throws
/// std::runtime_error when none of QKV_CACHE, XDG_CACHE_HOME and HOME is set.
std::filesystem::path cache_root();

/// Default folder of prepared splits: cache_root()/corpora/<corpus>.
std::filesystem::path default_prepared_dir(const std::string& corpus);

/// Folders searched, in order, for the raw files of data set `name` ("multi30k", "tatoeba")
/// when data.raw_dir is empty: $QKV_DATA_DIR/<name>, cache_root()/data/<name> (a per-user
/// place for them), ./../shared/data/<name>, ./shared/data/<name>, and
/// <qkv source tree>/../shared/data/<name>.
std::vector<std::filesystem::path> raw_dir_candidates(const std::string& name);

/// The raw folder of data set `name`: `configured` when not empty (it must exist), else the
/// first candidate holding `marker_file` (or marker_file + ".gz"). Throws std::runtime_error
/// naming the folders tried and `where_hint` (which files to put where; it must not name a
/// script that does not exist).
std::filesystem::path find_raw_dir(const std::string& configured,
                                   const std::string& name,
                                   const std::string& marker_file,
                                   const std::string& where_hint);

/// `dir/file` if it exists, else `dir/file.gz` if that exists; throws std::runtime_error
/// naming both when neither does.
std::filesystem::path plain_or_gzip(const std::filesystem::path& dir, const std::string& file);

}  // namespace qkv
