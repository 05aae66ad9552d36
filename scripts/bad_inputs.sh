#!/usr/bin/env bash
# Runs the built qkv CLI on bad input and checks that it fails well: for every bad case, a
# non-zero exit below 128 (no crash, no core dump), no hang (bounded by `timeout`), and exactly
# one error line on stderr, "qkv: error: ...", that names the file / line / key (every other
# stderr line must be a log line). Translate input with odd characters is the opposite case:
# it must translate, exit 0 and print one output line per input line.
#
#   scripts/bad_inputs.sh            # uses build/app/qkv, or $QKV_BIN
#   QKV_BIN=build-rel/app/qkv scripts/bad_inputs.sh -v   # -v prints stderr of every case
#
# It trains two tiny runs on the test fixture corpus first (a few seconds each). Ends with
# "N passed, M failed" and exits 1 if any case failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
qkv="${QKV_BIN:-$root/build/app/qkv}"
verbose=0
[[ "${1:-}" == "-v" ]] && verbose=1
if [[ ! -x "$qkv" ]]; then
  echo "bad_inputs: $qkv is not an executable: build first (scripts/build.sh) or set QKV_BIN" >&2
  exit 2
fi
qkv="$(cd "$(dirname "$qkv")" && pwd)/$(basename "$qkv")"
fixtures="$root/tests/fixtures/data"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/qkv_bad_inputs.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
ulimit -c 0                     # a crash must show as an exit code, not fill the disk
export QKV_CACHE="$tmp/cache"   # prepared corpora of the default location stay in here
limit=120                       # seconds per command: a hang fails its case

passed=0
failed=0
failures=()

pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  failures+=("$1: $2")
  echo "FAIL $1: $2" >&2
}

# run NAME STDIN_FILE ARGS...: runs qkv; sets rc, and leaves stdout/stderr in $tmp/out, $tmp/err.
run() {
  local name="$1" stdin="$2"
  shift 2
  timeout --kill-after=5 "$limit" "$qkv" "$@" <"$stdin" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if ((verbose)); then
    echo "--- $name (exit $rc)"
    head -c 2000 "$tmp/err"
  fi
}

# expect_error NAME PATTERN ARGS...: a clear one-line failure whose message contains PATTERN.
expect_error() {
  local name="$1" pattern="$2"
  shift 2
  expect_error_stdin "$name" "$pattern" /dev/null "$@"
}

expect_error_stdin() {
  local name="$1" pattern="$2" stdin="$3"
  shift 3
  run "$name" "$stdin" "$@"
  if ((rc == 124 || rc == 137)); then fail "$name" "hung (killed after ${limit} s)"; return; fi
  if ((rc >= 128)); then fail "$name" "crashed: exit $rc (signal $((rc - 128)))"; return; fi
  if ((rc == 0)); then fail "$name" "exit 0, expected an error"; return; fi
  local errors others
  errors=$(grep -c '^qkv: error: ' "$tmp/err")
  # Everything else on stderr must be a log line "[HH:MM:SS level] ..." (no stack traces).
  others=$(grep -v -c -E '^qkv: error: |^(\x1b\[[0-9;]*m)?\[[0-9]{2}:[0-9]{2}:[0-9]{2} [a-z]+\]' "$tmp/err")
  if ((errors != 1 || others != 0)); then
    fail "$name" "expected exactly one 'qkv: error:' line and only log lines, got: $(head -c 600 "$tmp/err")"
    return
  fi
  local message
  message=$(grep '^qkv: error: ' "$tmp/err")
  if [[ "$message" != *"$pattern"* ]]; then
    fail "$name" "error line lacks '$pattern': $message"
    return
  fi
  pass
}

# expect_lines NAME N STDIN_FILE ARGS...: success with exactly N lines on stdout.
expect_lines() {
  local name="$1" lines="$2" stdin="$3"
  shift 3
  run "$name" "$stdin" "$@"
  if ((rc != 0)); then fail "$name" "exit $rc: $(grep -v '^\[' "$tmp/err" | head -c 600)"; return; fi
  local got
  got=$(wc -l <"$tmp/out")
  if ((got != lines)); then fail "$name" "expected $lines output lines, got $got"; return; fi
  pass
}

# expect_nbest NAME N K ARGS...: success; the sentence indices of the n-best lines are exactly
# 0..N-1, each with 1..K lines (an empty sentence has a single, empty hypothesis).
expect_nbest() {
  local name="$1" sentences="$2" k="$3"
  shift 3
  run "$name" /dev/null "$@"
  if ((rc != 0)); then fail "$name" "exit $rc: $(grep -v '^\[' "$tmp/err" | head -c 600)"; return; fi
  local counts
  counts=$(cut -f1 "$tmp/out" | uniq -c | awk -v n="$sentences" -v k="$k" \
    '{ if ($2 != NR - 1 || $1 < 1 || $1 > k) bad = 1 } END { print (bad || NR != n) ? "bad" : "ok" }')
  if [[ $counts != ok ]]; then fail "$name" "n-best lines do not cover sentences 0..$((sentences - 1))"; return; fi
  pass
}

# --- fixtures ------------------------------------------------------------------------------
mkdir -p "$tmp/in" && cd "$tmp/in" || exit 2
train_files=(--set data.corpus=files
  --set "data.train_source=$fixtures/small.en" --set "data.train_target=$fixtures/small.de"
  --set "data.valid_source=$fixtures/small.en" --set "data.valid_target=$fixtures/small.de")
tiny=(--config "$root/configs/en-de-tiny.yaml" --set data.vocab_size=100 --set train.max_steps=4
  --set train.warmup_steps=2 --set train.validate_every=2 --set train.valid_max_sentences=4)
# corpus_case NAME SRC TGT: the train arguments that read SRC/TGT as the training corpus.
corpus_args() {
  echo --set "data.train_source=$2" --set "data.train_target=$3" \
    --set "data.prepared_dir=$tmp/prepared_$1" --run-dir "$tmp/runs/$1"
}

echo "[bad_inputs] training two tiny runs on the fixture corpus"
for run_name in good other; do
  extra=()
  [[ $run_name == other ]] && extra=(--set data.vocab_size=60 --set model.d_model=32 --set model.d_ff=64)
  if ! timeout "$limit" "$qkv" -q train "${tiny[@]}" "${train_files[@]}" \
    --set "data.prepared_dir=$tmp/prepared_$run_name" "${extra[@]}" \
    --run-dir "$tmp/$run_name" >/dev/null 2>"$tmp/train.err"; then
    echo "bad_inputs: the tiny training run failed: $(cat "$tmp/train.err")" >&2
    exit 1
  fi
done
good="$tmp/good"
other="$tmp/other"
ckpt="$(find "$good/checkpoints" -name 'step-*.pt' | sort -V | tail -n 1)"
size=$(stat -c %s "$ckpt")

# --- 1. configs ----------------------------------------------------------------------------
: >empty.yaml
printf '# only a comment\n' >comment.yaml
printf 'model:\n  d_model: 64\n   num_heads: 4\n' >syntax.yaml
printf 'model:\n  d_model: [64\n' >unclosed.yaml
printf 'model:\n  d_modle: 64\n' >unknown_key.yaml
printf 'modle:\n  d_model: 64\n' >unknown_section.yaml
printf 'model:\n  d_model: sixty-four\n' >wrong_type.yaml
printf 'train:\n  learning_rate: fast\n' >wrong_type_float.yaml
printf 'model:\n  d_model: 64\n  d_ff: -5\n' >negative.yaml
printf 'data:\n  vocab_size: 0\n' >zero_vocab.yaml
printf 'model:\n  d_model: 0\n' >zero_d_model.yaml
printf 'train:\n  max_tokens: -1\n' >negative_tokens.yaml
printf 'model:\n  d_model: 64\n  num_heads: 5\n' >heads.yaml
printf 'model:\n  d_model: 64\n  d_model: 32\n' >duplicate.yaml
printf 'model: 64\n' >section_scalar.yaml
printf -- '- a\n- b\n' >list.yaml
printf 'model:\n  dropout: .nan\n' >nan.yaml
printf 'model:\n  d_model: 99999999999999999999999\n' >overflow.yaml
head -c 3000 /dev/urandom >binary.yaml

expect_error config-empty "empty.yaml: the config is empty" config empty.yaml
expect_error config-only-comment "comment.yaml: the config is empty" config comment.yaml
expect_error config-yaml-syntax "syntax.yaml:3: YAML syntax error" config syntax.yaml
expect_error config-unclosed-list "unclosed.yaml:" config unclosed.yaml
expect_error config-unknown-key "unknown_key.yaml:2: model.d_modle: unknown key" config unknown_key.yaml
expect_error config-unknown-section "unknown_section.yaml:1: modle: unknown section" config unknown_section.yaml
expect_error config-wrong-type "wrong_type.yaml:2: model.d_model: expected an integer" config wrong_type.yaml
expect_error config-wrong-type-float "train.learning_rate: expected a number" config wrong_type_float.yaml
expect_error config-negative-size "negative.yaml:3: model.d_ff: must be > 0, got -" config negative.yaml
expect_error config-zero-vocab "zero_vocab.yaml:2: data.vocab_size: must be at least 8" config zero_vocab.yaml
expect_error config-zero-d-model "model.d_model: must be > 0, got 0" config zero_d_model.yaml
expect_error config-negative-tokens "train.max_tokens: must be positive" config negative_tokens.yaml
expect_error config-heads-divide "model.num_heads: 5 does not divide model.d_model 64" config heads.yaml
expect_error config-duplicate-key "duplicate.yaml:3: model.d_model: duplicate key" config duplicate.yaml
expect_error config-section-not-map "model: expected a mapping" config section_scalar.yaml
expect_error config-not-a-mapping "list.yaml:1: expected a mapping" config list.yaml
expect_error config-nan "model.dropout: expected a finite number" config nan.yaml
expect_error config-int-overflow "model.d_model: expected an integer" config overflow.yaml
expect_error config-binary-file "binary.yaml" config binary.yaml
expect_error config-missing-file "nope.yaml: cannot read the config file" config nope.yaml
expect_error config-directory "$tmp/in: cannot read the config file" config "$tmp/in"
expect_error set-malformed "--set model.d_model: expected SECTION.KEY=VALUE" config --set model.d_model
expect_error set-unknown-key "model.d_modle: unknown key" config --set model.d_modle=3
expect_error set-bad-value "--set model.d_model=[: value is not valid YAML" config --set "model.d_model=["
expect_error train-heads-divide "model.num_heads: 6 does not divide model.d_model 64" \
  train --config "$root/configs/en-de-tiny.yaml" --set model.num_heads=6 --run-dir "$tmp/runs/h"

# --- 2. corpora ----------------------------------------------------------------------------
head -n 30 "$fixtures/small.de" >short.de
{ head -n 3 "$fixtures/small.en"; printf 'Caf\xe9 au lait.\n'; tail -n +5 "$fixtures/small.en"; } >latin1.en
: >empty.en
: >empty.de
printf '\n\n   \n\n' >blank.en
printf '\n\n\n\n' >blank.de
printf '\037\213\010\000broken' >broken.en.gz
mkdir -p dir.en

# shellcheck disable=SC2046
expect_error corpus-missing-file "$tmp/in/missing.en: no such file" \
  train "${tiny[@]}" "${train_files[@]}" $(corpus_args missing "$tmp/in/missing.en" "$fixtures/small.de")
# shellcheck disable=SC2046
expect_error corpus-line-counts "line counts differ: $fixtures/small.en has 40 lines but $tmp/in/short.de has 30" \
  train "${tiny[@]}" "${train_files[@]}" $(corpus_args counts "$fixtures/small.en" "$tmp/in/short.de")
# shellcheck disable=SC2046
expect_error corpus-invalid-utf8 "$tmp/in/latin1.en:4: invalid UTF-8" \
  train "${tiny[@]}" "${train_files[@]}" $(corpus_args latin1 "$tmp/in/latin1.en" "$fixtures/small.de")
# shellcheck disable=SC2046
expect_error corpus-empty "no training sentence pairs: $tmp/in/empty.en and $tmp/in/empty.de" \
  train "${tiny[@]}" "${train_files[@]}" $(corpus_args empty "$tmp/in/empty.en" "$tmp/in/empty.de")
# shellcheck disable=SC2046
expect_error corpus-only-empty-lines "no training sentence pairs" \
  train "${tiny[@]}" "${train_files[@]}" $(corpus_args blank "$tmp/in/blank.en" "$tmp/in/blank.de")
# shellcheck disable=SC2046
expect_error corpus-empty-validation "no validation sentence pairs: $tmp/in/empty.en and $tmp/in/empty.de" \
  train "${tiny[@]}" "${train_files[@]}" --set "data.valid_source=$tmp/in/empty.en" \
  --set "data.valid_target=$tmp/in/empty.de" $(corpus_args novalid "$fixtures/small.en" "$fixtures/small.de")
# shellcheck disable=SC2046
expect_error corpus-broken-gzip "broken.en.gz" \
  train "${tiny[@]}" "${train_files[@]}" $(corpus_args gzip "$tmp/in/broken.en.gz" "$fixtures/small.de")
# shellcheck disable=SC2046
expect_error corpus-is-directory "$tmp/in/dir.en: no such file" \
  train "${tiny[@]}" "${train_files[@]}" $(corpus_args dir "$tmp/in/dir.en" "$fixtures/small.de")
# shellcheck disable=SC2046
expect_error vocab-too-large "SentencePiece training failed: Vocabulary size too high" \
  train "${tiny[@]}" "${train_files[@]}" --set data.vocab_size=5000 \
  $(corpus_args vocab "$fixtures/small.en" "$fixtures/small.de")
expect_error prepare-missing-ding "not found: install Debian's trans-de-en package" \
  prepare --corpus ding-en-de --raw-dir "$tmp/in" --out "$tmp/prepared_ding"
# A training run that fails before its first checkpoint removes the run directory it created.
if [[ -d "$tmp/runs" && -n "$(ls -A "$tmp/runs")" ]]; then
  fail corpus-cleanup "failed runs left directories behind: $(ls "$tmp/runs")"
else
  pass
fi

# --- 3. run directories and checkpoints ----------------------------------------------------
mkdir -p empty_run/checkpoints
cp "$good/config.yaml" "$good/spm.model" empty_run/
expect_error run-missing "run directory $tmp/in/nothing does not exist" translate --model "$tmp/in/nothing" Hello.
expect_error run-without-checkpoint "run directory $tmp/in/empty_run has no checkpoint" \
  translate --model "$tmp/in/empty_run" Hello.
expect_error resume-without-checkpoint "has no checkpoint (start without --resume)" \
  train --resume --run-dir "$tmp/in/empty_run"
expect_error run-not-a-run "has no config.yaml" translate --model "$tmp/in" Hello.
for cut in 0 1 100 $((size / 4)) $((size / 2)) $((size - 100)) $((size - 1)); do
  head -c "$cut" "$ckpt" >"trunc-$cut.pt"
  expect_error "checkpoint-truncated-$cut" "trunc-$cut.pt is " \
    translate --model "$good" --checkpoint "$tmp/in/trunc-$cut.pt" Hello.
done
# One bit flipped inside the first tensor (records start at byte 0, data after a 64-byte header).
cp "$ckpt" flipped.pt
byte=$(od -An -tu1 -j 200 -N 1 "$ckpt" | tr -d ' ')
printf '%b' "\\x$(printf %02x $((byte ^ 1)))" | dd of=flipped.pt bs=1 seek=200 conv=notrunc status=none
expect_error checkpoint-bit-flip "flipped.pt is corrupted (checksum mismatch)" \
  translate --model "$good" --checkpoint "$tmp/in/flipped.pt" Hello.
head -c 5000 /dev/urandom >random.pt
expect_error checkpoint-random-bytes "random.pt is truncated or not a qkv checkpoint" \
  translate --model "$good" --checkpoint "$tmp/in/random.pt" Hello.
cp "$root/configs/en-de-tiny.yaml" text.pt
expect_error checkpoint-text-file "text.pt is truncated or not a qkv checkpoint" \
  translate --model "$good" --checkpoint "$tmp/in/text.pt" Hello.
expect_error checkpoint-missing "checkpoint $tmp/in/missing.pt does not exist" \
  translate --model "$good" --checkpoint "$tmp/in/missing.pt" Hello.
mkdir -p dir.pt
expect_error checkpoint-directory "dir.pt does not exist or cannot be read" translate --model "$good" --checkpoint "$tmp/in/dir.pt" Hello.
# Another run's checkpoint (other vocabulary and width): its tokenizer is not this run's.
other_ckpt="$(find "$other/checkpoints" -name 'step-*.pt' | sort -V | tail -n 1)"
expect_error checkpoint-other-run "was not trained with $good/spm.model" \
  translate --model "$good" --checkpoint "$other_ckpt" Hello.
# A run directory whose latest checkpoint is garbage: `last` fails clearly.
cp -r "$good" broken_run
cp random.pt broken_run/checkpoints/step-999.pt
expect_error run-latest-checkpoint-garbage "step-999.pt is truncated or not a qkv checkpoint" \
  translate --model "$tmp/in/broken_run" --checkpoint last Hello.
# Resuming with another architecture or vocabulary than the checkpoint's.
cp -r "$good" wide_run
expect_error resume-other-architecture "does not match the model" \
  train --resume --run-dir "$tmp/in/wide_run" --set model.d_model=32 --set model.d_ff=64
cp -r "$good" vocab_run
cp "$other/spm.model" vocab_run/spm.model
expect_error resume-other-vocabulary "is not the tokenizer the checkpoint was trained with" \
  train --resume --run-dir "$tmp/in/vocab_run"
expect_error translate-other-vocabulary "tokenizer CRC-32 differs" translate --model "$tmp/in/vocab_run" Hello.
cp -r "$good" nospm_run
rm nospm_run/spm.model
expect_error run-without-tokenizer "has no spm.model" translate --model "$tmp/in/nospm_run" Hello.
expect_error train-existing-run "already has checkpoints: pass --resume" \
  train "${tiny[@]}" "${train_files[@]}" --run-dir "$good"

# --- 4. translate flags and output ---------------------------------------------------------
expect_error translate-beam-0 "--beam: must be at least 1, got 0" translate --model "$good" --beam 0 Hello.
expect_error translate-max-len-negative "--max-len: must be at least 1, got -1" \
  translate --model "$good" --max-len -1 Hello.
expect_error translate-nbest-above-beam "--nbest: must be between 1 and the beam size 2" \
  translate --model "$good" --beam 2 --nbest 3 Hello.
expect_error translate-beam-over-limit "--beam: must be at most 64, got 10000" \
  translate --model "$good" --beam 10000 Hello.
expect_error translate-beam-not-a-number "--beam" translate --model "$good" --beam many Hello.
expect_error translate-missing-input "cannot read --input $tmp/in/missing.txt" \
  translate --model "$good" --input "$tmp/in/missing.txt"
touch plain_file
expect_error translate-unwritable-output "cannot write --output $tmp/in/plain_file/out.txt" \
  translate --model "$good" --output "$tmp/in/plain_file/out.txt" Hello.
expect_error translate-disk-full "cannot write --output /dev/full (disk full?)" \
  translate --model "$good" --output /dev/full Hello.
expect_error train-unwritable-run-dir "plain_file" \
  train "${tiny[@]}" "${train_files[@]}" --set "data.prepared_dir=$tmp/prepared_good" \
  --run-dir "$tmp/in/plain_file/run"
# A checkpoint write that fails in the middle of training (here: a folder where step-2.pt goes).
mkdir -p "$tmp/in/blocked_run/checkpoints/step-2.pt"
expect_error train-checkpoint-write-fails "cannot write $tmp/in/blocked_run/checkpoints/step-2.pt" \
  train "${tiny[@]}" "${train_files[@]}" --set "data.prepared_dir=$tmp/prepared_good" \
  --run-dir "$tmp/in/blocked_run"
expect_error evaluate-mismatched-files "$tmp/in/short.de have 30; they must be line-aligned" \
  evaluate --model "$good" --src "$fixtures/small.en" --ref "$tmp/in/short.de"
expect_error score-missing-file "missing.txt" score --hyp "$fixtures/small.de" --ref "$tmp/in/missing.txt"

# --- 5. odd characters: translated, one line out per line in -----------------------------
{
  printf 'I like tea \xf0\x9f\x8d\xb5 and coffee \xf0\x9f\x98\x80!\n'       # emoji
  printf '\xe6\x88\x91\xe5\x96\x9c\xe6\xac\xa2\xe5\x96\x9d\xe8\x8c\xb6\xe3\x80\x82\n'  # CJK
  printf '\xd7\x90\xd7\xa0\xd7\x99 \xd7\x90\xd7\x95\xd7\x94\xd7\x91 \xd7\xaa\xd7\x94\n'  # Hebrew (RTL)
  printf '\xd8\xa3\xd8\xad\xd8\xa8 \xd8\xa7\xd9\x84\xd8\xb4\xd8\xa7\xd9\x8a\n'       # Arabic (RTL)
  printf 'Cafe\xcc\x81 nai\xcc\x88ve Zoe\xcc\x88 a\xcc\x8a\xcc\x81\n'               # combining marks
  printf 'The \xe2\x80\xaeRTL override\xe2\x80\xac and \xe2\x80\x8bzero width.\n'  # bidi controls
  printf 'Bell\a back\b escape\x1b[31m red\x1b[0m delete\x7f form\f tab\tend\n'  # control chars
  printf 'A NUL \000 inside \000\000 the line.\n'                                # NUL bytes
  printf 'Invalid \xff\xfe UTF-8 \xc3\x28 bytes.\n'                              # not UTF-8
  printf '\n'                                                                    # empty
  printf '   \n'                                                                 # spaces only
  printf 'The house is big.\r\n'                                                 # CRLF
  head -c 100000 /dev/zero | tr '\0' 'a'; printf '\n'                           # 100 kB, one word
  for _ in $(seq 12500); do printf 'The cat '; done; printf '\n'                # 100 kB of words
} >odd.txt
odd_lines=$(wc -l <odd.txt)
expect_lines translate-odd-stdin "$odd_lines" odd.txt -q translate --model "$good" --max-len 8
expect_lines translate-odd-file-beam "$odd_lines" /dev/null -q translate --model "$good" --beam 3 \
  --max-len 8 --input "$tmp/in/odd.txt"
expect_nbest translate-odd-nbest "$odd_lines" 2 -q translate --model "$good" --beam 2 --nbest 2 \
  --max-len 8 --input "$tmp/in/odd.txt"
expect_lines translate-odd-arguments 5 /dev/null -q translate --model "$good" --max-len 8 \
  "$(printf '\xf0\x9f\x8d\xb5\xf0\x9f\x98\x80')" "$(printf '\xe6\x88\x91\xe5\x96\x9c')" \
  "$(printf '\xd7\x90\xd7\xa0\xd7\x99')" "$(printf 'e\xcc\x81\xcc\x88')" "$(printf '\x01\x02\x1b')"
printf 'no newline at the end' >no_newline.txt
expect_lines translate-no-final-newline 1 no_newline.txt -q translate --model "$good" --max-len 8
expect_lines translate-empty-input 0 /dev/null -q translate --model "$good"

# --- summary -------------------------------------------------------------------------------
echo "[bad_inputs] $passed passed, $failed failed"
((failed == 0)) || {
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
}
