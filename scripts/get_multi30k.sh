#!/usr/bin/env bash
# Downloads Multi30k (Task 1, English-German) from the dataset's own repository at a pinned
# commit and lays it out as `qkv prepare --corpus multi30k-en-de` reads it (the layout of
# ../shared/data/multi30k): DIR/multi30k/{train.{en,de}.gz, val.*, test_*.*, tok/*}.
#
# Usage: scripts/get_multi30k.sh [DIR]
#   DIR defaults to $QKV_DATA_DIR, else ~/.cache/qkv/data (where `qkv prepare` looks).
#   QKV_MULTI30K_URL replaces the base URL (the repository root at the commit), e.g. a
#   file:// mirror of it; the tests use one built from ../shared/data.
#
# Licence: the repository has no licence file; its README says Multi30K is partly derived from
# Flickr30K and is "solely provided for researchers and educators who wish to use the dataset
# for non-commercial research and/or educational purposes". Non-commercial use only.
#
# What is verified: the SHA-256 of every file this script produces (the sums below, equal to
# ../shared/data/multi30k/SHA256SUMS). train.*.gz are upstream's bytes; val/test are upstream's
# .gz decompressed; tok/train.* are upstream's files compressed with `gzip -9n`.
set -euo pipefail
# shellcheck source=scripts/download_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/download_common.sh"

commit=a3d2e0d26b56f3846f66a952536ffed4e401d05a
base_url="${QKV_MULTI30K_URL:-https://raw.githubusercontent.com/multi30k/dataset/$commit}"
dir="${1:-$(default_data_dir)}"
splits=(val test_2016_flickr test_2017_flickr test_2017_mscoco test_2018_flickr)

sums="$(
  cat <<'EOF'
4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16  ./test_2016_flickr.de
399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182  ./test_2016_flickr.en
c3078bc3b36808bf9d20eb2347ed6137016179ef59ec0d2b9b8ecc3fb2880081  ./test_2017_flickr.de
ce1450ddc5ab0834502579d77a170849952e15a2938b34cc503bdc25ebb4fb98  ./test_2017_flickr.en
58277df3c75f92f7145a11b910b553d1cf82c439249d4dc237c899609eafac22  ./test_2017_mscoco.de
43051fdfa86fd5395182e718a94ca67b1b227b9f7c79596ff0f6b813216981d2  ./test_2017_mscoco.en
39fcc8b3331d76fb42d648d019c6898b0d5e58baac87bc2a0bb93f44ec8db207  ./test_2018_flickr.de
4e585c2dd525911a6ea7730e9d0b516239af3f1b1ffae6a2130223cfb639f25e  ./test_2018_flickr.en
c6a33d39d48f9f510de147651316cd9d918e09ad0219df734a2f16b6baccacc4  ./tok/test_2016_flickr.lc.norm.tok.de
5b7f32627cf99eced828311b955dae9800bb52bc8b91cf8b6526829e605b29d2  ./tok/test_2016_flickr.lc.norm.tok.en
02067e4a9402786a4fcb8c1b6f4307e4a5073ced64800abead5273b54f5f31f6  ./tok/test_2017_flickr.lc.norm.tok.de
c9d1dfd7a26add989382e534af235af9f0f658b2a30e7eb0efdaf142496ee54f  ./tok/test_2017_flickr.lc.norm.tok.en
e2825990b8a4e5289d2cdba801d57c187810bab9b4f5d87a30c35800a0d871b6  ./tok/test_2017_mscoco.lc.norm.tok.de
fe69ae004d71c42ead0301e70c57de5b1b6b5fb7f52210d42b22801e98e656f3  ./tok/test_2017_mscoco.lc.norm.tok.en
45ce6b121708adf538d3a8c71dc1acbcb1e0f2bca74ace8e58652f9ea5b96335  ./tok/test_2018_flickr.lc.norm.tok.de
a66e25cbb8323d74a40873dcd222659f39e30ee7687a6ed5445833aed0673239  ./tok/test_2018_flickr.lc.norm.tok.en
7e3392f03c0fe978165d22fb5eaf0d0b9b1d9c413283b5193f02d4cb27e50797  ./tok/train.lc.norm.tok.de.gz
79d990dd71713faec0e3165cbd3b60acdf6fe11cab2e37a28f374c6bdbb297ec  ./tok/train.lc.norm.tok.en.gz
97232bd273eceb7207f689527386a97e4be2616b18ada47576bdaf96c8ae1f00  ./tok/val.lc.norm.tok.de
46573ce391ae227f1c72f873392436a20ef18e0a6d518098cfbd70b77c8572ec  ./tok/val.lc.norm.tok.en
726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6  ./train.de.gz
d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f  ./train.en.gz
660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660  ./val.de
1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227  ./val.en
EOF
)"

readme="# Multi30k (Task 1), English-German

Downloaded by qkv's scripts/get_multi30k.sh from $base_url
(github.com/multi30k/dataset, commit $commit): data/task1/raw/*.gz and data/task1/tok/*.

Licence: non-commercial research and educational use only (the repository's README: partly
derived from Flickr30K, \"solely provided for researchers and educators who wish to use the
dataset for non-commercial research and/or educational purposes\"). Do not redistribute.
Cite: Elliott, Frank, Sima'an, Specia (2016), Multi30K: Multilingual English-German Image
Descriptions, doi:10.18653/v1/W16-3210."

echo "Multi30k: non-commercial research/educational use only (see the README it writes)"
begin_corpus multi30k "$dir" "$sums"
raw="$partial_dir/download"
for language in en de; do
  fetch "$base_url/data/task1/raw/train.$language.gz" "$partial_dir/train.$language.gz"
  fetch "$base_url/data/task1/tok/train.lc.norm.tok.$language" "$raw/train.lc.norm.tok.$language"
  gzip_to "$raw/train.lc.norm.tok.$language" "$partial_dir/tok/train.lc.norm.tok.$language.gz"
  for split in "${splits[@]}"; do
    fetch "$base_url/data/task1/raw/$split.$language.gz" "$raw/$split.$language.gz"
    gunzip_to "$raw/$split.$language.gz" "$partial_dir/$split.$language"
    fetch "$base_url/data/task1/tok/$split.lc.norm.tok.$language" \
      "$partial_dir/tok/$split.lc.norm.tok.$language"
  done
done
rm -rf "$raw"
finish_corpus "$sums" "$readme"
