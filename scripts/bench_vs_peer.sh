#!/usr/bin/env bash
# Side-by-side speed of qkv and the plain-PyTorch peer (../shared/bench/peer_transformer.py):
# same machine, same torch, same shapes, run alternately (peer, qkv, peer, qkv, ...), medians
# of ROUNDS runs each. Prints a Markdown table with the ratios qkv / peer, and qkv's bf16 and
# int8 lines (README, "Low precision on the CPU"; the peer has no such mode, so these compare
# with the peer's fp32 and with qkv's own fp32), and qkv's data-parallel training on 2 local
# processes (`--nproc 2`, same global batch) against its own single process and the peer.
# Usage: scripts/bench_vs_peer.sh [ROUNDS=3] [extra shape flags for both, e.g. --batch 32]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
shift || true
qkv="${QKV_BIN:-${QKV_BUILD_DIR:-$root/build}/app/qkv}"
peer="${QKV_PEER:-$root/../shared/bench/peer_transformer.py}"
python=/usr/bin/python3
[[ -x "$qkv" ]] || { echo "bench_vs_peer: $qkv not built (run scripts/build.sh)" >&2; exit 1; }
[[ -f "$peer" ]] || { echo "bench_vs_peer: peer not found at $peer (set QKV_PEER)" >&2; exit 1; }
"$python" -c "import torch" 2>/dev/null || { echo "bench_vs_peer: needs python3-torch (apt-get install python3-torch)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

run() {  # run NAME COMMAND...: appends the JSON line to $out/NAME
  local name="$1"; shift
  "$@" >>"$out/$name" 2>"$out/$name.err" || { cat "$out/$name.err" >&2; exit 1; }
}
for ((i = 1; i <= rounds; i++)); do
  echo "[bench] round $i/$rounds" >&2
  run peer_train_t1 "$python" "$peer" train --threads 1 "$@"
  run qkv_train "$qkv" -q bench train "$@"
  run qkv_train_nproc2 "$qkv" -q bench train --nproc 2 "$@"
  run peer_train_t2 "$python" "$peer" train --threads 2 "$@"
  run peer_greedy_passive env OMP_WAIT_POLICY=PASSIVE "$python" "$peer" greedy --threads 2 "$@"
  run qkv_greedy "$qkv" -q bench greedy "$@"
  run peer_greedy_t2 "$python" "$peer" greedy --threads 2 "$@"
  run qkv_beam "$qkv" -q bench beam "$@"
  run qkv_train_bf16 "$qkv" -q bench train --precision bf16 "$@"
  run qkv_greedy_bf16 "$qkv" -q bench greedy --precision bf16 "$@"
  run qkv_greedy_int8 "$qkv" -q bench greedy --precision int8 "$@"
done
run peer_gemm "$python" "$peer" gemm --threads 1 "$@"
run qkv_gemm "$qkv" -q bench gemm "$@"

"$python" - "$out" "$rounds" <<'PY'
import json, statistics, sys, os, platform
out, rounds = sys.argv[1], int(sys.argv[2])
def load(name):
    with open(os.path.join(out, name)) as f:
        return [json.loads(line) for line in f if line.strip()]
def med(name, key):
    return statistics.median(r[key] for r in load(name))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
flags = load("qkv_train")[0].get("cpu_flags", "?")
print(f"Machine: {cpu}, {os.cpu_count()} cores (low-precision flags: {flags}); torch {load('qkv_train')[0]['torch']}; medians of {rounds} runs")
print()
print("| measure | peer (Python) | qkv (C++) | qkv / peer |")
print("|---|---|---|---|")
qt = med("qkv_train", "tokens_per_s")
for label, name in (("train tgt tokens/s, peer --threads 1 (its best)", "peer_train_t1"),
                    ("train tgt tokens/s, peer --threads 2", "peer_train_t2")):
    p = med(name, "tokens_per_s")
    print(f"| {label} | {p:,.0f} | {qt:,.0f} | {qt / p:.2f}x |")
qg = med("qkv_greedy", "sentences_per_s")
for label, name in (("greedy sentences/s, peer OMP_WAIT_POLICY=PASSIVE --threads 2 (its best)", "peer_greedy_passive"),
                    ("greedy sentences/s, peer --threads 2", "peer_greedy_t2")):
    p = med(name, "sentences_per_s")
    print(f"| {label} | {p:,.1f} | {qg:,.1f} | {qg / p:.2f}x |")
qb = med("qkv_beam", "sentences_per_s")
pb = med("peer_greedy_passive", "sentences_per_s")
print(f"| qkv beam 4 sentences/s vs peer's best greedy | {pb:,.1f} | {qb:,.1f} | {qb / pb:.2f}x |")
pt = med("peer_train_t1", "tokens_per_s")
for label, name, key, p, q32 in (
        ("train tgt tokens/s, qkv --precision bf16 vs peer --threads 1", "qkv_train_bf16", "tokens_per_s", pt, qt),
        ("greedy sentences/s, qkv --precision bf16 vs peer's best", "qkv_greedy_bf16", "sentences_per_s", pb, qg),
        ("greedy sentences/s, qkv --precision int8 vs peer's best", "qkv_greedy_int8", "sentences_per_s", pb, qg)):
    q = med(name, key)
    print(f"| {label} ({q / q32:.2f}x qkv's fp32) | {p:,.1f} | {q:,.1f} | {q / p:.2f}x |")
q2 = med("qkv_train_nproc2", "tokens_per_s")
share = med("qkv_train_nproc2", "all_reduce_share")
print(f"| train tgt tokens/s, qkv --nproc 2 (same global batch; {share:.0%} all-reduce; {q2 / qt:.2f}x qkv's 1 process) "
      f"vs peer --threads 1 | {pt:,.0f} | {q2:,.0f} | {q2 / pt:.2f}x |")
gemm = load("qkv_gemm")[0]["mm_1024x1024x1024"]["gflops_best"]
pgemm = load("peer_gemm")[0]["mm_1024x1024x1024"]["gflops_best"]
qf = med("qkv_train", "gflops_per_s")
pf = med("peer_train_t1", "gflops_per_s")
print(f"| fp32 GEMM 1024^3 GFLOP/s (best) | {pgemm:,.0f} | {gemm:,.0f} | |")
print(f"| train GFLOP/s (peer formula); MFU vs GEMM | {pf:,.0f} ({pf / pgemm:.0%}) | {qf:,.0f} ({qf / gemm:.0%}) | {qf / pf:.2f}x |")
PY
