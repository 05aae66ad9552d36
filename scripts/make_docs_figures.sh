#!/usr/bin/env bash
# Regenerates every picture in docs/ (docs/images/) from a trained run directory, with the
# commands shown in docs/attention.md:
#   scripts/make_docs_figures.sh [RUN_DIR]        default RUN_DIR: runs/en-de-small
# Environment: QKV_BIN (default: build/app/qkv), QKV_DOCS_SENTENCE (the example sentence),
# QKV_DOCS_RU_RUN (the English-Russian run of the Russian example; default runs/tatoeba-en-ru,
# skipped with a message where it is missing), QKV_DOCS_RU_SENTENCE, QKV_DOCS_HEADS_RUN (the
# Multi30k run of "Which heads matter"; default runs/multi30k-en-de, skipped where missing;
# `qkv heads` takes about 3 minutes on RUN_DIR and 10 on it), QKV_DOCS_HEADS_SENTENCE.
# The explorer screenshots need Chromium (apt-get install chromium); without it they are
# skipped with a message and the heatmaps are still made.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run="${1:-$root/runs/en-de-small}"
qkv="${QKV_BIN:-$root/build/app/qkv}"
sentence="${QKV_DOCS_SENTENCE:-The weather is nice today.}"
images="$root/docs/images"
[[ -x "$qkv" ]] || { echo "error: no qkv binary at $qkv (scripts/build.sh, or set QKV_BIN)" >&2; exit 1; }
[[ -d "$run/checkpoints" ]] || { echo "error: $run is not a trained run directory" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$images"

# 1. Every map of the example sentence (the model's own beam-search translation).
(set -x; "$qkv" attention --model "$run" --out "$work/out" --vectors "$sentence")
last_enc=$(( $(ls "$work/out/0/png" | grep -c '^encoder\..*\.self_attn\.png$') - 1 ))
last_dec=$(( $(ls "$work/out/0/png" | grep -c '^decoder\..*\.cross_attn\.png$') - 1 ))
png="$work/out/0/png"
cp "$png/decoder.$last_dec.cross_attn.png"      "$images/cross_attention_heads.png"
cp "$png/decoder.$last_dec.cross_attn.mean.png" "$images/cross_attention_mean.png"
cp "$png/decoder.0.cross_attn.mean.png"         "$images/cross_attention_layer0_mean.png"
cp "$png/encoder.$last_enc.self_attn.png"       "$images/encoder_self_attention_heads.png"
cp "$png/decoder.0.self_attn.png"               "$images/decoder_self_attention_heads.png"
"$qkv" attention --model "$run" --align "$sentence" > "$images/alignment.txt"

# 2. The explorer, as a browser shows it (and its training timeline, when the run has one).
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
shoot() {  # shoot URL FILE HEIGHT
  local profile; profile="$(mktemp -d)"
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --window-size="1400,$3" \
    --screenshot="$2" "$1" >/dev/null 2>&1
  rm -rf "$profile"
}
if [[ -n "$browser" ]]; then
  shoot "file://$work/out/index.html" "$images/explorer.png" 2300
  if [[ -n "$(ls "$run/attention" 2>/dev/null)" ]]; then
    shoot "file://$work/out/index.html#timeline" "$images/explorer_timeline.png" 720
  fi
else
  echo "note: Chromium not found: explorer screenshots not regenerated" >&2
fi
# 3. The Russian example (docs/attention.md, section 8): Cyrillic labels on the query axis.
ru_run="${QKV_DOCS_RU_RUN:-$root/runs/tatoeba-en-ru}"
ru_sentence="${QKV_DOCS_RU_SENTENCE:-I do not know where Tom lives.}"
if [[ -d "$ru_run/checkpoints" ]]; then
  (set -x; "$qkv" attention --model "$ru_run" --out "$work/ru" "$ru_sentence")
  last_ru=$(( $(ls "$work/ru/0/png" | grep -c '^decoder\..*\.cross_attn\.png$') - 1 ))
  cp "$work/ru/0/png/decoder.$last_ru.cross_attn.mean.png" "$images/en_ru_cross_attention_mean.png"
  "$qkv" -q attention --model "$ru_run" --show "$ru_sentence" > "$images/en_ru_show.txt"
else
  echo "note: no English-Russian run at $ru_run: the Russian example not regenerated" >&2
fi
# 4. Which heads matter (docs/attention.md, section 9): `qkv heads` on RUN_DIR and on a Multi30k
# run, and the maps of the Multi30k run's most and least important sites for one sentence.
heads_figures() {  # heads_figures RUN NAME: images/heads_NAME{.txt,_importance.png,_pruning.png}
  (set -x; "$qkv" heads --model "$1" --out "$work/heads_$2" > "$images/heads_$2.txt")
  cp "$work/heads_$2/importance.png" "$images/heads_$2_importance.png"
  cp "$work/heads_$2/pruning.png" "$images/heads_$2_pruning.png"
}
heads_figures "$run" en_de_small
heads_run="${QKV_DOCS_HEADS_RUN:-$root/runs/multi30k-en-de}"
heads_sentence="${QKV_DOCS_HEADS_SENTENCE:-A man in a blue shirt is standing on a ladder.}"
if [[ -d "$heads_run/checkpoints" ]]; then
  heads_figures "$heads_run" multi30k
  (set -x; "$qkv" attention --model "$heads_run" --out "$work/heads_maps" "$heads_sentence")
  cp "$work/heads_maps/0/png/decoder.0.self_attn.png" "$images/heads_multi30k_decoder0_self.png"
  cp "$work/heads_maps/0/png/encoder.2.self_attn.png" "$images/heads_multi30k_encoder2_self.png"
else
  echo "note: no Multi30k run at $heads_run: its head-importance figures not regenerated" >&2
fi
echo "pictures written to $images:"
ls -l "$images"
