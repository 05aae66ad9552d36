#!/usr/bin/env bash
# The quickstart: installs what qkv needs, builds it, prepares the default corpus (English-
# German sentence pairs from Debian's trans-de-en dictionary), trains the small model (about
# 20 minutes on 2 CPU cores), translates a few sentences, scores the test split and shows the
# cross-attention of one sentence (as a table here; pictures and an explorer in $run/maps).
# Works from any directory on Debian 12, as root or as a sudo user.
# QKV_RUN_DIR (default runs/en-de-small) and QKV_CONFIG (default configs/en-de-small.yaml)
# change what it trains; an existing run directory is resumed, not retrained.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="${QKV_CONFIG:-$root/configs/en-de-small.yaml}"
run="${QKV_RUN_DIR:-$root/runs/$(basename "$config" .yaml)}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh" qkv   # the CLI only; scripts/test.sh builds the tests too
qkv="${QKV_BUILD_DIR:-$root/build}/app/qkv"

echo "== training $config into $run"
if [[ -d "$run/checkpoints" ]] && ls "$run"/checkpoints/step-*.pt >/dev/null 2>&1; then
  "$qkv" train --run-dir "$run" --resume
else
  "$qkv" train --config "$config" --run-dir "$run"
fi

echo "== translating (greedy and beam 4)"
sentences=("Good morning." "I would like a cup of tea." "Where is the train station?"
           "The weather is nice today." "He does not know what to do.")
"$qkv" -q translate --model "$run" --beam 1 "${sentences[@]}"
echo "--"
"$qkv" -q translate --model "$run" --beam 4 "${sentences[@]}"

echo "== scoring the test split (beam 4)"
"$qkv" evaluate --model "$run" --beam 4

echo "== attention: who the target tokens (queries) look at in the source (keys)"
"$qkv" -q attention --model "$run" --beam 4 --show --out "$run/maps" "The weather is nice today."
echo "   heatmaps: $run/maps/0/png/ (one per layer and type, all heads); explorer: $run/maps/index.html"

echo "== done: $run holds the model (see README: translate, evaluate); loss curves in $run/loss.png"
echo "== live page: run  $qkv serve --model $run  and open http://127.0.0.1:8080/ (type a sentence, see its attention)"
