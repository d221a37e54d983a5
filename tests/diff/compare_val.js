// SPDX-License-Identifier: Apache-2.0
//
// Differential test of Warden's validator against cedar-wasm's `validate`
// (strict mode). Generates schema + policies cases (gen_val.js), validates
// them with cedar-wasm in this process and with the C driver in
// --validate mode (one process for all cases), and compares: whether
// schema and policies load, the valid/invalid verdict and the set of
// policy ids with errors. Messages are printed, not compared. A
// disagreement is shrunk to a small reproducer. Last line: "N passed, N
// failed".
//
// One normalization: this cedar-wasm reports "unable to find an
// applicable action given the policy scope constraints" as a warning,
// while the conformance corpus and Warden count it as an error; we count
// it as an error on the reference side too. Other warnings are ignored.
//
// Usage: node --no-turbo-inline-js-wasm-calls compare_val.js --driver PATH
//        [--cases N] [--seed S] [--only INDEX] [--max-shrink K] [--no-shrink]
'use strict';
const path = require('path');
const gen = require('./gen.js');
const vgen = require('./gen_val.js');
const common = require('./diff_common.js');
const { parseArgs, clone, getAt, setAt, nodePaths, SIMPLE } = common;
const cedar = require(path.join(__dirname, 'node_modules/@cedar-policy/cedar-wasm/nodejs'));

// ---- Reference side -----------------------------------------------------------
const NO_ACTION = /unable to find an applicable action/;
function refCase(t, ids) {
  const ans = cedar.validate({ schema: t.schema, policies: { staticPolicies: t.policies }, validationSettings: { mode: 'strict' } });
  if (ans.type !== 'success') return { loaded: false, error: ans.errors.map((e) => e.message).join('; ') };
  const map = (pid) => { const m = /^policy(\d+)$/.exec(pid); return m && ids[Number(m[1])] !== undefined ? ids[Number(m[1])] : pid; };
  const errs = ans.validationErrors.map((e) => ({ id: map(e.policyId), msg: e.error.message }));
  for (const w of ans.validationWarnings) if (NO_ACTION.test(w.error.message)) errs.push({ id: map(w.policyId), msg: '(warning, counted as error) ' + w.error.message });
  return { loaded: true, valid: errs.length === 0, errors: errs.map((e) => e.id), messages: errs.map((e) => e.msg) };
}

// ---- C side -------------------------------------------------------------------
function runDriver(driver, texts) {
  return common.runDriver(driver, ['--validate'], texts, (t) =>
    JSON.stringify({ schema: t.schema, policies: t.policies }));
}

// ---- Comparison ---------------------------------------------------------------
const set = (a) => JSON.stringify([...new Set(a || [])].sort());
function differ(ref, c) {
  if (!c || c.crash) return 'crash';
  if (c.bad_case || c.validate_failed) return 'driver';
  const loaded = !!(c.schema_ok && c.parse_ok);
  if (ref.loaded !== loaded) return 'load';
  if (!ref.loaded) return null;
  if (ref.valid !== c.valid || c.valid !== (c.errors.length === 0)) return 'verdict';
  if (set(ref.errors) !== set(c.errors)) return 'errors';
  return null;
}

// ---- Shrinking ----------------------------------------------------------------
// One-step simplifications, biggest first: policies, schema parts, then
// expressions node by node.
function* candidates(m) {
  const edit = (f) => { const x = clone(m); f(x); return x; };
  for (let i = 0; i < m.policies.length; i++) if (m.policies.length > 1) yield edit((x) => x.policies.splice(i, 1));
  for (let i = 0; i < m.schema.actions.length; i++) yield edit((x) => x.schema.actions.splice(i, 1));
  for (let i = 0; i < m.schema.entities.length; i++) yield edit((x) => x.schema.entities.splice(i, 1));
  if (m.schema.common.length) yield edit((x) => { x.schema.common = []; });
  for (let p = 0; p < m.policies.length; p++) {
    for (let c = 0; c < m.policies[p].conds.length; c++) yield edit((x) => x.policies[p].conds.splice(c, 1));
    for (const s of ['principal', 'action', 'resource']) if (m.policies[p][s].op !== 'all') yield edit((x) => { x.policies[p][s] = { op: 'all' }; });
    if (m.policies[p].annots.length) yield edit((x) => { x.policies[p].annots = []; });
  }
  for (let i = 0; i < m.schema.entities.length; i++) {
    const e = m.schema.entities[i];
    for (let a = 0; a < e.attrs.length; a++) yield edit((x) => x.schema.entities[i].attrs.splice(a, 1));
    for (let a = 0; a < e.memberOf.length; a++) yield edit((x) => x.schema.entities[i].memberOf.splice(a, 1));
    if (e.tags) yield edit((x) => { x.schema.entities[i].tags = null; });
    for (let a = 0; a < e.attrs.length; a++) {
      if (e.attrs[a][2]) yield edit((x) => { x.schema.entities[i].attrs[a][2] = false; });
      if (e.attrs[a][1].k !== 'Long') yield edit((x) => { x.schema.entities[i].attrs[a][1] = { k: 'Long' }; });
    }
  }
  for (let i = 0; i < m.schema.actions.length; i++) {
    const a = m.schema.actions[i];
    for (let g = 0; g < a.memberOf.length; g++) yield edit((x) => x.schema.actions[i].memberOf.splice(g, 1));
    if (!a.applies) continue;
    for (const k of ['principal', 'resource']) for (let t = 0; t < a.applies[k].length; t++) if (a.applies[k].length > 1) yield edit((x) => x.schema.actions[i].applies[k].splice(t, 1));
    for (let f = 0; f < a.applies.ctx.fields.length; f++) yield edit((x) => x.schema.actions[i].applies.ctx.fields.splice(f, 1));
  }
  for (let p = 0; p < m.policies.length; p++) {
    for (let c = 0; c < m.policies[p].conds.length; c++) {
      const root = ['policies', p, 'conds', c, 'e'];
      for (const rel of nodePaths(getAt(m, root), [], [])) {
        const at = root.concat(rel);
        const n = getAt(m, at);
        for (const k of gen.kids(n)) yield edit((x) => setAt(x, at, clone(getAt(n, k))));
        for (const key of ['elems', 'fields']) {
          if (!Array.isArray(n[key])) continue;
          for (let i = 0; i < n[key].length; i++) yield edit((x) => getAt(x, at)[key].splice(i, 1));
        }
        if (n.p) yield edit((x) => { getAt(x, at).p = false; });
        if (n.k !== 'lit') for (const s of SIMPLE) yield edit((x) => setAt(x, at, clone(s)));
      }
    }
  }
}

function shrink(driver, model, want, budgetMs) {
  const deadline = Date.now() + budgetMs;
  let cur = clone(model);
  let progress = true;
  while (progress && Date.now() < deadline) {
    progress = false;
    const cands = [];
    for (const c of candidates(cur)) { cands.push(c); if (cands.length >= 400) break; }
    const texts = cands.map(vgen.renderCase);
    const outs = runDriver(driver, texts);
    for (let i = 0; i < cands.length; i++) {
      if (differ(refCase(texts[i], gen.policyIds(cands[i].policies)), outs[i]) === want) { cur = cands[i]; progress = true; break; }
      if (Date.now() > deadline) break;
    }
  }
  return cur;
}

function report(driver, model, title) {
  const t = vgen.renderCase(model);
  const ref = refCase(t, gen.policyIds(model.policies));
  const c = runDriver(driver, [t])[0];
  console.log([`==== ${title}`, '--- schema:', t.schema, '--- policies:', t.policies,
    '--- reference (cedar-wasm): ' + (ref.loaded ? (ref.valid ? 'VALID' : 'INVALID') : 'LOAD FAILURE'), JSON.stringify(ref),
    '--- warden (C driver): ' + (c && c.schema_ok && c.parse_ok ? (c.valid ? 'VALID' : 'INVALID') : 'LOAD FAILURE'), JSON.stringify(c)].join('\n'));
}

function main() {
  const a = parseArgs(process.argv);
  const idx = a.only !== null ? [a.only] : Array.from({ length: a.cases }, (_, i) => i);
  const models = idx.map((i) => vgen.genCase(a.seed, i));
  const texts = models.map(vgen.renderCase);
  const cOut = runDriver(a.driver, texts);
  let passed = 0, failed = 0, shrunk = 0;
  const byKind = {};
  const stats = { cases: 0, loaded: 0, valid: 0, invalid_policies: 0, policies: 0 };
  for (let i = 0; i < models.length; i++) {
    const ref = refCase(texts[i], gen.policyIds(models[i].policies));
    stats.cases++;
    stats.policies += models[i].policies.length;
    if (ref.loaded) { stats.loaded++; if (ref.valid) stats.valid++; stats.invalid_policies += new Set(ref.errors).size; }
    const d = differ(ref, cOut[i]);
    if (!d) { passed++; continue; }
    failed++;
    byKind[d] = (byKind[d] || 0) + 1;
    if (byKind[d] > 1 || shrunk >= a.maxShrink) continue; // one reproducer per kind
    shrunk++;
    const small = a.shrink && !(cOut[i] && cOut[i].skipped) ? shrink(a.driver, models[i], d, 60000) : models[i];
    report(a.driver, small, `case seed=${a.seed} index=${idx[i]}: ${d} disagreement` + (a.shrink ? ', shrunk' : ''));
    console.log(`--- replay: node --no-turbo-inline-js-wasm-calls ${path.relative(process.cwd(), __filename)} --driver ${a.driver} --seed ${a.seed} --only ${idx[i]}`);
  }
  console.log('reference profile: ' + JSON.stringify(stats));
  if (failed) console.log('failures by kind: ' + JSON.stringify(byKind));
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
