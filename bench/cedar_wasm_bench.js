// SPDX-License-Identifier: Apache-2.0
//
// The reference side of the engine benchmark: the same two workloads as
// cedar_bench.c, run through @cedar-policy/cedar-wasm's statefulIsAuthorized
// on policy sets preparsed with preparsePolicySet. It prints one JSON object
// per line on stdout (the numbers run.sh compares) and a human table on
// stderr; it is not a conformance test, only a timer.
//
// Usage: node --no-turbo-inline-js-wasm-calls cedar_wasm_bench.js CIT_DIR
//        [--quick] [--module PATH] [--keys FILE] [--schema FILE]
//        [--only corpus|synthetic|validate]
// --keys restricts the corpus to the requests cedar_bench --keys-out timed,
// so both engines decide the same requests. --schema is the governance
// schema of the validation workload (CIT_DIR is not needed for it alone).
// Run node with that flag: it avoids a known V8 crash in wasm calls.
'use strict';

const fs = require('fs');
const path = require('path');

const SYNTH_SIZES = [1, 100, 1000, 10000];
const SYNTH_RUNS = 7;
const VAL_SIZES = [1000, 10000];

function parseArgs(argv) {
  const o = {
    dir: null,
    quick: false,
    module: null,
    keys: null,
    only: null,
    schema: path.join(__dirname, '../docs/policies/governance.cedarschema'),
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--module') o.module = argv[++i];
    else if (a === '--keys') o.keys = argv[++i];
    else if (a === '--schema') o.schema = argv[++i];
    else if (a === '--only') o.only = argv[++i];
    else if (o.dir === null) o.dir = a;
    else throw new Error('unexpected argument ' + a);
  }
  if (o.only !== null && !['corpus', 'synthetic', 'validate'].includes(o.only)) {
    throw new Error('--only takes corpus, synthetic or validate');
  }
  if (o.dir === null && o.only !== 'validate') {
    throw new Error('usage: cedar_wasm_bench.js CIT_DIR [--quick] [--module PATH] [--only W]');
  }
  return o;
}

// The package is found next to this file (npm ci in bench/), or where
// --module / CEDAR_WASM_MODULE says.
function loadCedar(explicit) {
  const tries = [];
  if (explicit) tries.push(explicit);
  if (process.env.CEDAR_WASM_MODULE) tries.push(process.env.CEDAR_WASM_MODULE);
  tries.push(path.join(__dirname, 'node_modules/@cedar-policy/cedar-wasm/nodejs'));
  tries.push('@cedar-policy/cedar-wasm/nodejs');
  for (const t of tries) {
    try {
      return require(t);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  throw new Error('cannot find @cedar-policy/cedar-wasm (run npm ci in bench/)');
}

const nowNs = () => process.hrtime.bigint();
const secs = (ns) => Number(ns) / 1e9;

// Test files: corpus-tests/<hash>.json and tests/**/*.json, in sorted
// order so both engines walk the same sequence.
function listTests(dir) {
  const out = [];
  const corpus = path.join(dir, 'corpus-tests');
  if (fs.existsSync(corpus)) {
    for (const f of fs.readdirSync(corpus).sort()) {
      if (f.endsWith('.json') && !f.endsWith('.entities.json')) out.push(path.join(corpus, f));
    }
  }
  const walk = (d) => {
    for (const f of fs.readdirSync(d).sort()) {
      const p = path.join(d, f);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.json') && !f.endsWith('.entities.json')) out.push(p);
    }
  };
  if (fs.existsSync(path.join(dir, 'tests'))) walk(path.join(dir, 'tests'));
  return out;
}

// Loads and preparses every test. Requests whose policies or entities the
// reference rejects are dropped and counted, as the C side does.
function loadCorpus(cedar, dir, keys) {
  const calls = [];
  let files = 0, skipped = 0, excluded = 0;
  for (const f of listTests(dir)) {
    const rel = path.relative(dir, f);
    let t;
    try {
      t = JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch (e) {
      skipped++;
      continue;
    }
    const reqs = t.requests || [];
    const text = fs.readFileSync(path.join(dir, t.policies), 'utf8');
    const id = 'c' + files;
    const pr = cedar.preparsePolicySet(id, { staticPolicies: text });
    let entities = [];
    if (t.entities) entities = JSON.parse(fs.readFileSync(path.join(dir, t.entities), 'utf8'));
    const ep = cedar.checkParseEntities({ entities });
    if (pr.type !== 'success' || ep.type !== 'success') {
      skipped += reqs.length;
      continue;
    }
    files++;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i];
      if (keys && !keys.has(rel + '\t' + i)) {
        excluded++;
        continue;
      }
      if (!r.principal || !r.action || !r.resource) {
        skipped++;
        continue;
      }
      calls.push({
        call: {
          principal: r.principal,
          action: r.action,
          resource: r.resource,
          context: r.context || {},
          preparsedPolicySetId: id,
          entities,
        },
        expect: r.decision,
      });
    }
  }
  return { calls, files, skipped, excluded };
}

function benchCorpus(cedar, dir, quick, keysFile) {
  const t0 = nowNs();
  let keys = null;
  if (keysFile) keys = new Set(fs.readFileSync(keysFile, 'utf8').split('\n').filter((l) => l));
  const { calls, files, skipped, excluded } = loadCorpus(cedar, dir, keys);
  const loadS = secs(nowNs() - t0);
  let decisions = 0, errors = 0, agree = 0, passes = 0;
  const minS = quick ? 0.2 : 1.0;
  const start = nowNs();
  let elapsed = 0;
  do {
    for (const c of calls) {
      const a = cedar.statefulIsAuthorized(c.call);
      if (a.type !== 'success') {
        errors++;
        continue;
      }
      decisions++;
      if (passes === 0 && String(a.response.decision).toLowerCase() === String(c.expect).toLowerCase()) agree++;
    }
    passes++;
    elapsed = secs(nowNs() - start);
  } while (elapsed < minS && calls.length > 0);
  return {
    engine: 'cedar-wasm',
    workload: 'corpus',
    files,
    requests: calls.length,
    skipped,
    excluded,
    passes,
    decisions,
    errors,
    agree_expected: agree,
    load_s: +loadS.toFixed(3),
    seconds: +elapsed.toFixed(3),
    decisions_per_s: Math.round(decisions / elapsed),
    us_per_decision: +((elapsed * 1e6) / Math.max(decisions, 1)).toFixed(3),
  };
}

// Policy k grants Agent a<k/10> calling Tool t<k%10>; the request matches
// exactly policy n/2 (the 1-policy set's only policy).
function synthPolicies(n) {
  const parts = [];
  for (let k = 0; k < n; k++) {
    parts.push(
      `permit(principal == Agent::"a${Math.floor(k / 10)}", action == Action::"call", ` +
        `resource == Tool::"t${k % 10}") when { context.risk < 50 && context.classification != "secret" };\n`,
    );
  }
  return parts.join('');
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function prepareSynth(cedar, n, quick) {
  const id = 'synth' + n;
  const pr = cedar.preparsePolicySet(id, { staticPolicies: synthPolicies(n) });
  if (pr.type !== 'success') throw new Error('synthetic policies rejected: ' + JSON.stringify(pr.errors));
  const k = Math.floor(n / 2);
  const call = {
    principal: { type: 'Agent', id: 'a' + Math.floor(k / 10) },
    action: { type: 'Action', id: 'call' },
    resource: { type: 'Tool', id: 't' + (k % 10) },
    context: { risk: 10, classification: 'internal' },
    preparsedPolicySetId: id,
    entities: [],
  };
  const first = cedar.statefulIsAuthorized(call);
  if (first.type !== 'success' || first.response.decision !== 'allow' ||
      first.response.diagnostics.reason.length !== 1) {
    throw new Error('synthetic request did not match exactly one policy: ' + JSON.stringify(first));
  }
  // Size a batch to ~runS seconds from a short calibration.
  const runS = quick ? 0.03 : 0.15;
  let batch = 1;
  for (;;) {
    const t = nowNs();
    for (let i = 0; i < batch; i++) cedar.statefulIsAuthorized(call);
    const s = secs(nowNs() - t);
    if (s >= runS / 4 || batch >= 1 << 24) {
      batch = Math.max(1, Math.ceil((batch * runS) / Math.max(s, 1e-9)));
      break;
    }
    batch *= 4;
  }
  return { n, call, batch, runs: [] };
}

// Runs go round-robin over the sizes so that a change in machine load hits
// every size alike and the growth ratio survives it; each size keeps the
// median of its SYNTH_RUNS batches.
function benchSynth(cedar, quick) {
  const cases = SYNTH_SIZES.map((n) => prepareSynth(cedar, n, quick));
  for (let r = 0; r < SYNTH_RUNS; r++) {
    for (const c of cases) {
      const t = nowNs();
      for (let i = 0; i < c.batch; i++) cedar.statefulIsAuthorized(c.call);
      c.runs.push((secs(nowNs() - t) * 1e6) / c.batch);
    }
  }
  return cases.map((c) => ({
    engine: 'cedar-wasm',
    workload: 'synthetic',
    policies: c.n,
    batch: c.batch,
    runs: SYNTH_RUNS,
    us_per_decision: +median(c.runs).toFixed(3),
    us_min: +Math.min(...c.runs).toFixed(3),
  }));
}

// ---- Validation -------------------------------------------------------------
// The same twelve templates as cedar_bench_validate.c, character for
// character: both sides print an FNV-1a hash of the text, and run.sh
// compares them.
const VAL_TEMPLATES = [
  (k) => `permit(principal == Agent::"a${k}", action == Action::"fs.read", resource == Tool::"t${k % 50}") when { context.risk < ${k % 100} && context.call.classification != "secret" };\n`,
  (k) => `permit(principal, action in Action::"read", resource is Data) when { resource.classification == "public" && principal.tier != "read_only" && context.task.budget_left > ${k % 20} };\n`,
  (k) => `forbid(principal, action in Action::"export", resource) when { context.call.destination.external && context.session.classifications.contains("c${k % 7}") };\n`,
  (k) => `permit(principal is Agent, action == Action::"task.open", resource is Task) when { context.task has on_behalf_of && context.task.on_behalf_of in Team::"team${k % 30}" };\n`,
  (k) => `permit(principal, action in [Action::"fs.write", Action::"db.update"], resource) when { context.task.tools.containsAll([Tool::"fs", Tool::"db"]) && principal.owner.name == "u${k}" } unless { principal.status == "quarantined" };\n`,
  (k) => `forbid(principal, action in Action::"high_impact", resource) unless { principal.tier == "high_impact" && context.time.toTime() < duration("${k % 24}h") };\n`,
  (k) => `permit(principal == Agent::"a${k}", action == Action::"task.change_intent", resource) when { context.previous_intent != context.task.intent && context.task.age < duration("${k % 60}m") };\n`,
  (k) => `permit(principal, action == Action::"http.get", resource) when { principal.team == Team::"team${k % 30}" && context.call.operation like "get*${k % 10}" && context.session.tools.contains(context.call.tool) };\n`,
  (k) => `permit(principal, action in Action::"db", resource is Data in Tool::"db${k % 5}") when { resource.classification == "internal" && context.session.calls < ${k} && context.call.environment == principal.environment };\n`,
  (k) => `permit(principal, action == Action::"task.renew", resource) when { context.task.calls < context.task.budget_left * 2 && context.risk <= ${k % 100} && context.session.denials == 0 };\n`,
  (k) => `permit(principal, action == Action::"email.send", resource is Tool) when { resource.external && resource.risk < ${k % 100} && context.call.destination != Destination::"local" && context.task.ceiling == context.call.classification };\n`,
  (k) => `forbid(principal, action, resource) when { principal.status == "retired" || context.session.denials > ${k % 10} || (context.task has on_behalf_of && context.task.on_behalf_of.name == "n${k}") };\n`,
];

function valPolicies(n) {
  const parts = [];
  for (let k = 0; k < n; k++) parts.push(VAL_TEMPLATES[k % VAL_TEMPLATES.length](k));
  return parts.join('');
}

// The generated text is ASCII, so UTF-16 code units are its bytes.
function fnv1a(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

// validate() takes schema and policies as text and parses both on every
// call; the API keeps no parsed schema for validation, so that is what a
// caller pays and what is timed. Every set must come out clean.
function benchValidate(cedar, schemaPath, quick) {
  const schema = fs.readFileSync(schemaPath, 'utf8');
  const runs = quick ? 1 : 3;
  // One untimed call first: the first validate() pays one-off set-up costs
  // in the module that would otherwise land on the 1,000-policy figure.
  cedar.validate({ schema, policies: { staticPolicies: valPolicies(12) }, validationSettings: { mode: 'strict' } });
  return VAL_SIZES.map((n) => {
    const text = valPolicies(n);
    const call = { schema, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } };
    const times = [];
    for (let r = 0; r < runs; r++) {
      const t = nowNs();
      const a = cedar.validate(call);
      times.push(secs(nowNs() - t) * 1e3);
      if (a.type !== 'success' || a.validationErrors.length || a.validationWarnings.length) {
        throw new Error(`validation of ${n} generated policies not clean: ` + JSON.stringify(a).slice(0, 500));
      }
    }
    return {
      engine: 'cedar-wasm',
      workload: 'validate',
      policies: n,
      bytes: text.length,
      hash: fnv1a(text),
      runs,
      parse_validate_ms: +median(times).toFixed(3),
      parse_validate_ms_min: +Math.min(...times).toFixed(3),
    };
  });
}

function main() {
  const o = parseArgs(process.argv);
  const cedar = loadCedar(o.module);
  const want = (w) => o.only === null || o.only === w;
  const emit = (r) => process.stdout.write(JSON.stringify(r) + '\n');
  const info = { engine: 'cedar-wasm', workload: 'info', version: cedar.getCedarVersion(), node: process.version };
  emit(info);
  const lines = ['', `cedar-wasm ${info.version}`];
  if (want('corpus')) {
    const c = benchCorpus(cedar, o.dir, o.quick, o.keys);
    emit(c);
    lines.push(
      `  corpus: ${c.requests} requests from ${c.files} files (${c.skipped} skipped, ${c.excluded} not timed by warden), ${c.passes} pass(es)`,
      `          ${c.decisions_per_s} decisions/s, ${c.us_per_decision} us/decision, ` +
        `${c.agree_expected}/${c.requests} agree with expected`,
    );
  }
  if (want('synthetic')) {
    const synth = benchSynth(cedar, o.quick);
    for (const r of synth) {
      r.ratio_vs_1 = +(r.us_per_decision / synth[0].us_per_decision).toFixed(2);
      emit(r);
      lines.push(`  synthetic ${String(r.policies).padStart(5)} policies: ${String(r.us_per_decision).padStart(10)} us/decision` +
        `  (x${r.ratio_vs_1} vs 1 policy)`);
    }
  }
  if (want('validate')) {
    for (const r of benchValidate(cedar, o.schema, o.quick)) {
      emit(r);
      lines.push(`  validate ${String(r.policies).padStart(5)} policies: ${String(r.parse_validate_ms).padStart(10)} ms (parse + validate)`);
    }
  }
  process.stderr.write(lines.join('\n') + '\n');
}

main();
