#!/usr/bin/env bash
# The test command: installs what is needed (scripts/setup.sh), builds, and runs the whole
# GoogleTest suite with ctest, ending with ctest's summary. Works from any directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QKV_SETUP_QUIET=1 QKV_SETUP_TESTS=1 "$root/scripts/setup.sh"
start=$(date +%s)
"$root/scripts/build.sh"
echo "[test] build took $(($(date +%s) - start)) s"
start=$(date +%s)
ctest --test-dir "${QKV_BUILD_DIR:-$root/build}" --output-on-failure --timeout 900 -j "$(nproc)" "$@"
echo "[test] tests took $(($(date +%s) - start)) s"
