#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs scripts/demo.sh, the scenario `make run` points new users to,
# against a fresh `warden serve` on loopback, so the README's five-minute
# path is tested on every make test, then checks the evidence it left
# through an export. Usage: demo_test.sh WARDEN_BINARY
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

# The evidence the demo left, exported and checked by someone who holds
# only the file: online and offline exports agree byte for byte, the file
# verifies, a changed decision does not, and a piece exported from a
# later record verifies against the last hash of the piece before it.
export WARDEN_URL=$url
"$warden" audit export >"$tmp/online.jsonl"
"$warden" audit export --data "$tmp/var" >"$tmp/offline.jsonl"
cmp "$tmp/online.jsonl" "$tmp/offline.jsonl"
n=$(wc -l <"$tmp/online.jsonl")
"$warden" audit verify --file "$tmp/online.jsonl" >"$tmp/file.out"
grep -q "ok: $n records, seq 1 to $n" "$tmp/file.out"
# Verifying the whole log, online or offline, ends on the same last hash
# as the exported file: compared with a hash kept elsewhere, it shows a
# log cut short after its last record.
last=$(sed -n 's/^last hash: //p' "$tmp/file.out")
[[ ${#last} -eq 64 ]]
"$warden" audit verify --data "$tmp/var" >"$tmp/data.out"
grep -q "ok: $n records, seq 1 to $n" "$tmp/data.out"
[[ $(sed -n 's/^last hash: //p' "$tmp/data.out") == "$last" ]]
[[ $("$warden" audit verify | sed -n 's/^last hash: //p') == "$last" ]]
[[ $("$warden" audit verify --json | grep -c "\"last_hash\": \"$last\"") -eq 1 ]]
sed '0,/"decision":"allow"/s//"decision":"deny"/' "$tmp/online.jsonl" >"$tmp/tampered.jsonl"
set +e
"$warden" audit verify --file "$tmp/tampered.jsonl" >"$tmp/tampered.out"
st=$?
set -e
[[ $st -eq 3 ]] && grep -q "BROKEN at seq" "$tmp/tampered.out"
head -5 "$tmp/online.jsonl" >"$tmp/first.jsonl"
anchor=$("$warden" audit verify --file "$tmp/first.jsonl" | sed -n 's/^last hash: //p')
"$warden" audit export --from 6 >"$tmp/rest.jsonl"
"$warden" audit verify --file "$tmp/rest.jsonl" --anchor "$anchor" | grep -q "seq 6 to $n"
set +e
"$warden" audit verify --file "$tmp/rest.jsonl" --anchor "$(printf '%064d' 1)" >/dev/null
st=$?
set -e
[[ $st -eq 3 ]]
# An anchor is for a piece after record 1: a piece that starts at record 1
# is refused with one, and an empty piece says that nothing followed it.
set +e
"$warden" audit verify --file "$tmp/first.jsonl" --anchor "$anchor" >/dev/null 2>"$tmp/anchor.err"
st=$?
set -e
[[ $st -eq 1 ]] && grep -q "record 1 starts the log" "$tmp/anchor.err"
: >"$tmp/empty.jsonl"
[[ $("$warden" audit verify --file "$tmp/empty.jsonl" --anchor "$anchor") == \
  "ok: no records after the anchor" ]]
# An export that cannot be written fails instead of leaving a short file,
# also when all of it fits in stdio's buffer (one record: the write fails
# only when the buffer is flushed at the end).
set +e
"$warden" audit export --data "$tmp/var" --from "$n" >/dev/full 2>"$tmp/full.err"
st=$?
"$warden" audit export --from "$n" >/dev/full 2>>"$tmp/full.err"
st2=$?
set -e
[[ $st -eq 1 && $st2 -eq 1 ]]
[[ $(grep -c "cannot write the export" "$tmp/full.err") -eq 2 ]]
echo "demo_test: evidence export verified offline ($n records)"

# Incident response through the CLI: the admin lists an agent's open
# tasks, ends one by its id, and the agent's token for it is refused.
key=$tmp/ir.key
"$warden" agent register ir-bot --owner alice --tier standard --env prod >/dev/null
WARDEN_JOIN_TOKEN=$("$warden" agent join-token ir-bot 2>/dev/null) \
  "$warden" agent enroll ir-bot --key-file "$key" >/dev/null 2>&1
task=$("$warden" task open --agent-key "$key" --intent "triage alerts" --purpose triage \
  --tools fs --classification internal --budget 5 2>/dev/null)
"$warden" agent tasks ir-bot | grep -q "^$task .* triage alerts$"
"$warden" task cancel --admin "$task" --reason "incident 42" >/dev/null
[[ $("$warden" agent tasks ir-bot --json | grep -c '"id"') -eq 0 ]]
set +e
"$warden" authorize --agent-key "$key" --tool fs --operation read >/dev/null 2>&1
st=$?
set -e
[[ $st -eq 2 ]]
echo "demo_test: an open task listed and ended by the admin"

