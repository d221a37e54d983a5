#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CLI tests for `warden cedar`: usage: test_cli.sh WARDEN SRCDIR GROUP.
# Each case runs the binary and checks its exit status and that given
# fixed strings occur (or not) in stdout/stderr. Every failing case is
# reported; the script fails once at the end.
set -uo pipefail
WARDEN=$1
SRC=$2
GROUP=$3
EX=$SRC/examples/agents
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

CASE_LABEL="[$GROUP]"
# shellcheck source=../support/cases.sh
. "$(dirname "$0")/../support/cases.sh"

W=("$WARDEN" cedar)
POL=(--policies "$EX/policies.cedar" --entities "$EX/entities.json")

# Shared fixtures.
cat >"$T/simple.cedar" <<'CEDAR'
@reason("alice may view")
permit (principal == User::"alice", action == Action::"view", resource);
forbid (principal, action, resource) when { context.locked };
CEDAR
printf '[]\n' >"$T/empty.json"
printf '{"locked": false}\n' >"$T/ctx.json"
printf '{"locked": true}\n' >"$T/ctx-locked.json"
printf '[\n  {"uid": {"type": "User", "id": "alice"},\n   "attrs": {}, "parents": [\n' >"$T/bad.json"
printf 'permit (principal, action, resource)\nwhen { principal.age >= 18 &&\n  };\n' >"$T/syntax.cedar"
printf 'permit (principal, action, resource)\nwhen { context.a == 1 };\n' >"$T/one.cedar"
printf 'permit(principal,action,resource)when{context.a==1};\n' >"$T/messy.cedar"
printf '@id("viewer")\npermit (principal == ?principal, action, resource in ?resource);\n' >"$T/tpl.cedar"
printf '[{"template_id": "viewer", "link_id": "alice-trip",\n  "args": {"?principal": "User::\\"alice\\"", "?resource": {"type": "Album", "id": "trip"}}}]\n' >"$T/links.json"
printf '[{"template_id": "nope", "link_id": "x", "args": {}}]\n' >"$T/badlinks.json"
printf '[{"uid": {"type": "Photo", "id": "p"}, "attrs": {}, "parents": [{"type": "Album", "id": "trip"}]}]\n' >"$T/album.json"
# Schema fixtures: the governance schema, policies checked against it, a
# context for task.open, and two broken schemas.
GOV=$SRC/docs/policies/governance.cedarschema
printf 'permit (principal, action == Action::"fs.read", resource)\nwhen { principal.tier == "standard" && context.risk < 50 };\n' >"$T/gov-good.cedar"
printf 'permit (principal, action == Action::"fs.read", resource)\nwhen { principal.teir == "standard" };\n' >"$T/gov-typo.cedar"
printf 'permit (principal, action == Action::"fs.read", resource)\nwhen { false };\n' >"$T/gov-impossible.cedar"
printf 'permit (principal is Agent, action == Action::"task.open", resource is Task)\nwhen { context.risk < 50 };\n' >"$T/gov-open.cedar"
cat >"$T/task-ctx.json" <<'JSON'
{"task": {"id": "t1", "intent": "triage", "purpose": "support",
          "age": {"__extn": {"fn": "duration", "arg": "0ms"}}, "calls": 0, "budget_left": 10,
          "tools": [], "ceiling": "internal", "ceiling_rank": 1},
 "session": {"tools": [], "classifications": [], "destinations": [], "calls": 0, "denials": 0},
 "time": {"__extn": {"fn": "datetime", "arg": "2026-01-01T09:00:00Z"}}, "risk": 5}
JSON
printf 'entity User = {\n  name: Strin,\n};\n' >"$T/unknown-type.cedarschema"
printf 'entity User = {\n  name: String\n  age: Long,\n};\n' >"$T/syntax.cedarschema"

case $GROUP in
general)
  t "no subcommand is a usage error" 64 err:usage -- "${W[@]}"
  t "unknown subcommand" 64 "err:unknown subcommand 'frobnicate'" -- "${W[@]}" frobnicate
  t "cedar --help" 0 out:authorize out:check-parse out:format -- "${W[@]}" --help
  t "warden --help" 0 out:cedar -- "$WARDEN" --help
  t "warden version" 0 "out:warden " -- "$WARDEN" version
  for sub in authorize evaluate check-parse format translate-policy validate translate-schema; do
    t "$sub --help" 0 out:usage -- "${W[@]}" "$sub" --help
  done
  t "unknown option" 64 "err:unknown option '--bogus'" -- "${W[@]}" authorize --bogus
  t "option without value" 64 "err:needs a value" -- "${W[@]}" authorize --policies
  t "two inputs from stdin are refused" 64 "err:only one input can be standard input" -- \
    "${W[@]}" authorize --policies - --entities - --principal 'User::"a"' --action 'Action::"v"' \
    --resource 'Photo::"p"'
  t "validate --schema - --policies -" 64 "err:only one input can be standard input" -- \
    "${W[@]}" validate --schema - --policies -
  t "check-parse - -" 64 "err:only one input can be standard input" -- "${W[@]}" check-parse - -
  t "format - -" 64 "err:only one input can be standard input" -- "${W[@]}" format - -
  t "check-parse --policy-format yaml" 64 "err:--policy-format is cedar or json, not 'yaml'" -- \
    "${W[@]}" check-parse --policy-format yaml "$T/simple.cedar"
  t "authorize --policy-format yaml" 64 "err:--policy-format is cedar or json" -- \
    "${W[@]}" authorize --policies "$T/simple.cedar" --policy-format yaml \
    --principal 'User::"a"' --action 'Action::"v"' --resource 'Photo::"p"'
  t "validate --policy-format yaml" 64 "err:--policy-format is cedar or json" -- \
    "${W[@]}" validate --schema "$GOV" --policies "$T/simple.cedar" --policy-format yaml
  t "output to a full stdout fails" 1 "err:cannot write the output to standard output" -- \
    sh -c '"$@" >/dev/full' - "${W[@]}" evaluate 1+1
  t "format to a full stdout fails" 1 "err:cannot write the output" -- \
    sh -c '"$@" >/dev/full' - "${W[@]}" format "$T/simple.cedar"
  t "translate-policy to a full stdout fails" 1 "err:cannot write the output" -- \
    sh -c '"$@" >/dev/full' - "${W[@]}" translate-policy --direction cedar-to-json "$T/simple.cedar"
  t "a DENY to a full stdout is a failure" 1 "err:cannot write the output" -- \
    sh -c '"$@" >/dev/full' - "${W[@]}" authorize --policies "$T/simple.cedar" \
    --principal 'User::"bob"' --action 'Action::"view"' --resource 'Photo::"x"'
  ;;
authorize)
  t "allow exits 0" 0 out:ALLOW noout:DENY -- "${W[@]}" authorize "${POL[@]}" \
    --request-json "$EX/requests/scout-search.json"
  t "deny exits 2 and -v shows @reason" 2 out:DENY "out:policy2: high-risk tools need a human approval" -- \
    "${W[@]}" authorize "${POL[@]}" --request-json "$EX/requests/deployer-unattended.json" -v
  t "request as flags" 0 out:ALLOW -- "${W[@]}" authorize --policies "$T/simple.cedar" \
    --principal 'User::"alice"' --action 'Action::"view"' --resource 'Photo::"x"' --context "$T/ctx.json"
  t "--opt=value form" 0 out:ALLOW -- "${W[@]}" authorize --policies="$T/simple.cedar" \
    --principal='User::"alice"' --action='Action::"view"' --resource='Photo::"x"' --context="$T/ctx.json"
  t "forbid overrides, -v lists it" 2 out:DENY out:policy1 -- "${W[@]}" authorize \
    --policies "$T/simple.cedar" --entities "$T/empty.json" --principal 'User::"alice"' \
    --action 'Action::"view"' --resource 'Photo::"x"' --context "$T/ctx-locked.json" -v
  t "erroring forbid is listed with -v" 0 out:ALLOW "out:errors:" "out:policy1:" -- "${W[@]}" authorize \
    --policies "$T/simple.cedar" --principal 'User::"alice"' --action 'Action::"view"' \
    --resource 'Photo::"x"' -v
  t "--strict: an erroring forbid denies" 2 out:DENY -- "${W[@]}" authorize --strict \
    --policies "$T/simple.cedar" --principal 'User::"alice"' --action 'Action::"view"' \
    --resource 'Photo::"x"'
  t "missing policies file" 1 "err:cannot open '$T/nope.cedar'" -- "${W[@]}" authorize \
    --policies "$T/nope.cedar" --request-json "$EX/requests/scout-search.json"
  t "missing --policies" 64 "err:--policies is required" -- "${W[@]}" authorize \
    --request-json "$EX/requests/scout-search.json"
  t "missing request" 64 "err:a request is needed" -- "${W[@]}" authorize --policies "$T/simple.cedar"
  t "both request forms" 64 "err:either --request-json" -- "${W[@]}" authorize --policies "$T/simple.cedar" \
    --request-json "$EX/requests/scout-search.json" --principal 'User::"a"'
  t "malformed entities JSON has line:col" 1 "err:$T/bad.json:" -- "${W[@]}" authorize --policies "$T/simple.cedar" \
    --entities "$T/bad.json" --request-json "$EX/requests/scout-search.json"
  t "policy syntax error has a caret" 1 "err:$T/syntax.cedar:3:" "err:^" -- "${W[@]}" authorize \
    --policies "$T/syntax.cedar" --request-json "$EX/requests/scout-search.json"
  t "a directory is not a file" 1 "err:$T" -- "${W[@]}" authorize --policies "$T" \
    --request-json "$EX/requests/scout-search.json"
  t "template link allows" 0 out:ALLOW out:alice-trip -- "${W[@]}" authorize --policies "$T/tpl.cedar" \
    --template-linked "$T/links.json" --entities "$T/album.json" --principal 'User::"alice"' \
    --action 'Action::"view"' --resource 'Photo::"p"' -v
  t "template link does not match bob" 2 out:DENY -- "${W[@]}" authorize --policies "$T/tpl.cedar" \
    --template-linked "$T/links.json" --entities "$T/album.json" --principal 'User::"bob"' \
    --action 'Action::"view"' --resource 'Photo::"p"'
  t "link to a missing template" 1 "err:$T/badlinks.json" -- "${W[@]}" authorize --policies "$T/tpl.cedar" \
    --template-linked "$T/badlinks.json" --principal 'User::"bob"' --action 'Action::"view"' \
    --resource 'Photo::"p"'
  "${W[@]}" translate-policy --direction cedar-to-json "$EX/policies.cedar" >"$T/est.json" 2>/dev/null
  t "policies as JSON (EST)" 2 out:DENY "out:high-risk tools need a human approval" -- "${W[@]}" authorize \
    --policies "$T/est.json" --entities "$EX/entities.json" \
    --request-json "$EX/requests/deployer-unattended.json" -v
  t "bad uid syntax" 1 err:error -- "${W[@]}" authorize --policies "$T/simple.cedar" \
    --principal 'alice' --action 'Action::"view"' --resource 'Photo::"x"'
  ;;
evaluate)
  t "arithmetic" 0 out:3 -- "${W[@]}" evaluate '1 + 2'
  t "request and entities" 0 out:460 -- "${W[@]}" evaluate --entities "$EX/entities.json" \
    --request-json "$EX/requests/deployer-approved.json" 'principal.budget - context.spent'
  t "entity hierarchy" 0 out:true -- "${W[@]}" evaluate --entities "$EX/entities.json" \
    --principal 'Agent::"rogue"' --action 'Action::"call"' --resource 'Tool::"shell"' \
    'principal in Fleet::"quarantine"'
  t "evaluation error exits 1" 1 err:error -- "${W[@]}" evaluate '1 + "a"'
  t "overflow exits 1" 1 err:overflow -- "${W[@]}" evaluate '9223372036854775807 + 1'
  t "parse error exits 1 with caret" 1 "err:^" -- "${W[@]}" evaluate '1 +'
  t "a negative number is not an option" 0 out:-3 -- "${W[@]}" evaluate '-1 - 2'
  t "record and set values" 0 out:true -- "${W[@]}" evaluate '{a: [1, 2]}.a.contains(2)'
  t "no expression" 64 "err:exactly one expression" -- "${W[@]}" evaluate
  ;;
check-parse)
  t "good file parses" 0 -- "${W[@]}" check-parse --policies "$EX/policies.cedar"
  t "positional file" 0 -- "${W[@]}" check-parse "$EX/policies.cedar"
  t "stdin" 0 -- bash -c '"$0" cedar check-parse < "$1"' "$WARDEN" "$EX/policies.cedar"
  t "syntax error: file:line:col, source line, caret" 1 "err:$T/syntax.cedar:3:" \
    "err:  };" "err:^" -- "${W[@]}" check-parse "$T/syntax.cedar"
  t "several files: all errors reported" 1 "err:$T/syntax.cedar:" "err:$EX/broken.cedar:" -- \
    "${W[@]}" check-parse "$T/syntax.cedar" "$EX/policies.cedar" "$EX/broken.cedar"
  t "missing file" 1 "err:cannot open '$T/none.cedar'" -- "${W[@]}" check-parse "$T/none.cedar"
  ;;
format)
  t "prints canonical text" 0 "out:permit (" "out:when { context.a == 1 };" -- "${W[@]}" format "$T/messy.cedar"
  t "--check on a formatted file" 0 -- "${W[@]}" format --check "$EX/policies.cedar"
  t "--check names the unformatted file" 1 "out:not formatted: $T/messy.cedar" -- \
    "${W[@]}" format --check "$EX/policies.cedar" "$T/messy.cedar"
  cp "$T/messy.cedar" "$T/w.cedar"
  chmod 640 "$T/w.cedar"
  t "--write rewrites" 0 "out:formatted: $T/w.cedar" -- "${W[@]}" format --write "$T/w.cedar"
  t "--write result passes --check" 0 -- "${W[@]}" format --check "$T/w.cedar"
  t "--write keeps permissions" 0 out:640 -- stat -c %a "$T/w.cedar"
  t "--write leaves no temp files" 0 -- bash -c '! ls "$0"/w.cedar.* 2>/dev/null' "$T"
  mkdir "$T/linked"
  cp "$T/messy.cedar" "$T/linked/target.cedar"
  ln -s linked/target.cedar "$T/link.cedar"
  t "--write through a link" 0 "out:formatted: $T/link.cedar" -- \
    "${W[@]}" format --write "$T/link.cedar"
  t "... keeps the link" 0 -- test -L "$T/link.cedar"
  t "... and rewrites its target" 0 -- "${W[@]}" format --check "$T/linked/target.cedar"
  t "... leaving no temp files" 0 -- bash -c '! ls "$0"/*.cedar.* "$0"/linked/*.cedar.* 2>/dev/null' "$T"
  # A read-only file in a directory the user may write: the rename alone
  # would replace it. Root writes anything, so run as nobody then.
  as=()
  if [[ $(id -u) -eq 0 ]]; then
    as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod o+x "$T"
  fi
  mkdir -m 777 "$T/pub"
  cp "$T/messy.cedar" "$T/pub/ro.cedar"
  chmod 444 "$T/pub/ro.cedar"
  t "--write refuses a file the user may not write" 1 "err:cannot write '$T/pub/ro.cedar'" -- \
    "${as[@]}" "${W[@]}" format --write "$T/pub/ro.cedar"
  t "... which stays as it was" 0 -- cmp "$T/messy.cedar" "$T/pub/ro.cedar"
  t "--check and --write conflict" 64 err:exclude -- "${W[@]}" format --check --write "$T/w.cedar"
  t "parse error with caret" 1 "err:$T/syntax.cedar:3:" "err:^" -- "${W[@]}" format "$T/syntax.cedar"
  t "missing file" 1 "err:cannot open" -- "${W[@]}" format --check "$T/none.cedar"
  ;;
translate)
  t "cedar to json" 0 out:permit out:context -- "${W[@]}" translate-policy --direction cedar-to-json "$T/one.cedar"
  "${W[@]}" translate-policy --direction cedar-to-json "$T/one.cedar" >"$T/one.json" 2>/dev/null
  t "json back to cedar" 0 "out:permit" "out:context.a == 1" -- "${W[@]}" translate-policy \
    --direction json-to-cedar "$T/one.json"
  t "bad direction" 64 err:--direction -- "${W[@]}" translate-policy --direction sideways "$T/one.cedar"
  t "malformed json" 1 "err:$T/bad.json" -- "${W[@]}" translate-policy --direction json-to-cedar "$T/bad.json"
  ;;
validate)
  t "valid policies exit 0" 0 "out:policies are valid" noout:warnings -- "${W[@]}" validate \
    --schema "$GOV" --policies "$T/gov-good.cedar"
  t "the governance pack validates" 0 "out:policies are valid" -- bash -c \
    'cat "$1"/*.cedar >"$2/pack.cedar" && "$0" cedar validate --schema "$1/governance.cedarschema" --policies "$2/pack.cedar"' \
    "$WARDEN" "$SRC/docs/policies" "$T"
  t "misspelt attribute: 3, file:line:col, caret" 3 "err:$T/gov-typo.cedar:2:8:" "err:teir" \
    "err:  when { principal.teir" "err:^^^" "err:validation failed" noout:valid -- \
    "${W[@]}" validate --schema "$GOV" --policies "$T/gov-typo.cedar"
  t "an impossible policy is only a warning" 0 "out:policies are valid (with warnings)" \
    "err:$T/gov-impossible.cedar:1:1: warning:" "err:impossible" -- \
    "${W[@]}" validate --schema "$GOV" --policies "$T/gov-impossible.cedar"
  t "--deny-warnings: an impossible policy fails" 3 "err:impossible" "err:validation failed" -- \
    "${W[@]}" validate --deny-warnings --schema "$GOV" --policies "$T/gov-impossible.cedar"
  t "--deny-warnings on valid policies" 0 "out:policies are valid" -- \
    "${W[@]}" validate --deny-warnings --schema "$GOV" --policies "$T/gov-good.cedar"
  "${W[@]}" translate-schema --direction cedar-to-json "$GOV" >"$T/gov.json" 2>/dev/null
  t "policies from stdin: read once, findings shown under their line" 3 "err:<stdin>:2:8:" \
    "err:  when { principal.teir" "err:^^^" -- \
    sh -c '"$@" <"$0"' "$T/gov-typo.cedar" "${W[@]}" validate --schema "$GOV" --policies -
  t "JSON schema (.json) works too" 3 "err:$T/gov-typo.cedar:2:8:" -- \
    "${W[@]}" validate --schema "$T/gov.json" --policies "$T/gov-typo.cedar"
  t "missing schema file" 1 "err:cannot open '$T/none.cedarschema'" -- "${W[@]}" validate \
    --schema "$T/none.cedarschema" --policies "$T/gov-good.cedar"
  t "missing policies file" 1 "err:cannot open '$T/none.cedar'" -- "${W[@]}" validate \
    --schema "$GOV" --policies "$T/none.cedar"
  t "malformed schema: line:col and caret" 1 "err:$T/syntax.cedarschema:3:3:" "err:^" -- \
    "${W[@]}" validate --schema "$T/syntax.cedarschema" --policies "$T/gov-good.cedar"
  t "unknown schema type: line:col" 1 "err:$T/unknown-type.cedarschema:2:9:" "err:Strin" -- \
    "${W[@]}" validate --schema "$T/unknown-type.cedarschema" --policies "$T/gov-good.cedar"
  t "policy syntax error" 1 "err:$T/syntax.cedar:3:" -- "${W[@]}" validate --schema "$GOV" \
    --policies "$T/syntax.cedar"
  t "no --schema is a usage error" 64 "err:--schema and --policies are required" -- \
    "${W[@]}" validate --policies "$T/gov-good.cedar"
  t "no --policies is a usage error" 64 "err:--schema and --policies are required" -- \
    "${W[@]}" validate --schema "$GOV"
  t "unknown option" 64 "err:unknown option '--bogus'" -- "${W[@]}" validate --bogus
  ;;
translate-schema)
  t "cedar to json" 0 'out:"entityTypes"' 'out:"Agent"' 'out:"task.open"' -- \
    "${W[@]}" translate-schema --direction cedar-to-json "$GOV"
  "${W[@]}" translate-schema --direction cedar-to-json --schema "$GOV" >"$T/gov.json" 2>/dev/null
  t "json to cedar" 0 "out:entity Agent" "out:action \"task.open\"" "out:type TaskInfo" -- \
    "${W[@]}" translate-schema --direction json-to-cedar "$T/gov.json"
  "${W[@]}" translate-schema --direction json-to-cedar "$T/gov.json" >"$T/gov2.cedarschema" 2>/dev/null
  "${W[@]}" translate-schema --direction cedar-to-json "$T/gov2.cedarschema" >"$T/gov2.json" 2>/dev/null
  t "round trip cedar -> json -> cedar -> json is stable" 0 -- cmp "$T/gov.json" "$T/gov2.json"
  t "the round-tripped text validates the same" 3 "err:$T/gov-typo.cedar:2:8:" -- \
    "${W[@]}" validate --schema "$T/gov2.cedarschema" --policies "$T/gov-typo.cedar"
  t "stdin" 0 'out:"entityTypes"' -- bash -c '"$0" cedar translate-schema --direction cedar-to-json < "$1"' \
    "$WARDEN" "$GOV"
  t "malformed schema: line:col and caret" 1 "err:$T/syntax.cedarschema:3:3:" "err:^" -- \
    "${W[@]}" translate-schema --direction cedar-to-json "$T/syntax.cedarschema"
  t "malformed json" 1 "err:$T/bad.json" -- "${W[@]}" translate-schema --direction json-to-cedar "$T/bad.json"
  t "bad direction" 64 err:--direction -- "${W[@]}" translate-schema --direction sideways "$GOV"
  t "no direction" 64 err:--direction -- "${W[@]}" translate-schema "$GOV"
  t "two inputs" 64 "err:one input" -- "${W[@]}" translate-schema --direction cedar-to-json \
    --schema "$GOV" "$GOV"
  t "missing file" 1 "err:cannot open '$T/none.cedarschema'" -- "${W[@]}" translate-schema \
    --direction cedar-to-json "$T/none.cedarschema"
  ;;
schema)
  REQ=(--action 'Action::"task.open"' --resource 'Task::"t1"' --context "$T/task-ctx.json")
  t "authorize --schema accepts a good request" 0 out:ALLOW -- "${W[@]}" authorize --schema "$GOV" \
    --policies "$T/gov-open.cedar" --principal 'Agent::"a"' "${REQ[@]}"
  t "authorize --schema rejects a principal outside appliesTo" 1 "err:principal type \`User\`" \
    "err:Action::\"task.open\"" noout:ALLOW noout:DENY -- "${W[@]}" authorize --schema "$GOV" \
    --policies "$T/gov-open.cedar" --principal 'User::"u"' "${REQ[@]}"
  t "without --schema the same request is decided" 2 out:DENY -- "${W[@]}" authorize \
    --policies "$T/gov-open.cedar" --principal 'User::"u"' "${REQ[@]}"
  t "authorize --schema (JSON format)" 0 out:ALLOW -- bash -c \
    '"$0" cedar translate-schema --direction cedar-to-json "$1" >"$2/g.json" && "$0" cedar authorize --schema "$2/g.json" --policies "$3" --principal "Agent::\"a\"" --action "Action::\"task.open\"" --resource "Task::\"t1\"" --context "$4"' \
    "$WARDEN" "$GOV" "$T" "$T/gov-open.cedar" "$T/task-ctx.json"
  t "authorize: malformed schema shows line:col" 1 "err:$T/syntax.cedarschema:3:3:" "err:^" -- \
    "${W[@]}" authorize --schema "$T/syntax.cedarschema" --policies "$T/gov-open.cedar" \
    --principal 'Agent::"a"' "${REQ[@]}"
  t "authorize: missing schema file" 1 "err:cannot open '$T/none.cedarschema'" -- "${W[@]}" authorize \
    --schema "$T/none.cedarschema" --policies "$T/gov-open.cedar" --principal 'Agent::"a"' "${REQ[@]}"
  t "evaluate --schema: context is checked" 0 out:5 -- "${W[@]}" evaluate --schema "$GOV" \
    --principal 'Agent::"a"' "${REQ[@]}" 'context.risk'
  t "evaluate --schema rejects a bad principal" 1 "err:principal type \`User\`" -- "${W[@]}" evaluate \
    --schema "$GOV" --principal 'User::"u"' "${REQ[@]}" 'context.risk'
  ;;
*)
  echo "unknown group $GROUP" >&2
  exit 2
  ;;
esac

echo "[$GROUP] $((cases - fails))/$cases cases passed"
((fails == 0))
