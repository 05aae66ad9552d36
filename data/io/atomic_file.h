// The one atomic file writer. Every file qkv writes that a reader may open later (checkpoints,
// configs, prepared corpora, tokenizer models, metrics logs, attention exports) goes through
// here, so an interrupted or failing writer never leaves a half-written file under the final name.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace qkv {

/// Writes `bytes` to `path` atomically and durably: a temporary file beside the target named
/// ".<name>.tmp-<pid>" (the trainer's stale-file cleanup looks for that name), write, fsync,
/// rename over `path`, fsync the folder. Afterwards `path` holds either its old content or all
/// of `bytes`, never a part; on failure the temporary file is removed. The folder must exist (a
/// vanished run folder is an error, not silently re-created). Throws std::runtime_error
/// "cannot write <path>: <OS error>".
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// Makes `path` another name (hard link) of the existing file `target`, atomically and durably
/// like write_file_atomically: a link under the temporary name, renamed over `path`, folder
/// synced. No bytes are copied (best.pt names a step checkpoint this way). Throws
/// std::runtime_error "cannot write <path>: <OS error>".
void link_file_atomically(const std::filesystem::path& target, const std::filesystem::path& path);

/// write_file_atomically that fails like a full disk once more than `fail_after_bytes` bytes
/// would be written. For crash-safety tests only.
void write_file_atomically_failing_after(const std::filesystem::path& path,
                                         std::string_view bytes,
                                         std::size_t fail_after_bytes);

}  // namespace qkv
