#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what the project needs and is missing: Debian packages, then the
# npm packages of the test and benchmark harnesses. Idempotent: a second run
# installs nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake pkg-config clang clang-format python3
  libjansson-dev libcmocka-dev libssl-dev libsqlite3-dev
  libmicrohttpd-dev libcurl4-openssl-dev wrk openssl
  nodejs npm
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A node from elsewhere on PATH is fine; only install Debian's when there is none.
if command -v node >/dev/null && command -v npm >/dev/null; then
  keep=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || keep+=("$p"); done
  missing=("${keep[@]+"${keep[@]}"}")
fi

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm harnesses: reproducible installs from the committed lock files.
# `make run` needs none of them (--no-npm).
[[ ${1-} == --no-npm ]] && exit 0
for d in tests/diff bench; do
  [[ -f $d/package-lock.json ]] || continue
  if [[ ! -d $d/node_modules ]] || [[ $d/package-lock.json -nt $d/node_modules/.package-lock.json ]]; then
    echo "deps: npm ci in $d"
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
