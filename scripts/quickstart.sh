#!/usr/bin/env bash
# The quickstart: installs what qkv needs, builds it, and runs what qkv can do so far.
# Works from any directory on Debian 12, as root or as a sudo user.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
qkv="${QKV_BUILD_DIR:-$root/build}/app/qkv"
echo
echo "== qkv $("$qkv" --version | cut -d' ' -f2-) is built: $qkv"
echo "== the resolved quickstart experiment (configs/en-de-small.yaml):"
"$qkv" config "$root/configs/en-de-small.yaml"
