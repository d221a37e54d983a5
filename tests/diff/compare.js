// SPDX-License-Identifier: Apache-2.0
//
// Differential test of Warden's Cedar engine against cedar-wasm, the
// reference implementation. Generates cases (gen.js), decides them with
// cedar-wasm in this process and with the C driver (one process for all
// cases), and compares parse success, entity-store success, request
// success, decision, reason set and error-policy set. A disagreement is
// shrunk to a small reproducer and printed. Last line: "N passed, N failed".
//
// Usage: node --no-turbo-inline-js-wasm-calls compare.js --driver PATH
//        [--cases N] [--seed S] [--only INDEX] [--max-shrink K] [--no-shrink]
//
// Integers above 2^53: cedar-wasm takes JS objects and serializes them with
// the global JSON.stringify before handing them to Rust. We hand it a
// marker object and let a wrapped JSON.stringify return our own JSON text,
// so entities and contexts reach the reference byte for byte.
'use strict';
const path = require('path');
const gen = require('./gen.js');
const common = require('./diff_common.js');
const { parseArgs, clone, getAt, setAt, nodePaths, SIMPLE } = common;
const cedar = require(path.join(__dirname, 'node_modules/@cedar-policy/cedar-wasm/nodejs'));

const origStringify = JSON.stringify;
JSON.stringify = function stringify(v, ...rest) {
  if (v && typeof v === 'object' && typeof v.__rawJson === 'string') return v.__rawJson;
  return origStringify.call(JSON, v, ...rest);
};
const raw = (text) => ({ __rawJson: text });

// ---- Reference side -----------------------------------------------------------
const DUMMY = '{"type":"User","id":"__probe"}';
// The policy set is parsed once per case (preparsePolicySet) and reused by
// every request; that halves the reference's cost.
function refCase(t, ids) {
  const out = { parse_ok: false, entities_ok: false, results: [] };
  const pp = cedar.preparsePolicySet('case', { staticPolicies: t.policies });
  out.parse_ok = pp.type === 'success';
  if (!out.parse_ok) {
    out.parse_error = pp.errors.map((e) => e.message).join('; ');
    return out;
  }
  const call = (p, a, r, ctx) =>
    cedar.statefulIsAuthorized(raw(`{"principal":${p},"action":${a},"resource":${r},"context":${ctx},` +
      `"preparsedPolicySetId":"case","entities":${t.entities}}`));
  const map = (pid) => { const m = /^policy(\d+)$/.exec(pid); return m && ids[Number(m[1])] !== undefined ? ids[Number(m[1])] : pid; };
  let anyFailed = false;
  for (const q of t.requestParts) {
    const ans = call(q.principal, q.action, q.resource, q.context);
    if (ans.type !== 'success') {
      anyFailed = true;
      out.results.push({ request_ok: false, error: ans.errors.map((e) => e.message).join('; ') });
      continue;
    }
    const d = ans.response.diagnostics;
    out.results.push({
      request_ok: true,
      decision: ans.response.decision,
      reasons: d.reason.map(map),
      errors: d.errors.map((e) => map(e.policyId)),
      messages: d.errors.map((e) => e.error.message),
    });
  }
  // Entity-store errors (cycles, bad values) surface only through a call;
  // probe with a trivial request only when some request failed.
  out.entities_ok = true;
  if (anyFailed) {
    const probe = call(DUMMY, DUMMY, DUMMY, '{}');
    if (probe.type !== 'success') {
      out.entities_ok = false;
      out.entities_error = probe.errors.map((e) => e.message).join('; ');
      out.results = [];
    }
  }
  return out;
}

// ---- C side -------------------------------------------------------------------
// Runs the driver on rendered cases; returns one output per case, null for
// cases the driver did not answer (it crashed on the first of them).
function runDriver(driver, texts) {
  return common.runDriver(driver, [], texts, (t) =>
    origStringify({ policies: t.policies, entities: t.entities, requests: t.requests }));
}

// ---- Comparison ---------------------------------------------------------------
const sorted = (a) => [...(a || [])].sort();
const same = (a, b) => origStringify(sorted(a)) === origStringify(sorted(b));
// Returns null on agreement, else {cat, req} naming the first difference.
function differ(ref, c) {
  if (!c || c.crash) return { cat: 'crash', req: -1 };
  if (c.bad_case) return { cat: 'bad_case', req: -1 };
  if (ref.parse_ok !== c.parse_ok) return { cat: 'parse', req: -1 };
  if (!ref.parse_ok) return null;
  if (ref.entities_ok !== c.entities_ok) return { cat: 'entities', req: -1 };
  if (!ref.entities_ok) return null;
  for (let i = 0; i < ref.results.length; i++) {
    const r = ref.results[i], x = c.results[i] || {};
    if (r.request_ok !== x.request_ok) return { cat: 'request', req: i };
    if (!r.request_ok) continue;
    if (r.decision !== x.decision) return { cat: 'decision', req: i };
    if (!same(r.reasons, x.reasons)) return { cat: 'reasons', req: i };
    if (!same(r.errors, x.errors)) return { cat: 'errors', req: i };
  }
  return null;
}

// What the generated cases exercise, as the reference sees them.
function tally(s, ref) {
  s.cases++;
  if (ref.parse_ok) s.parse_ok++;
  if (ref.entities_ok) s.entities_ok++;
  for (const r of ref.results) {
    s.requests++;
    if (!r.request_ok) continue;
    s.request_ok++;
    if (r.decision === 'allow') s.allow++;
    if (r.errors.length) s.with_errors++;
  }
}

function render(model) {
  const t = gen.renderCase(model);
  t.requestParts = model.requests.map(gen.requestParts);
  return t;
}

// ---- Shrinking ----------------------------------------------------------------
// One-step simplifications of a model, biggest steps first.
function* candidates(m) {
  const drop = (arr, i) => arr.slice(0, i).concat(arr.slice(i + 1));
  for (let i = 0; i < m.policies.length; i++) if (m.policies.length > 1) yield { ...clone(m), policies: drop(m.policies, i) };
  if (m.requests.length > 1) for (let i = 0; i < m.requests.length; i++) yield { ...clone(m), requests: drop(m.requests, i) };
  for (let i = 0; i < m.entities.length; i++) yield { ...clone(m), entities: drop(m.entities, i) };
  for (let p = 0; p < m.policies.length; p++) {
    const pol = m.policies[p];
    for (let c = 0; c < pol.conds.length; c++) {
      const x = clone(m); x.policies[p].conds.splice(c, 1); yield x;
    }
    for (const s of ['principal', 'action', 'resource']) if (pol[s].op !== 'all') { const x = clone(m); x.policies[p][s] = { op: 'all' }; yield x; }
    if (pol.annots.length) { const x = clone(m); x.policies[p].annots = []; yield x; }
  }
  for (let e = 0; e < m.entities.length; e++) {
    const ent = m.entities[e];
    for (let a = 0; a < ent.attrs.length; a++) { const x = clone(m); x.entities[e].attrs.splice(a, 1); yield x; }
    for (let a = 0; a < ent.parents.length; a++) { const x = clone(m); x.entities[e].parents.splice(a, 1); yield x; }
    if (ent.tags) {
      { const x = clone(m); x.entities[e].tags = null; yield x; }
      for (let a = 0; a < ent.tags.length; a++) { const x = clone(m); x.entities[e].tags.splice(a, 1); yield x; }
    }
  }
  for (let q = 0; q < m.requests.length; q++) {
    for (let a = 0; a < m.requests[q].context.length; a++) { const x = clone(m); x.requests[q].context.splice(a, 1); yield x; }
  }
  for (let p = 0; p < m.policies.length; p++) {
    for (let c = 0; c < m.policies[p].conds.length; c++) {
      const root = ['policies', p, 'conds', c, 'e'];
      for (const rel of nodePaths(getAt(m, root), [], [])) {
        const at = root.concat(rel);
        const n = getAt(m, at);
        for (const k of gen.kids(n)) { const x = clone(m); setAt(x, at, clone(getAt(n, k))); yield x; }
        for (const arrKey of ['elems', 'fields', 'args']) {
          if (!Array.isArray(n[arrKey]) || n.k === 'meth' || n.k === 'call') continue;
          for (let i = 0; i < n[arrKey].length; i++) { const x = clone(m); getAt(x, at)[arrKey].splice(i, 1); yield x; }
        }
        if (n.p) { const x = clone(m); getAt(x, at).p = false; yield x; }
        if (n.k !== 'lit') for (const s of SIMPLE) { const x = clone(m); setAt(x, at, clone(s)); yield x; }
      }
    }
  }
}

function shrink(driver, model, want, budgetMs) {
  const deadline = Date.now() + budgetMs;
  let cur = clone(model);
  if (want.req >= 0) { cur.requests = [cur.requests[want.req]]; }
  const stillFails = (m) => {
    const t = render(m);
    return { t, ok: (c) => { const d = differ(refCase(t, gen.policyIds(m.policies)), c); return d && d.cat === want.cat; } };
  };
  let progress = true;
  while (progress && Date.now() < deadline) {
    progress = false;
    // Batch a round of candidates through one driver run.
    const cands = [];
    for (const c of candidates(cur)) { cands.push(c); if (cands.length >= 400) break; }
    const prepared = cands.map(stillFails);
    const outs = runDriver(driver, prepared.map((p) => p.t));
    for (let i = 0; i < cands.length; i++) {
      if (prepared[i].ok(outs[i])) { cur = cands[i]; progress = true; break; }
      if (Date.now() > deadline) break;
    }
  }
  return cur;
}

function report(driver, model, title) {
  const t = render(model);
  const ref = refCase(t, gen.policyIds(model.policies));
  const c = runDriver(driver, [t])[0];
  const lines = [
    `==== ${title}`,
    '--- policies:', t.policies,
    '--- entities:', t.entities,
    '--- requests:', ...t.requests,
    '--- reference (cedar-wasm):', origStringify(ref),
    '--- warden (C driver):', origStringify(c),
  ];
  console.log(lines.join('\n'));
}

function main() {
  const a = parseArgs(process.argv);
  const idx = a.only !== null ? [a.only] : Array.from({ length: a.cases }, (_, i) => i);
  const models = idx.map((i) => gen.genCase(a.seed, i));
  const texts = models.map(render);
  const cOut = runDriver(a.driver, texts);
  let passed = 0, failed = 0, shrunk = 0;
  const byCat = {};
  const stats = { cases: 0, parse_ok: 0, entities_ok: 0, requests: 0, request_ok: 0, allow: 0, with_errors: 0 };
  for (let i = 0; i < models.length; i++) {
    const ref = refCase(texts[i], gen.policyIds(models[i].policies));
    tally(stats, ref);
    const d = differ(ref, cOut[i]);
    if (!d) { passed++; continue; }
    failed++;
    byCat[d.cat] = (byCat[d.cat] || 0) + 1;
    if (byCat[d.cat] > 1 && shrunk >= 1) continue; // one reproducer per kind is plenty
    if (shrunk >= a.maxShrink) continue;
    shrunk++;
    const title = `case seed=${a.seed} index=${idx[i]}: ${d.cat} disagreement` + (d.req >= 0 ? ` (request ${d.req})` : '');
    const small = a.shrink && !(cOut[i] && cOut[i].skipped) ? shrink(a.driver, models[i], d, 60000) : models[i];
    report(a.driver, small, title + (a.shrink ? ', shrunk' : ''));
    console.log(`--- replay: node --no-turbo-inline-js-wasm-calls ${path.relative(process.cwd(), __filename)} --driver ${a.driver} --seed ${a.seed} --only ${idx[i]}`);
  }
  console.log('reference profile: ' + origStringify(stats));
  if (failed) console.log('failures by kind: ' + origStringify(byCat));
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
