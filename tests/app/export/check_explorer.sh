#!/usr/bin/env bash
# Opens a qkv attention explorer page (OUT/index.html) in headless Chromium, runs its built-in
# self-test (#selftest: renders every type, layer, head and timeline step and recomputes every
# query's softmax and head output from the recorded q, k, v) and checks that the page
#   - logged no console message and no error (it logs nothing when all is well),
#   - finished (data-ready), passed its self-test,
#   - shows the expected number of heads and layers (head and layer pickers, data attributes),
#   - and, when TEXT is given, shows TEXT (UTF-8, e.g. a Cyrillic sentence) as it is in the
#     sentence line,
#   - and, when HEAD0_OFF is "head0-off" (a page recorded with head 0 of the last decoder
#     layer's cross-attention switched off, the view it opens on), labels that head switched off
#     in the head picker, above the maps and in the explainer.
# Usage: check_explorer.sh PAGE HEADS ENCODER_LAYERS DECODER_LAYERS [TIMELINE_STEPS [TEXT [HEAD0_OFF]]]
# Exit 0: pass; 77: skipped (no Chromium); anything else: failure, with the reason on stdout.
set -uo pipefail
page="$(realpath "$1")"; heads="$2"; encoder_layers="$3"; decoder_layers="$4"; steps="${5:-0}"
text="${6:-}"; head0_off="${7:-}"

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$browser" ]]; then
  echo "SKIP: Chromium not found (Debian: apt-get install chromium; scripts/setup.sh installs it)"
  exit 77
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile" --enable-logging=stderr --v=0)
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$page#selftest" \
  >"$profile/dom.html" 2>"$profile/log.txt"
status=$?
fail() { echo "FAIL: $*"; exit 1; }
[[ $status -eq 0 ]] || { cat "$profile/log.txt"; fail "chromium exited with $status"; }

console="$(grep -E 'CONSOLE|Uncaught|SyntaxError|TypeError|ReferenceError' "$profile/log.txt" || true)"
[[ -z "$console" ]] || fail "console output: $console"

body="$(grep -o '<body[^>]*>' "$profile/dom.html" | head -1)"
attr() { sed -n "s/.*$1=\"\\([^\"]*\\)\".*/\\1/p" <<<"$body"; }
[[ "$(attr data-ready)" == 1 ]] || fail "page did not finish loading: $body"
[[ -z "$(attr data-errors)" ]] || fail "$(attr data-errors) JavaScript errors"
if [[ "$(attr data-selftest)" != pass ]]; then
  report="$(sed -n '/<pre id="selftest-report"/,/<\/pre>/p' "$profile/dom.html" | head -20)"
  fail "self-test: $(attr data-selftest): $report"
fi
[[ "$(attr data-heads)" == "$heads" ]] || fail "data-heads $(attr data-heads), expected $heads"
[[ "$(attr data-encoder-layers)" == "$encoder_layers" ]] || fail "data-encoder-layers $(attr data-encoder-layers)"
[[ "$(attr data-decoder-layers)" == "$decoder_layers" ]] || fail "data-decoder-layers $(attr data-decoder-layers)"
[[ "$(attr data-timeline-steps)" == "$steps" ]] || fail "data-timeline-steps $(attr data-timeline-steps), expected $steps"

# The pickers on screen: one option per head plus the mean; one per decoder layer (the page
# opens on cross-attention).
options() { sed -n "s/.*<select id=\"$1\"[^>]*>\\(.*\\)/\\1/p" "$profile/dom.html" | sed 's/<\/select>.*//' | grep -o '<option' | wc -l; }
[[ "$(options head)" == $((heads + 1)) ]] || fail "head picker has $(options head) options, expected $((heads + 1))"
[[ "$(options layer)" == "$decoder_layers" ]] || fail "layer picker has $(options layer) options, expected $decoder_layers"
grep -q 'rows = queries, columns = keys' "$profile/dom.html" || fail "no 'rows = queries, columns = keys' on screen"
if [[ -n "$text" ]]; then  # in the sentence line on screen, not only in the embedded data
  shown="$(grep -o '<div class="sentence-text" id="sentence-text">.*' "$profile/dom.html" | sed 's/<\/div>.*//')"
  grep -qF -- "$text" <<<"$shown" || fail "'$text' is not on screen (decoded as another charset?): $shown"
fi
if [[ "$head0_off" == head0-off ]]; then
  grep -q '<option value="0"[^>]*>head 0 (switched off)</option>' "$profile/dom.html" ||
    fail "head 0 is not labelled '(switched off)' in the head picker"
  grep -q 'id="head-off-note"' "$profile/dom.html" || fail "no switched-off note above the maps"
  grep -q 'class="check off"' "$profile/dom.html" || fail "the explainer does not say the head is off"
  ! grep -q 'class="check bad"' "$profile/dom.html" || fail "the explainer shows a failed check"
fi
explained="$(attr data-explained)"
echo "PASS: $heads heads, $encoder_layers encoder and $decoder_layers decoder layers, $explained queries explained and checked, $steps timeline steps"
