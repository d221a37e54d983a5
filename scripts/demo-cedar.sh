#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Demo of the `warden cedar` CLI on the sample agent policies in
# examples/agents: an ALLOW, a DENY with its reasons, an evaluate, a parse
# error with a caret, and format --check. Exits non-zero if any step does
# not turn out as expected, so `make run` doubles as a smoke test.
set -uo pipefail
# Resolve the binary before moving to the repository root.
WARDEN=${1:-$(dirname "$0")/../build/warden}
[[ -e $WARDEN ]] && WARDEN=$(realpath "$WARDEN")
cd "$(dirname "$0")/.." || exit 1
EX=examples/agents
[[ -x $WARDEN ]] || { echo "demo: $WARDEN not built (run make build)" >&2; exit 1; }

failures=0
bold="" plain=""
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# step TITLE WANT_STATUS PATTERN -- COMMAND...: runs COMMAND, shows it and
# its output, and checks its exit status and that PATTERN occurs in it.
step() {
  local title=$1 want=$2 pattern=$3
  shift 4
  printf '\n%s== %s%s\n$ warden' "$bold" "$title" "$plain"
  printf ' %q' "${@:2}"
  printf '\n'
  "$@" >"$tmp/out" 2>&1
  local got=$?
  sed 's/^/  /' "$tmp/out"
  if [[ $got -ne $want ]]; then
    echo "demo: FAILED: exit status $got, expected $want" >&2
    failures=$((failures + 1))
  elif [[ -n $pattern ]] && ! grep -qF -- "$pattern" "$tmp/out"; then
    echo "demo: FAILED: output lacks '$pattern'" >&2
    failures=$((failures + 1))
  fi
}

common=(--policies "$EX/policies.cedar" --entities "$EX/entities.json")

step "An agent calls a tool in its own toolbox: ALLOW (exit 0)" 0 "ALLOW" -- \
  "$WARDEN" cedar authorize "${common[@]}" --request-json "$EX/requests/scout-search.json" -v
step "A high-risk tool without approval: DENY with the reason (exit 2)" 2 \
  "high-risk tools need a human approval" -- \
  "$WARDEN" cedar authorize "${common[@]}" --request-json "$EX/requests/deployer-unattended.json" -v
step "The same call approved by the agent's owner: ALLOW" 0 "ALLOW" -- \
  "$WARDEN" cedar authorize "${common[@]}" --request-json "$EX/requests/deployer-approved.json" -v
printf '{"spent": 0}\n' >"$tmp/context.json"
step "A quarantined agent, request given as flags: DENY" 2 "quarantined agents may do nothing" -- \
  "$WARDEN" cedar authorize "${common[@]}" --principal 'Agent::"rogue"' \
  --action 'Action::"call"' --resource 'Tool::"shell"' --context "$tmp/context.json" -v
step "Evaluate an expression against a request: remaining budget" 0 "460" -- \
  "$WARDEN" cedar evaluate --entities "$EX/entities.json" \
  --request-json "$EX/requests/deployer-approved.json" 'principal.budget - context.spent'
step "A policy with a syntax error: file:line:col and a caret (exit 1)" 1 "broken.cedar:3:" -- \
  "$WARDEN" cedar check-parse "$EX/broken.cedar"
step "The sample policies are canonically formatted (exit 0)" 0 "" -- \
  "$WARDEN" cedar format --check "$EX/policies.cedar"
printf 'permit(principal,action,resource)when{context.ok};\n' >"$tmp/messy.cedar"
step "A messy file is named by format --check (exit 1)" 1 "not formatted: $tmp/messy.cedar" -- \
  "$WARDEN" cedar format --check "$tmp/messy.cedar"

echo
if ((failures)); then
  echo "demo: $failures step(s) did not turn out as expected" >&2
  exit 1
fi
echo "demo: all steps turned out as expected"
