-- SPDX-License-Identifier: Apache-2.0
--
-- wrk script of the service benchmark (bench/service/run.sh).
--
-- With PROOFS set (a file prefix), each request is POST /v1/authorize with
-- the task token and the next unused DPoP proof: proofs are single use, so
-- each wrk thread reads its own file PROOFS.<thread index>, one proof a
-- line, written beforehand by mkproofs. When a thread runs out it stops
-- (its last request would be a replay, which the server must refuse).
-- Without PROOFS, wrk's own request (GET of the URL) is used: /healthz.
--
-- done() prints one machine-readable line for run.sh.

local proofs = os.getenv("PROOFS")
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

if proofs ~= nil then
  local file, token, body, path, last

  function init(args)
    file = assert(io.open(proofs .. "." .. tid, "r"))
    token = os.getenv("TASK_TOKEN")
    body = os.getenv("CALL_BODY")
    path = os.getenv("CALL_PATH") or "/v1/authorize"
  end

  function request()
    local p = file:read("*l")
    if p == nil then
      wrk.thread:stop()
      p = last or "exhausted"
    end
    last = p
    return wrk.format("POST", path, {
      ["Authorization"] = "DPoP " .. token,
      ["DPoP"] = p,
      ["Content-Type"] = "application/json",
    }, body)
  end
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d sockerr=%d\n",
    summary.requests, s, summary.requests / s,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
