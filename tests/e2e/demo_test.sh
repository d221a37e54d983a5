#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs scripts/demo.sh, the scenario `make run` points new users to,
# against a fresh `warden serve` on loopback, so the README's five-minute
# path is tested on every make test. Usage: demo_test.sh WARDEN_BINARY
set -euo pipefail
warden=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
server=""
cleanup() {
  [[ -n $server ]] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export WARDEN_ADMIN_TOKEN=demo-test-admin-token-0123456789abcdef
"$warden" serve --listen 127.0.0.1:0 --data "$tmp/var" --policy-dir "$root/docs/policies" \
  >"$tmp/serve.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/serve.log" | head -1 || true)
  [[ -n $url ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/serve.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $url ]] || { echo "demo_test: server did not start" >&2; cat "$tmp/serve.log" >&2; exit 1; }
HOME=$tmp WARDEN=$warden WARDEN_URL=$url "$root/scripts/demo.sh"
