#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Plays one governed agent against a running `warden serve` (start it with
# `make run`): register and enrol an agent, open a task, an allowed call, a
# call the data-flow rule denies, complete the task, show that the old token
# is refused, and print the task's evidence trace. Reads the server from
# WARDEN_URL and WARDEN_ADMIN_TOKEN; the binary from $WARDEN or build/warden.
# Exits non-zero if any step does not turn out as expected.
set -uo pipefail
WARDEN=${WARDEN:-$(dirname "$0")/../build/warden}
[[ -e $WARDEN ]] && WARDEN=$(realpath "$WARDEN")
[[ -x $WARDEN ]] || { echo "demo: $WARDEN not built (run make build)" >&2; exit 1; }
: "${WARDEN_URL:?set WARDEN_URL to the URL warden serve printed}"
: "${WARDEN_ADMIN_TOKEN:?set WARDEN_ADMIN_TOKEN to the admin token warden serve printed}"
export WARDEN_URL WARDEN_ADMIN_TOKEN

failures=0
bold="" plain=""
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# step TITLE WANT_STATUS PATTERN -- COMMAND...: runs COMMAND, shows it and
# its output, and checks its exit status and that PATTERN occurs in its
# output. Its stdout alone is left in $tmp/stdout for the next steps.
step() {
  local title=$1 want=$2 pattern=$3
  shift 4
  printf '\n%s== %s%s\n$ warden' "$bold" "$title" "$plain"
  printf ' %q' "${@:2}"
  printf '\n'
  "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  local got=$?
  cat "$tmp/stdout" "$tmp/stderr" >"$tmp/out"
  sed 's/^/  /' "$tmp/out"
  if [[ $got -ne $want ]]; then
    echo "demo: FAILED: exit status $got, expected $want" >&2
    failures=$((failures + 1))
    return 1
  elif [[ -n $pattern ]] && ! grep -qF -- "$pattern" "$tmp/out"; then
    echo "demo: FAILED: output lacks '$pattern'" >&2
    failures=$((failures + 1))
    return 1
  fi
  return 0
}

# Stop at a failed step whose output later steps need.
need() {
  "$@" || {
    echo "demo: cannot go on without that step" >&2
    exit 1
  }
}

# A fresh name per run, so the demo can be replayed against the same ./var.
agent="demo-$(date +%s)-$$"
key="$tmp/$agent.key"

need step "The admin registers an agent: owner alice of team payments, tier standard" 0 \
  "$agent" -- "$WARDEN" agent register "$agent" --owner alice --tier standard --env prod \
  --attr team=payments
need step "The admin makes a one-time join token for it" 0 "" -- \
  "$WARDEN" agent join-token "$agent" --ttl 300
# In the environment, not on the command line: argv is visible to every
# local user, and the join token is a credential until it is spent.
WARDEN_JOIN_TOKEN=$(head -n1 "$tmp/stdout")
export WARDEN_JOIN_TOKEN

need step "1. The agent enrols (join token in WARDEN_JOIN_TOKEN): a new Ed25519 key, kept 0600" 0 \
  "spiffe://" -- "$WARDEN" agent enroll "$agent" --key-file "$key"
unset WARDEN_JOIN_TOKEN
[[ $(stat -c %a "$key") == 600 ]] || {
  echo "demo: FAILED: the key file is not mode 0600" >&2
  failures=$((failures + 1))
}

need step "2. It opens a task (a task.open decision) and gets a DPoP-bound token" 0 "opened" -- \
  "$WARDEN" task open --agent-key "$key" --intent "summarise the Q3 incident reports" \
  --purpose reporting --tools fs,http --classification secret --budget 10 --ttl 300
task=$(head -n1 "$tmp/stdout")

step "3. It reads a secret report on the local file system: ALLOW (exit 0)" 0 "ALLOW" -- \
  "$WARDEN" authorize --agent-key "$key" --tool fs --operation read \
  --classification secret --destination local --environment prod

step "4. It then posts to an external API: DENY by the data-flow rule (exit 2)" 2 \
  "no-secret-egress" -- \
  "$WARDEN" authorize --agent-key "$key" --tool http --operation post \
  --classification internal --destination api.example.com --environment prod \
  --args '{"body": "Q3 summary"}'

step "5. It completes the task: its tokens are revoked before the answer" 0 "$task" -- \
  "$WARDEN" task complete --agent-key "$key" --reason "report written"

step "6. The old token is now refused (HTTP 401, exit 2)" 2 "refused" -- \
  "$WARDEN" authorize --agent-key "$key" --tool fs --operation read \
  --classification public --destination local --environment prod

step "7. The task's evidence: intent, credential, each call and decision, the end" 0 \
  "authz.decision" -- "$WARDEN" audit trace "$task"

step "The evidence log's hash chain verifies" 0 "chain intact" -- "$WARDEN" audit verify

echo
if ((failures)); then
  echo "demo: $failures step(s) did not turn out as expected" >&2
  exit 1
fi
echo "demo: all steps turned out as expected"
