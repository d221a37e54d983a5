#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How the cost of one large Cedar construct grows with its size: a policy
# whose record literal has N keys, validated (`warden cedar validate`
# against the governance schema) and evaluated (`warden cedar authorize`),
# at N and at 8N keys. The figure is the ratio t(8N) / t(N), from the same
# run: about 8 when the work is linear, 64 when it is quadratic. The
# service validates an uploaded policy set on an HTTP worker, so a
# quadratic step lets one upload hold a worker for minutes.
#
# Usage: bench/scaling.sh [--bin PATH] [--keys N] [--runs R]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin="$root/build/warden"
keys=4000
runs=3
while (($#)); do
  case $1 in
    --bin) bin=$2; shift ;;
    --keys) keys=$2; shift ;;
    --runs) runs=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "scaling.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -x $bin ]] || { echo "scaling.sh: no warden at $bin (build it, or give --bin)" >&2; exit 1; }
schema="$root/docs/policies/governance.cedarschema"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A record literal of n keys compared with an empty one: valid Cedar that
# the validator reports (exit 3) and the evaluator decides.
gen() {
  python3 - "$1" >"$tmp/rec$1.cedar" <<'EOF'
import sys
n = int(sys.argv[1])
print("permit(principal, action, resource) when { {"
      + ",".join(f"a{i}:1" for i in range(n)) + "} == {} };")
EOF
}

# The best of $runs wall times of a command, in seconds.
best() {
  local b="" t s e
  for ((r = 0; r < runs; r++)); do
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [[ -z $b ]] || (($(echo "$t < $b" | bc -l))); then b=$t; fi
  done
  echo "$b"
}

echo '[]' >"$tmp/entities.json"
echo '{}' >"$tmp/context.json"
big=$((keys * 8))
gen "$keys"
gen "$big"
printf '| work | %d keys (s) | %d keys (s) | ratio (8 = linear, 64 = quadratic) |\n' "$keys" "$big"
printf '|---|---:|---:|---:|\n'
for work in validate authorize; do
  for n in "$keys" "$big"; do
    if [[ $work == validate ]]; then
      t[$n]=$(best "$bin" cedar validate --policies "$tmp/rec$n.cedar" --schema "$schema")
    else
      t[$n]=$(best "$bin" cedar authorize --policies "$tmp/rec$n.cedar" \
        --entities "$tmp/entities.json" --principal 'Agent::"a"' --action 'Action::"x"' \
        --resource 'Tool::"t"' --context "$tmp/context.json")
    fi
  done
  printf '| %s | %.3f | %.3f | %.1f |\n' "$work" "${t[$keys]}" "${t[$big]}" \
    "$(echo "${t[$big]} / ${t[$keys]}" | bc -l)"
done
