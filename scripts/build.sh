#!/usr/bin/env bash
# Configures and builds qkv (Release, Ninja) into build/ (or $QKV_BUILD_DIR): everything, or
# only the targets named as arguments (scripts/build.sh qkv: the CLI without the tests).
# Extra CMake arguments can be passed through $QKV_CMAKE_ARGS, e.g. -DQKV_SANITIZE=address;undefined.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${QKV_BUILD_DIR:-$root/build}"
args=(-G Ninja -DCMAKE_BUILD_TYPE="${QKV_BUILD_TYPE:-Release}")
# CI builds treat warnings in our code as errors.
if [[ "${CI:-}" == "true" ]]; then args+=(-DQKV_WARNINGS_AS_ERRORS=ON); fi
# ccache may reuse objects compiled with the torch precompiled header.
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
# shellcheck disable=SC2086
mkdir -p "$build"
cmake -S "$root" -B "$build" "${args[@]}" ${QKV_CMAKE_ARGS:-} >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
