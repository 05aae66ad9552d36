#!/usr/bin/env bash
# Downloads the Tatoeba English-German and English-Russian sentence pairs (Tatoeba Translation
# Challenge test sets v2021-08-07, as published in Helsinki-NLP/OPUS-MT-testsets at a pinned
# commit) and lays them out as `qkv prepare --corpus tatoeba-en-ru` reads them (the layout of
# ../shared/data/tatoeba): DIR/tatoeba/{en-de.en, en-de.de, en-ru.en.gz, en-ru.ru.gz}.
#
# Usage: scripts/get_tatoeba.sh [DIR]
#   DIR defaults to $QKV_DATA_DIR, else ~/.cache/qkv/data (where `qkv prepare` looks).
#   QKV_TATOEBA_URL replaces the base URL (the repository root at the commit), e.g. a file://
#   mirror of it; the tests use one built from ../shared/data.
#
# Licence: the sentences are from Tatoeba (https://tatoeba.org), CC BY 2.0 FR (a few CC0):
# redistribution and modification allowed, commercial use included, with attribution.
#
# What is verified: the SHA-256 of every file this script produces (the sums below, equal to
# ../shared/data/tatoeba/SHA256SUMS), after the processing of tatoeba_pairs() below.
set -euo pipefail
# shellcheck source=scripts/download_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/download_common.sh"

commit=ac0f19c0be3cb4e0d9450fcb2d7a9847c4bdd180
base_url="${QKV_TATOEBA_URL:-https://raw.githubusercontent.com/Helsinki-NLP/OPUS-MT-testsets/$commit}"
testsets="$base_url/datasets/helsinki_nlp/tatoeba/testsets"
release=tatoeba-test-v2021-08-07
dir="${1:-$(default_data_dir)}"

sums="$(
  cat <<'EOF'
a06d3300c05158e83bb5c1709a0bf5aecc2e28c895e66f03b1c914a7fdd8c8c6  ./en-de.de
5d0e3169914a5e3f4ca7bdec670880f2025385c5a7e29547d9cbd7992105e77f  ./en-de.en
6e3cf882eb91462e08a3ad1c61fb78e634b422fa0df224fd8ceb602e1a35b302  ./en-ru.en.gz
bb399bdac014ff720e235a2a22f49795df7a30acc27c5a4dff4bac3fa5169fab  ./en-ru.ru.gz
EOF
)"

readme="# Tatoeba sentence pairs: English-German and English-Russian

Downloaded by qkv's scripts/get_tatoeba.sh from $testsets
(github.com/Helsinki-NLP/OPUS-MT-testsets, commit $commit), files $release.*:
whitespace collapsed and stripped, pairs labelled rus_Latn dropped, duplicate pairs dropped.

Licence: CC BY 2.0 FR (a few sentences CC0). Attribution: sentence pairs from Tatoeba
(https://tatoeba.org), CC BY 2.0 FR, via the Tatoeba Translation Challenge test sets
v2021-08-07 (J. Tiedemann, WMT 2020), as packaged in Helsinki-NLP/OPUS-MT-testsets."

# tatoeba_pairs ENGLISH OTHER LABELS DROP_LABEL OUT_ENGLISH OUT_OTHER: the processing of the
# shared copy (../shared/data/tatoeba/README.md), line by line in the upstream order:
#   1. every run of whitespace (Unicode \s: as Python's str.split) becomes one space, and
#      leading and trailing whitespace is removed, on both sides;
#   2. a pair whose label (LABELS, one per line) is DROP_LABEL is dropped (rus_Latn: Russian
#      written in Latin letters);
#   3. a pair equal to an earlier pair (after step 1) is dropped.
# Exits 1 with one line when the three files differ in length or an output cannot be written.
tatoeba_pairs() {
  local error
  error="$(perl -CSD -Mfeature=unicode_strings -e '
    my ($english, $other, $labels, $drop, $out_english, $out_other) = @ARGV;
    my ($name) = $english =~ m{([^/]+)$};
    open(my $e, "<", $english) or die "cannot read $english: $!\n";
    open(my $o, "<", $other) or die "cannot read $other: $!\n";
    open(my $l, "<", $labels) or die "cannot read $labels: $!\n";
    open(my $oe, ">", $out_english) or die "disk: $!\n";
    open(my $oo, ">", $out_other) or die "disk: $!\n";
    my %seen;
    while (defined(my $en = <$e>)) {
      my $x = <$o>;
      my $label = <$l>;
      die "checksum: $name and its translations or labels differ in line count\n"
        unless defined $x && defined $label;
      for ($en, $x, $label) { s/\s+/ /g; s/^ //; s/ $//; }
      next if $label eq $drop || $seen{"$en\t$x"}++;
      print $oe "$en\n";
      print $oo "$x\n";
    }
    die "checksum: $name and its translations or labels differ in line count\n"
      if defined(<$o>) || defined(<$l>);
    close($oe) && close($oo) or die "disk: $!\n";
  ' "$@" 2>&1)" && return 0
  error="${error%%$'\n'*}"
  if [[ "$error" == disk:* ]]; then die_disk "$5" "${error#disk: }"; fi
  die "$error"
}

echo "Tatoeba: CC BY 2.0 FR, attribution required (see the README it writes)"
begin_corpus tatoeba "$dir" "$sums"
raw="$partial_dir/download"
for pair_and_language in deu-eng:deu eng-rus:rus; do
  pair="${pair_and_language%:*}"
  language="${pair_and_language#*:}"
  for file in eng "$language" "$language.labels"; do
    fetch "$testsets/$pair/$release.$file" "$raw/$pair.$file"
  done
done
tatoeba_pairs "$raw/deu-eng.eng" "$raw/deu-eng.deu" "$raw/deu-eng.deu.labels" "" \
  "$partial_dir/en-de.en" "$partial_dir/en-de.de"
tatoeba_pairs "$raw/eng-rus.eng" "$raw/eng-rus.rus" "$raw/eng-rus.rus.labels" rus_Latn \
  "$raw/en-ru.en" "$raw/en-ru.ru"
gzip_to "$raw/en-ru.en" "$partial_dir/en-ru.en.gz"
gzip_to "$raw/en-ru.ru" "$partial_dir/en-ru.ru.gz"
rm -rf "$raw"
finish_corpus "$sums" "$readme"
