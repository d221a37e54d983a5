#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Service benchmark (issue 4, "Performance"): wrk against POST /v1/authorize
# with valid task tokens and fresh DPoP proofs, the starter pack plus 1,000
# extra policies, the evidence log on; and, in the same run, against the
# same server's GET /healthz. Prints a markdown table.
#
# usage: bench/service/run.sh [--build DIR] [--seconds N] [--connections N]
#                             [--threads N] [--proofs N] [--server-threads N]
#                             [--alg ed25519|p256] (the agent's key)
#                             [--perf REPORT]   (perf profile of the server
#                                                during the authorize load;
#                                                PERF_CG="--call-graph dwarf"
#                                                and PERF_DATA=FILE refine it)
#
# Everything stays on 127.0.0.1; the server's state and policies live in a
# temporary directory removed at exit. Proofs are single use, so they are
# signed beforehand by mkproofs (a small C program over src/ident) and fed
# to wrk by bench.lua, one per request.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

BUILD=build SECONDS_EACH=10 CONNS=64 WRK_THREADS=2 PROOFS=200000 SERVER_THREADS="" PROFILE="" ALG=ed25519
while (($#)); do
  case $1 in
  --build) BUILD=$2; shift 2 ;;
  --seconds) SECONDS_EACH=$2; shift 2 ;;
  --connections) CONNS=$2; shift 2 ;;
  --threads) WRK_THREADS=$2; shift 2 ;;
  --proofs) PROOFS=$2; shift 2 ;;
  --server-threads) SERVER_THREADS=$2; shift 2 ;;
  --perf) PROFILE=$2; shift 2 ;;
  --alg) ALG=$2; shift 2 ;;
  -h | --help) sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "run.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
[[ $BUILD == /* ]] || BUILD=$root/$BUILD
command -v wrk >/dev/null || { echo "run.sh: wrk is missing (scripts/deps.sh installs it)" >&2; exit 1; }

# 1. Release build of the server and the ident library mkproofs links.
cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" --target warden wdident wdutil >/dev/null
WARDEN=$BUILD/warden

tmp=$(mktemp -d /tmp/warden-bench.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC2046
cc -O2 -std=c11 -I"$root/src" -I"$root/include" "$here/mkproofs.c" -o "$tmp/mkproofs" \
  "$BUILD/libwdident.a" "$BUILD/libwdutil.a" $(pkg-config --cflags --libs jansson libcrypto) -lm

# 2. Policies: the starter pack and schema, plus 1,000 extra policies of
# three shapes. A third name another agent as principal (the index skips
# them); a third are unscoped forbids on every tool call whose condition
# is false for this load (evaluated on every call); a third are permits
# on one action with a condition on the task's purpose (evaluated when the
# action matches, false here).
mkdir -p "$tmp/policies" "$tmp/data"
chmod 700 "$tmp/data"
cp "$root"/docs/policies/*.cedar "$root"/docs/policies/governance.cedarschema "$tmp/policies/"
TD=bench.local
{
  for ((i = 0; i < 1000; i++)); do
    case $((i % 3)) in
    0) printf '@id("extra-agent-%d")\n@reason("bench: another agent may not delete")\nforbid (principal == Agent::"spiffe://%s/agent/other-%d", action == Action::"fs.delete", resource);\n\n' "$i" "$TD" "$i" ;;
    1) printf '@id("extra-op-%d")\n@reason("bench: operation op-%d is blocked")\nforbid (principal, action in Action::"tool", resource)\nwhen { context.call.operation == "op-%d" };\n\n' "$i" "$i" "$i" ;;
    2) printf '@id("extra-purpose-%d")\n@reason("bench: purpose p-%d may query")\npermit (principal is Agent, action == Action::"db.query", resource)\nwhen { context.task.purpose == "p-%d" && principal.status == "active" };\n\n' "$i" "$i" "$i" ;;
    esac
  done
} >"$tmp/policies/zz-extra.cedar"
# The server refuses policies that others may write, whatever the umask.
chmod -R go-w "$tmp/policies"

# 3. The server, on a free loopback port.
port=$((20000 + RANDOM % 20000))
export WARDEN_ADMIN_TOKEN
WARDEN_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export WARDEN_URL=http://127.0.0.1:$port
sargs=(serve --listen "127.0.0.1:$port" --data "$tmp/data" --policy-dir "$tmp/policies"
  --trust-domain "$TD")
[[ -n $SERVER_THREADS ]] && sargs+=(--threads "$SERVER_THREADS")
"$WARDEN" "${sargs[@]}" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for ((i = 0; i < 100; i++)); do
  curl -fsS "$WARDEN_URL/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.err" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "$WARDEN_URL/readyz" >/dev/null || { echo "run.sh: server not ready" >&2; exit 1; }

# 4. An agent, enrolled through the CLI; a task with a budget large enough
# for the whole run.
agent=bench-agent key=$tmp/agent.key
"$WARDEN" agent register "$agent" --owner alice --tier standard --env prod \
  --attr team=payments >/dev/null
join=$("$WARDEN" agent join-token "$agent" --ttl 300 2>/dev/null | head -n1)
"$WARDEN" agent enroll "$agent" --join-token "$join" --key-file "$key" --alg "$ALG" >/dev/null 2>&1
"$WARDEN" task open --agent-key "$key" --intent "benchmark: read files" --purpose research \
  --tools fs --classification internal --budget 1000000000 --ttl 900 >/dev/null 2>&1
token=$(tr -d '\n' <"$tmp/agent.token")
# One call through the CLI first: the load must be allowed decisions.
"$WARDEN" authorize --agent-key "$key" --tool fs --operation read --classification internal \
  --destination local --environment prod >"$tmp/first.out" 2>&1 || {
  echo "run.sh: the benchmark call is not allowed:" >&2
  cat "$tmp/first.out" >&2
  exit 1
}

wrk_run() { # label, then wrk arguments; prints the RESULT line
  wrk -t "$WRK_THREADS" -c "$CONNS" -d "${SECONDS_EACH}s" --timeout 5s -s "$here/bench.lua" "$@" \
    >"$tmp/wrk.out" 2>&1 || { cat "$tmp/wrk.out" >&2; exit 1; }
  grep '^RESULT ' "$tmp/wrk.out"
}
cpu_ticks() { # user + system clock ticks the process has used so far
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# 5. The baseline, then the decisions. Proofs are signed just before their
# run, so every one is inside the server's 60 s DPoP window.
echo "run.sh: GET /healthz for ${SECONDS_EACH}s at $CONNS connections" >&2
health=$(wrk_run "$WARDEN_URL/healthz")

echo "run.sh: signing $PROOFS DPoP proofs" >&2
"$tmp/mkproofs" "$key" "$tmp/agent.token" "$WARDEN_URL/v1/authorize" "$PROOFS" "$tmp/proofs" \
  "$WRK_THREADS"

echo "run.sh: POST /v1/authorize for ${SECONDS_EACH}s at $CONNS connections" >&2
perf_pid=""
if [[ -n $PROFILE ]]; then
  perf record -q ${PERF_CG:--g} -F 999 -p "$server_pid" -o "$tmp/perf.data" -- sleep "$SECONDS_EACH" \
    >/dev/null 2>&1 &
  perf_pid=$!
fi
cpu0=$(cpu_ticks "$server_pid")
authz=$(PROOFS=$tmp/proofs TASK_TOKEN=$token CALL_PATH=/v1/authorize \
  CALL_BODY='{"tool":"fs","operation":"read","classification":"internal","destination":"local","environment":"prod"}' \
  wrk_run "$WARDEN_URL/v1/authorize")
cpu1=$(cpu_ticks "$server_pid")
rm -f "$tmp"/proofs.*
if [[ -n $perf_pid ]]; then
  wait "$perf_pid" || true
  { # inclusive time per function first (where the time goes), then self time
    perf report -i "$tmp/perf.data" --stdio --children --percent-limit 2 -g none --sort symbol
    perf report -i "$tmp/perf.data" --stdio --no-children -g none --sort dso
    perf report -i "$tmp/perf.data" --stdio --no-children --percent-limit 0.5 -g none \
      --sort dso,symbol
  } >"$PROFILE" 2>/dev/null || true
  [[ -n ${PERF_DATA:-} ]] && cp "$tmp/perf.data" "$PERF_DATA"
  echo "run.sh: profile in $PROFILE" >&2
fi

# A check that the load was real decisions: a verifying chain.
verify=$("$WARDEN" audit verify 2>&1 | head -n1 || true)

# 6. The table.
h_rps=$(field rps "$health") a_rps=$(field rps "$authz")
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
# Server CPU per decision: steadier than the rate on a shared machine.
us_per=$(awk -v t="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" -v n="$(field requests "$authz")" \
  'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
ratio=$(awk -v a="$a_rps" -v h="$h_rps" 'BEGIN { printf "%.2f", (h > 0 ? a / h : 0) }')
ok() { # value, comparison, bound
  awk -v v="$1" -v op="$2" -v b="$3" \
    'BEGIN { m = (op == ">=") ? (v + 0 >= b + 0) : (v + 0 < b + 0); print (m ? "met" : "**NOT met**") }'
}
a_p99=$(field p99_us "$authz")
cat <<EOF

Warden service benchmark: $(nproc) cores, wrk -t$WRK_THREADS -c$CONNS -d${SECONDS_EACH}s on 127.0.0.1, $(grep -c '^@id' "$tmp/policies"/*.cedar | awk -F: '{ s += $2 } END { print s }') policies, evidence log on

| endpoint | requests | requests/s | p50 ms | p90 ms | p99 ms | non-2xx | socket errors |
|---|---:|---:|---:|---:|---:|---:|---:|
| GET /healthz | $(field requests "$health") | $h_rps | $(ms "$(field p50_us "$health")") | $(ms "$(field p90_us "$health")") | $(ms "$(field p99_us "$health")") | $(field non2xx "$health") | $(field sockerr "$health") |
| POST /v1/authorize | $(field requests "$authz") | $a_rps | $(ms "$(field p50_us "$authz")") | $(ms "$(field p90_us "$authz")") | $(ms "$a_p99") | $(field non2xx "$authz") | $(field sockerr "$authz") |

| target | value | result |
|---|---:|---|
| decisions/s >= 15,000 | $a_rps | $(ok "$a_rps" ">=" 15000) |
| p99 < 5 ms at $CONNS connections | $(ms "$a_p99") ms | $(ok "$a_p99" "<" 5000) |
| ratio to /healthz >= 0.4 | $ratio | $(ok "$ratio" ">=" 0.4) |

server CPU per decision: $us_per µs (user + system, over the authorize load)

audit verify after the run: ${verify:-unknown}
EOF
if [[ $(field requests "$authz") -ge $PROOFS ]]; then
  echo
  echo "**The $PROOFS proofs ran out before the end: raise --proofs; requests/s above is a floor.**"
fi
