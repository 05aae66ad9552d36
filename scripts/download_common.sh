# shellcheck shell=bash
# Shared by scripts/get_multi30k.sh and scripts/get_tatoeba.sh (sourced, not run): fetch files,
# check them against the SHA-256 sums kept in the calling script, and publish a corpus folder
# only when every file is right. Every failure is one line on stderr and exit status 1:
#   network   the server could not be reached or the transfer broke
#   missing   the server answered but has no such file (HTTP 404, no such file:// path)
#   checksum  a produced file differs from the kept sum (damaged download or changed upstream)
#   disk      DIR or its temporary folder cannot be created or written (full, read-only, a file)
# Files are built in DIR/.<corpus>.partial.XXXXXX (same file system as DIR/<corpus>) and renamed
# into place at the end, so a failure never leaves a folder that `qkv prepare` would read.

script_name="$(basename "$0")"
data_dir=""     # DIR
target_dir=""   # DIR/<corpus>
partial_dir=""  # DIR/.<corpus>.partial.XXXXXX while downloading

die() {
  echo "$script_name: $*" >&2
  exit 1
}

# A write into the partial folder failed: name the file and DIR, not the temporary folder.
die_disk() {
  die "disk: cannot write $(basename "$1") into $data_dir (full or read-only?)${2:+: $2}"
}

cleanup_partial() {
  if [[ -n "$partial_dir" && -d "$partial_dir" ]]; then rm -rf "$partial_dir"; fi
}

# Where `qkv prepare` looks for raw corpora per user: $QKV_DATA_DIR, else the qkv cache's data/
# folder (data/corpus_paths.cpp: $QKV_CACHE, else $XDG_CACHE_HOME/qkv, else ~/.cache/qkv).
default_data_dir() {
  if [[ -n "${QKV_DATA_DIR:-}" ]]; then
    echo "$QKV_DATA_DIR"
  elif [[ -n "${QKV_CACHE:-}" ]]; then
    echo "$QKV_CACHE/data"
  elif [[ -n "${XDG_CACHE_HOME:-}" ]]; then
    echo "$XDG_CACHE_HOME/qkv/data"
  else
    echo "${HOME:?set HOME, QKV_CACHE or QKV_DATA_DIR, or pass DIR}/.cache/qkv/data"
  fi
}

# The files named in SUMS (sha256sum format, "./name") whose SHA-256 in folder $1 differs or
# that are missing, space-separated; empty when all match.
mismatching_files() {
  local dir="$1" sums="$2" expected name actual mismatches=""
  while read -r expected name; do
    name="${name#./}"
    actual="$(sha256sum "$dir/$name" 2>/dev/null | cut -d' ' -f1 || true)"
    if [[ "$actual" != "$expected" ]]; then mismatches+="${mismatches:+ }$name"; fi
  done <<<"$sums"
  echo "$mismatches"
}

# begin_corpus NAME DIR SUMS: exits 0 when DIR/NAME already holds every file with the right
# sum; refuses a DIR/NAME that does not; else creates the partial folder ($partial_dir).
begin_corpus() {
  local name="$1" sums="$3"
  data_dir="$2"
  target_dir="$data_dir/$name"
  if [[ -e "$target_dir" ]]; then
    if [[ -z "$(mismatching_files "$target_dir" "$sums")" ]]; then
      echo "$target_dir is already complete (all SHA-256 sums match); nothing to do"
      exit 0
    fi
    die "$target_dir exists but does not match the checksums: remove it or pass another DIR"
  fi
  mkdir -p "$data_dir" 2>/dev/null || die "disk: cannot create $data_dir"
  partial_dir="$(mktemp -d "$data_dir/.$name.partial.XXXXXX" 2>/dev/null)" ||
    die "disk: cannot write in $data_dir"
  trap cleanup_partial EXIT
  trap 'exit 1' INT TERM
  echo "downloading $name into $target_dir"
}

ensure_parent() {
  mkdir -p "$(dirname "$1")" 2>/dev/null || die "disk: cannot create $(dirname "$1")"
}

# fetch URL DEST: downloads URL to DEST with curl (or wget for http/https), naming the kind of
# failure in one line.
fetch() {
  local url="$1" dest="$2" status=0 error
  ensure_parent "$dest"
  echo "  $url"
  if command -v curl >/dev/null; then
    error="$(curl --fail --silent --show-error --location --retry 2 --connect-timeout 30 \
      --output "$dest" "$url" 2>&1)" || status=$?
    error="${error##*$'\n'}"  # one line: curl repeats its message for every retry
    case "$status" in
      0) return 0 ;;
      37 | 78) die "missing: $url: $error" ;;  # no such file:// or FTP file
      22) # an HTTP error: 404 and 410 say the file is not there, others that the server failed
        if [[ "$error" =~ (404|410)$ ]]; then die "missing: $url: $error"; fi
        die "network: cannot download $url: $error" ;;
      23) die_disk "$dest" "$error" ;;
      *) die "network: cannot download $url: ${error:-curl exit status $status}" ;;
    esac
  fi
  command -v wget >/dev/null || die "network: neither curl nor wget is installed"
  [[ "$url" == http* ]] || die "network: wget cannot fetch $url (install curl)"
  error="$(wget --quiet --tries=3 --timeout=30 --output-document="$dest" "$url" 2>&1)" ||
    status=$?
  case "$status" in
    0) return 0 ;;
    8) die "missing: $url: the server answered with an error (HTTP 404?)" ;;
    3) die_disk "$dest" ;;
    *) die "network: cannot download $url: ${error:-wget exit status $status}" ;;
  esac
}

# gunzip_to SOURCE.gz DEST: a damaged archive is told apart from a failed write.
gunzip_to() {
  gzip --test "$1" 2>/dev/null || die "checksum: $(basename "$1") is not a valid gzip file"
  ensure_parent "$2"
  gzip --decompress --stdout "$1" >"$2" 2>/dev/null || die_disk "$2"
}

# gzip_to SOURCE DEST.gz: the exact bytes of the shared copies (`gzip -9n`: no name, no time).
gzip_to() {
  ensure_parent "$2"
  gzip -9 --no-name --stdout "$1" >"$2" 2>/dev/null || die_disk "$2"
}

# finish_corpus SUMS README: checks every file against SUMS, writes SHA256SUMS and README.md
# (source and licence), then renames the partial folder into place.
finish_corpus() {
  local sums="$1" readme="$2" mismatches
  mismatches="$(mismatching_files "$partial_dir" "$sums")"
  if [[ -n "$mismatches" ]]; then
    die "checksum: SHA-256 mismatch for $mismatches (damaged download, or upstream changed); nothing was installed"
  fi
  echo "$readme" >"$partial_dir/README.md" 2>/dev/null || die_disk README.md
  echo "$sums" >"$partial_dir/SHA256SUMS" 2>/dev/null || die_disk SHA256SUMS
  # mktemp made the folder private; give it the permissions a plain mkdir would have.
  chmod "$(printf '%o' $((0777 & ~$(umask))))" "$partial_dir"
  mv -T "$partial_dir" "$target_dir" 2>/dev/null || die "disk: cannot rename into $target_dir"
  partial_dir=""
  echo "done: $(wc -l <<<"$sums") files in $target_dir, every SHA-256 sum checked"
}
