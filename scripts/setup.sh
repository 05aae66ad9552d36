#!/usr/bin/env bash
# Installs everything qkv needs on Debian 12 (bookworm, LibTorch 1.13) or Debian 13 (trixie,
# LibTorch 2.6) (idempotent; quiet when all is there), builds SentencePiece from Debian's source
# package against the system protobuf (see README "SentencePiece and LibTorch"), and checks that
# OpenBLAS is the active BLAS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

# The package names below are the same on both releases; anything else is refused up front
# rather than half-installed.
codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
case "$codename" in
  bookworm | trixie) ;;
  *)
    echo "[setup] error: qkv supports Debian 12 (bookworm) and Debian 13 (trixie); this system" \
      "is '${codename:-unknown}' (/etc/os-release). See README \"Supported systems\"." >&2
    exit 1
    ;;
esac

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache curl
  libtorch-dev libgloo-dev libopenblas0-pthread
  libsentencepiece-dev libprotobuf-dev protobuf-compiler dpkg-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev
  libcairo2-dev fonts-dejavu-core zlib1g-dev libcpp-httplib-dev
  trans-de-en
  python3-numpy python3-torch
)
# QKV_SETUP_TESTS=1 (scripts/test.sh): also what only the tests use. Headless Chromium loads
# the attention explorer page (tests/app/export/check_explorer.sh; skipped without it).
if [[ -n "${QKV_SETUP_TESTS:-}" ]]; then PACKAGES+=(chromium); fi
# The page test of `qkv serve` drives Chromium from Node.js (tests/serve/page_test.mjs); Debian's
# nodejs and npm where no node is installed.
if [[ -n "${QKV_SETUP_TESTS:-}" ]] && ! command -v node >/dev/null; then PACKAGES+=(nodejs npm); fi
# Debian 13 only: safetensors for Python, to check `qkv export --safetensors` files.
if [[ -n "${QKV_SETUP_TESTS:-}" && "$codename" == trixie ]]; then PACKAGES+=(python3-safetensors); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's libtorch is built with BLAS_INFO=generic: it uses whichever libblas.so.3 the
# alternatives system selects. The reference BLAS is ~30x slower than OpenBLAS.
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || true)"
if [[ "$blas" != *openblas* ]]; then
  echo "[setup] selecting OpenBLAS as libblas.so.3 (was: ${blas:-none})"
  $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu \
    /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
  blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
fi
case "$blas" in
  *openblas*) [[ -n "${QKV_SETUP_QUIET:-}" ]] || echo "[setup] BLAS: OpenBLAS ($blas)" ;;
  *) echo "[setup] error: active BLAS is $blas, not OpenBLAS; qkv would run ~30x slower" >&2; exit 1 ;;
esac

"$here/build_sentencepiece.sh"

# playwright-core (npm registry), pinned by tests/serve/package-lock.json, into the gitignored
# tests/serve/node_modules.
if [[ -n "${QKV_SETUP_TESTS:-}" && ! -d "$here/../tests/serve/node_modules/playwright-core" ]]; then
  echo "[setup] installing playwright-core into tests/serve/node_modules (npm ci)"
  npm ci --prefix "$here/../tests/serve" --no-audit --no-fund --silent
fi
