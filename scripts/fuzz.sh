#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang, -fsanitize=fuzzer,address,undefined) into
# build-fuzz/ and runs each for SECONDS (default 60), starting from its seed corpus.
#
#   scripts/fuzz.sh 60                 # every target, 60 s each
#   scripts/fuzz.sh 600 checkpoint     # one target (config, ding, checkpoint, checkpoint_pickle)
#
# The growing corpus is kept in build-fuzz/fuzz-corpus/<target>/ (reused by the next run) and
# crashing inputs go to build-fuzz/fuzz-crashers/<target>/: copy one to
# tests/reliability/crashers/<target>/ once fixed, so the regression test replays it.
# Prints one line per target (seconds, executions, crashes) and exits 1 if any crashed.
# Needs Debian's clang and libclang-rt-14-dev. Not part of scripts/test.sh (it takes long).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${QKV_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(config ding checkpoint checkpoint_pickle)
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh SECONDS [config|ding|checkpoint|checkpoint_pickle ...]" >&2
  exit 2
fi
for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool not found: apt-get install clang libclang-rt-14-dev" >&2; exit 2; }
done

mkdir -p "$build"
if ! CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DQKV_FUZZ=ON -DQKV_BUILD_TESTS=OFF >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  exit 1
fi
cmake --build "$build" -j "${QKV_JOBS:-2}" --target "${targets[@]/%/_fuzzer}" || exit 1

# LibTorch is not built with ASan: its one-off allocations at start-up are not leaks of ours.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
status=0
for target in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$target"
  crashers="$build/fuzz-crashers/$target"
  log="$build/fuzz-$target.log"
  mkdir -p "$corpus" "$crashers"
  before=$(find "$crashers" -type f | wc -l)
  # Crashers found (and fixed) before are seeds too: they sit next to the bugs.
  fixed=()
  [[ -d "$root/tests/reliability/crashers/$target" ]] && fixed=("$root/tests/reliability/crashers/$target")
  # -timeout: an input taking 25 s is a hang; -rss_limit_mb: LibTorch alone needs ~500 MB.
  "$build/tests/fuzz/${target}_fuzzer" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$crashers/" "$corpus" "$root/tests/fuzz/corpus/$target" \
    "${fixed[@]}" >"$log" 2>&1
  rc=$?
  executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
  crashes=$(($(find "$crashers" -type f | wc -l) - before))
  echo "[fuzz] $target: ${seconds} s, ${executions:-?} executions, $crashes new crashers (exit $rc, log $log)"
  if ((rc != 0 || crashes > 0)); then
    status=1
    grep -E -m 3 'ERROR|SUMMARY|_fuzzer: ' "$log" | sed 's/^/[fuzz]   /'
  fi
done
exit "$status"
