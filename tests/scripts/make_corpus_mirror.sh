#!/usr/bin/env bash
# Builds file:// mirrors of the upstream repositories that scripts/get_multi30k.sh and
# scripts/get_tatoeba.sh download from, out of the shared copies in SHARED (../shared/data):
#   OUT/multi30k/data/task1/{raw/*.gz, tok/*}   as github.com/multi30k/dataset lays them out
#   OUT/tatoeba/datasets/helsinki_nlp/tatoeba/testsets/{deu-eng,eng-rus}/tatoeba-test-v2021-08-07.*
#       as Helsinki-NLP/OPUS-MT-testsets lays them out
# The Tatoeba files are made upstream-shaped: stray whitespace, one rus_Latn pair and one
# duplicate pair are put back in, so the script's processing has something to undo and the
# result must still match the shared files' SHA-256 sums.
# Usage: make_corpus_mirror.sh SHARED OUT
set -euo pipefail
shared="$1"
out="$2"

# Multi30k: train.*.gz byte for byte; val/test compressed; tok/train.* decompressed.
raw="$out/multi30k/data/task1/raw"
tok="$out/multi30k/data/task1/tok"
mkdir -p "$raw" "$tok"
for language in en de; do
  cp "$shared/multi30k/train.$language.gz" "$raw/"
  gzip -dc "$shared/multi30k/tok/train.lc.norm.tok.$language.gz" >"$tok/train.lc.norm.tok.$language"
  for split in val test_2016_flickr test_2017_flickr test_2017_mscoco test_2018_flickr; do
    gzip -c "$shared/multi30k/$split.$language" >"$raw/$split.$language.gz"
    cp "$shared/multi30k/tok/$split.lc.norm.tok.$language" "$tok/"
  done
done

# upstream_shaped ENGLISH OTHER LABEL OUT_PREFIX OTHER_CODE: the pair with whitespace noise on
# every 7th line (doubled inner spaces, a leading space, a trailing space and tab), pair 7
# repeated without the noise after pair 10 (a duplicate only once whitespace is collapsed),
# and, for Russian, a Latin-script pair labelled rus_Latn after pair 5.
upstream_shaped() {
  local english="$1" other="$2" label="$3" prefix="$4" code="$5"
  paste "$english" "$other" | awk -F'\t' -v label="$label" -v prefix="$prefix" -v code="$code" '
    function emit(en, x, l) {
      print en > (prefix ".eng"); print x > (prefix "." code); print l > (prefix "." code ".labels")
    }
    NR == 7 { dup_en = $1; dup_x = $2 }
    NR % 7 == 0 { gsub(/ /, "  ", $1); $2 = " " $2 " \t" }
    { emit($1, $2, label) }
    NR == 10 { emit(dup_en, dup_x, label) }
    NR == 5 && label == "rus" { emit("Hello.", "Privet.", "rus_Latn") }'
}

testsets="$out/tatoeba/datasets/helsinki_nlp/tatoeba/testsets"
mkdir -p "$testsets/deu-eng" "$testsets/eng-rus"
upstream_shaped "$shared/tatoeba/en-de.en" "$shared/tatoeba/en-de.de" deu \
  "$testsets/deu-eng/tatoeba-test-v2021-08-07" deu
upstream_shaped <(gzip -dc "$shared/tatoeba/en-ru.en.gz") <(gzip -dc "$shared/tatoeba/en-ru.ru.gz") \
  rus "$testsets/eng-rus/tatoeba-test-v2021-08-07" rus
