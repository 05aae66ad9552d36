#!/usr/bin/env bash
# Builds SentencePiece 0.1.97 from Debian's source package as static libraries linked
# against the system protobuf (3.21, the one libtorch loads). Debian's binary
# libsentencepiece.so.0 bundles its own protobuf (12: 0.1.97 with 3.14; 13: 0.2.0, likewise) and
# crashes any process that also loads libtorch, before main. Output: $QKV_CACHE/sentencepiece/install/{include,lib}. Never inside git.
set -euo pipefail
CACHE="${QKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qkv}"
SPM="$CACHE/sentencepiece"
PREFIX="$SPM/install"
VERSION="0.1.97"
if [[ -f "$PREFIX/lib/libsentencepiece.a" && -f "$PREFIX/lib/libsentencepiece_train.a" ]]; then
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
mkdir -p "$SPM"
if ! ls -d "$SPM"/sentencepiece-"$VERSION"* >/dev/null 2>&1; then
  # The same version on Debian 12 and 13 (13's 0.2.0 bundles protobuf too, and its libtorch 2.6
  # crashes with it just the same), so both releases tokenize alike. apt-get source needs a
  # deb-src entry for bookworm main, where that version lives.
  if ! apt-cache showsrc sentencepiece 2>/dev/null | grep -q "^Version: $VERSION-3$"; then
    echo "[setup] adding a deb-src entry for bookworm main (SentencePiece $VERSION source)"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      $SUDO tee /etc/apt/sources.list.d/qkv-deb-src.sources >/dev/null
    $SUDO apt-get update -qq
  fi
  echo "[setup] fetching the sentencepiece $VERSION source package into $SPM"
  (cd "$SPM" && apt-get source -qq "sentencepiece=$VERSION-3" >/dev/null 2>&1) || {
    echo "[setup] error: could not fetch Debian's sentencepiece $VERSION-3 source package" >&2
    exit 1
  }
fi
src="$(ls -d "$SPM"/sentencepiece-"$VERSION"*/ | head -n1)"
# Debian's packaging patch drops the static libraries; take it back out (once).
if [[ ! -f "$src/.qkv-static-restored" ]]; then
  patch -s -R -p1 -d "$src" <"$src/debian/patches/disable-static-library.patch"
  # 0.1.97's init.h includes the bundled protobuf header even when building against the
  # system protobuf (fixed upstream in 0.1.98); point it at the system one.
  sed -i 's|"third_party/protobuf-lite/google/protobuf/message_lite.h"|<google/protobuf/message_lite.h>|' \
    "$src/src/init.h"
  touch "$src/.qkv-static-restored"
fi
echo "[setup] building sentencepiece (static, system protobuf) in $SPM/build (about a minute)"
cmake -S "$src" -B "$SPM/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSPM_USE_BUILTIN_PROTOBUF=OFF -DSPM_ENABLE_SHARED=OFF -DSPM_ENABLE_TCMALLOC=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_PREFIX="$PREFIX" >"$SPM/configure.log"
cmake --build "$SPM/build" >"$SPM/build.log"
cmake --install "$SPM/build" >/dev/null
echo "[setup] sentencepiece installed in $PREFIX"
