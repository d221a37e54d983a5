#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the engine benchmark (cedar_bench) and the reference benchmark
# (cedar_wasm_bench.js) one after the other on the same machine, and prints
# a markdown table of the ratios. Absolute figures on a shared machine are
# noise; the ratios from one run are what to compare.
#
# Usage: bench/run.sh [--quick] [--bin PATH | --build-dir DIR] [--cit DIR]
#                     [--shared DIR] [--json FILE] [--schema FILE]
#   --bin        an existing cedar_bench (else a Release build is made in
#                --build-dir, default build-release/ in the source tree)
#   --cit        a cedar-integration-tests tree; unpacked from
#                <shared>/cedar-integration-tests/public.tar.gz when missing
#   --json FILE  also keep the raw JSON lines of both engines in FILE
#   --schema     the schema of the validation workload (default: the
#                governance schema in docs/policies/)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=()
bin=""
build="$root/build-release"
cit=""
shared="$root/../shared"
json_out=""
schema="$root/docs/policies/governance.cedarschema"

while (($#)); do
  case $1 in
    --quick) quick=(--quick) ;;
    --bin) bin=$2; shift ;;
    --build-dir) build=$2; shift ;;
    --cit) cit=$2; shift ;;
    --shared) shared=$2; shift ;;
    --json) json_out=$2; shift ;;
    --schema) schema=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ -z $bin ]]; then
  echo "bench: release build in $build" >&2
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DWD_SANITIZE=OFF -DWD_WERROR=OFF >/dev/null
  make -C "$build" -j2 cedar_bench >/dev/null
  bin="$build/bench/cedar_bench"
fi

# Next to the build's own copy (the conformance test unpacks it there too).
if [[ -z $cit ]]; then cit="$(cd "$(dirname "$bin")/.." && pwd)/cedar-it"; fi
if [[ ! -d $cit/corpus-tests ]]; then
  tgz="$shared/cedar-integration-tests/public.tar.gz"
  [[ -f $tgz ]] || { echo "run.sh: no corpus at $cit and no $tgz" >&2; exit 1; }
  echo "bench: unpacking the corpus into $cit" >&2
  rm -rf "$cit" && mkdir -p "$cit" && tar xzf "$tgz" -C "$cit"
fi

command -v node >/dev/null || { echo "run.sh: node is needed for the reference side" >&2; exit 1; }
if [[ ! -d $here/node_modules/@cedar-policy/cedar-wasm ]]; then
  echo "bench: npm ci in $here" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "bench: warden ($bin)" >&2
"$bin" "${quick[@]}" --keys-out "$tmp/keys" --schema "$schema" "$cit" >"$tmp/warden.jsonl"
echo "bench: cedar-wasm" >&2
# Only the requests Warden timed, so the corpus means compare like with like.
node --no-turbo-inline-js-wasm-calls "$here/cedar_wasm_bench.js" "${quick[@]}" --keys "$tmp/keys" \
  --schema "$schema" "$cit" >"$tmp/wasm.jsonl"
[[ -z $json_out ]] || cat "$tmp/warden.jsonl" "$tmp/wasm.jsonl" >"$json_out"

# The table is built by node too, so the script needs no jq or python.
node - "$tmp/warden.jsonl" "$tmp/wasm.jsonl" <<'EOF'
'use strict';
const fs = require('fs');
const read = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const w = read(process.argv[2]);
const r = read(process.argv[3]);
const pick = (xs, wl, n) => xs.find((x) => x.workload === wl && (n === undefined || x.policies === n));
const fmt = (x) => (x === undefined || x === null || !isFinite(x) ? 'n/a' : x < 10 ? x.toFixed(3) : x < 1000 ? x.toFixed(1) : x.toFixed(0));
const ratio = (a, b) => (a && b ? (b / a).toFixed(1) + '×' : 'n/a');
const rows = [];
const wc = pick(w, 'corpus'), rc = pick(r, 'corpus');
rows.push([`(a) corpus, ${rc ? rc.requests : '?'} requests`, wc && wc.us_per_decision, rc && rc.us_per_decision]);
for (const n of [1, 100, 1000, 10000]) {
  const a = pick(w, 'synthetic', n), b = pick(r, 'synthetic', n);
  rows.push([`(b) synthetic, ${n} ${n === 1 ? 'policy' : 'policies'}`, a && a.us_per_decision, b && b.us_per_decision]);
}
const out = [];
out.push('| workload | Warden µs/decision | cedar-wasm µs/decision | speed-up |');
out.push('|---|---:|---:|---:|');
for (const [name, a, b] of rows) out.push(`| ${name} | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} |`);
const g = (xs) => {
  const one = pick(xs, 'synthetic', 1), big = pick(xs, 'synthetic', 10000);
  return one && big && one.us_per_decision ? (big.us_per_decision / one.us_per_decision).toFixed(2) + '×' : 'n/a';
};
out.push('');
out.push('| growth, 10,000 vs 1 policy | Warden | cedar-wasm |');
out.push('|---|---:|---:|');
out.push(`| µs/decision ratio | ${g(w)} | ${g(r)} |`);
if (wc && rc) {
  out.push('');
  out.push(`Corpus: Warden decided ${wc.decisions} (${wc.agree_expected}/${wc.requests} agree with expected, ` +
    `${wc.skipped} skipped, ${wc.errors} errors); cedar-wasm decided ${rc.decisions} ` +
    `(${rc.agree_expected}/${rc.requests} agree, ${rc.skipped} skipped, ${rc.errors} errors, ` +
    `${rc.excluded} not timed because Warden skipped them).`);
}
const s100w = pick(w, 'synthetic', 100), s100r = pick(r, 'synthetic', 100);
const targets = [];
if (s100w && s100r && s100w.us_per_decision) {
  const sp = s100r.us_per_decision / s100w.us_per_decision;
  targets.push(`100 policies ≥50× faster: ${sp >= 50 ? 'met' : 'NOT met'} (${sp.toFixed(1)}×)`);
}
const one = pick(w, 'synthetic', 1), big = pick(w, 'synthetic', 10000);
if (one && big && one.us_per_decision) {
  const gr = big.us_per_decision / one.us_per_decision;
  targets.push(`10,000 policies ≤3× the 1-policy cost: ${gr <= 3 ? 'met' : 'NOT met'} (${gr.toFixed(2)}×)`);
}
// Validation: Warden's validate-only time is what the 1 s target is about;
// cedar-wasm's validate() always parses schema and policies too, so the
// speed-up compares it with Warden's parse + validate.
const vrows = [1000, 10000].map((n) => [n, pick(w, 'validate', n), pick(r, 'validate', n)]);
if (vrows.some(([, a, b]) => a || b)) {
  out.push('');
  out.push('| validation, governance schema | Warden validate ms | Warden parse + validate ms | cedar-wasm validate ms | speed-up |');
  out.push('|---|---:|---:|---:|---:|');
  for (const [n, a, b] of vrows) {
    out.push(`| (c) ${n} policies | ${fmt(a && a.validate_ms)} | ${fmt(a && a.parse_validate_ms)} | ` +
      `${fmt(b && b.parse_validate_ms)} | ${ratio(a && a.parse_validate_ms, b && b.parse_validate_ms)} |`);
  }
  for (const [n, a, b] of vrows) {
    if (a && b && a.hash !== b.hash) out.push('', `WARNING: the two sides generated different ${n}-policy sets (hash ${a.hash} vs ${b.hash}).`);
  }
  const v10k = pick(w, 'validate', 10000);
  if (v10k) {
    targets.push(`validating 10,000 policies under 1 s: ${v10k.validate_ms < 1000 ? 'met' : 'NOT met'} ` +
      `(${fmt(v10k.validate_ms)} ms; ${fmt(v10k.parse_validate_ms)} ms with parsing)`);
  }
}
if (targets.length) out.push('', 'Targets: ' + targets.join('; ') + '.');
console.log(out.join('\n'));
EOF
