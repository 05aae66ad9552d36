// Ctrl-C (SIGINT) and SIGTERM during training: the first one asks the trainer to save a
// checkpoint and stop cleanly; a second one ends the process at once.
#pragma once

namespace qkv {

/// Installs the handlers for its lifetime (restores the previous ones in the destructor).
class StopSignalScope {
 public:
  StopSignalScope();
  ~StopSignalScope();
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;

  /// True once SIGINT or SIGTERM has arrived.
  static bool requested();
  /// The signal number that arrived, or 0.
  static int signal_number();
};

}  // namespace qkv
