#!/usr/bin/env bash
# Runs the test command (scripts/test.sh) and a short train + translate on Debian 13 (trixie,
# LibTorch 2.6) from any Debian host, in a chroot. As root (or with sudo):
#   scripts/test_debian13.sh             # tests, then en-de-tiny (40 steps), then a translation
#   scripts/test_debian13.sh bash        # a shell inside the chroot instead (for debugging)
#   scripts/test_debian13.sh run CMD...  # one command inside it, from /qkv/main
# The root is built with debootstrap from Debian's registry and cached in
# $QKV_CACHE/debian13/root (default ~/.cache/qkv); it is rebuilt when older than
# QKV_DEBIAN13_MAX_AGE_DAYS (default 7) so that it follows trixie's updates. The project's own
# scripts/setup.sh installs the packages inside it, so this also tests setup on Debian 13.
# The working tree is bind-mounted at /qkv/main (builds go to /root/build, inside the root, so
# the host's build/ is untouched) and ../shared, where it exists, read-only at /qkv/shared.
# Every mount is undone on exit, also on failure or Ctrl-C.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${QKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qkv}/debian13"
root="$cache/root"
max_age_days="${QKV_DEBIAN13_MAX_AGE_DAYS:-7}"
mirror="${QKV_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# Where a chroot cannot be made at all (no root and no sudo, or a container without the right to
# mount), say so and stop without failing; QKV_DEBIAN13_REQUIRED=1 makes that an error.
cannot_run() {
  echo "[debian13] skipped: $1" >&2
  [[ -n "${QKV_DEBIAN13_REQUIRED:-}" ]] && exit 1
  exit 0
}
if [[ $(id -u) -ne 0 ]]; then
  { command -v sudo >/dev/null && sudo -n true 2>/dev/null; } ||
    cannot_run "needs root (or sudo without a password) for debootstrap, mount and chroot"
  exec sudo --preserve-env=QKV_CACHE,CI,QKV_DEBIAN13_MAX_AGE_DAYS,QKV_DEBIAN13_REQUIRED "$0" "$@"
fi
command -v debootstrap >/dev/null || {
  echo "[debian13] installing debootstrap"
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

# Deletes a root folder, never through a mount point (a leftover bind mount of the working tree
# would otherwise be emptied with it).
remove_root() {
  if grep -q " $1[/ ]" /proc/mounts; then
    echo "[debian13] error: something is still mounted under $1; unmount it first" >&2
    exit 1
  fi
  rm -rf --one-file-system "$1"
}
build_root() {
  echo "[debian13] building a Debian 13 root in $root (debootstrap from $mirror, about a minute)"
  remove_root "$root.new"
  mkdir -p "$cache"
  debootstrap --variant=minbase trixie "$root.new" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    echo "[debian13] error: debootstrap failed; see $cache/debootstrap.log" >&2
    exit 1
  }
  touch "$root.new/.qkv-built"
  remove_root "$root"
  mv "$root.new" "$root"
}
if [[ ! -f "$root/.qkv-built" ]] || [[ -n "$(find "$root/.qkv-built" -mtime "+$max_age_days")" ]]; then
  build_root
fi

mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() {  # bind <host path> <path in the root> [ro]
  mkdir -p "$root$2"
  mount --bind "$1" "$root$2"
  mounts+=("$root$2")
  if [[ "${3:-}" == ro ]]; then mount -o remount,bind,ro "$root$2"; fi
}
mkdir -p "$root/proc"
mount -t proc proc "$root/proc" || cannot_run "this environment does not allow mount (needs CAP_SYS_ADMIN)"
mounts+=("$root/proc")
bind /dev /dev
bind /dev/pts /dev/pts
bind "$repo" /qkv/main
if [[ -d "$repo/../shared" ]]; then bind "$(cd "$repo/../shared" && pwd)" /qkv/shared ro; fi
cp /etc/resolv.conf "$root/etc/resolv.conf"

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    LANG=C.UTF-8 CI="${CI:-}" QKV_BUILD_DIR=/root/build "$@"
}
case "${1:-}" in
  bash) in_root bash -c 'cd /qkv/main && exec bash -i'; exit ;;
  run) shift; in_root bash -c 'cd /qkv/main && exec "$@"' run "$@"; exit ;;
esac

# What a short run needs: train en-de-tiny (Ding sentences from trans-de-en) and translate.
smoke_test='
set -euo pipefail
qkv=/root/build/app/qkv
rm -rf /root/smoke && mkdir -p /root/smoke && cd /root/smoke
start=$(date +%s)
$qkv train --config /qkv/main/configs/en-de-tiny.yaml --run-dir /root/smoke/run
echo "[debian13] train took $(($(date +%s) - start)) s"
echo "Good morning." | $qkv translate --model /root/smoke/run
'
start=$(date +%s)
in_root bash -c "cd /qkv/main && scripts/test.sh"
# Why SentencePiece is built from source (README): Debian 13's binary still bundles protobuf.
# Say so at each run, so the day it stops shows up here.
bundled=$(in_root bash -c "nm -DC --defined-only /usr/lib/x86_64-linux-gnu/libsentencepiece.so.0 |
  grep -c ' google::protobuf::' || true")
echo "[debian13] Debian's libsentencepiece.so.0 defines $bundled google::protobuf symbols" \
  "$( ((bundled > 0)) && echo "(bundled: the source build stays)" || echo "(none: the binary package may do now)")"
in_root bash -c "$smoke_test"
echo "[debian13] passed in $(($(date +%s) - start)) s (Debian $(cat "$root/etc/debian_version"))"
