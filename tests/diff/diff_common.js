// SPDX-License-Identifier: Apache-2.0
// What the two comparators (compare.js for decisions, compare_val.js for
// validation) share: their command line, the crash-tolerant run of the C
// driver, and the tree helpers their shrinkers walk expressions with.
'use strict';
const { spawnSync } = require('child_process');
const gen = require('./gen.js');

function parseArgs(argv) {
  const a = { cases: 1000, seed: 1, only: null, maxShrink: 3, shrink: true, driver: null };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--driver') a.driver = argv[++i];
    else if (k === '--cases') a.cases = Number(argv[++i]);
    else if (k === '--seed') a.seed = Number(argv[++i]) >>> 0;
    else if (k === '--only') a.only = Number(argv[++i]);
    else if (k === '--max-shrink') a.maxShrink = Number(argv[++i]);
    else if (k === '--no-shrink') a.shrink = false;
    else throw new Error('unknown argument ' + k);
  }
  if (!a.driver) throw new Error('--driver PATH is required');
  return a;
}

// Feeds every case (one JSON line each, from encode) to the driver. When the
// driver dies on a case, that case is marked as a crash and the run resumes
// after it, so one crash does not hide the answers to the others.
function runDriver(driver, args, texts, encode) {
  const outs = new Array(texts.length).fill(null);
  let start = 0;
  let crashes = 0;
  while (start < texts.length) {
    const input = texts.slice(start).map(encode).join('\n') + '\n';
    const p = spawnSync(driver, args, { input, maxBuffer: 1 << 30, encoding: 'utf8' });
    if (p.error) throw p.error;
    const lines = p.stdout.split('\n').filter((l) => l.length);
    lines.forEach((l, i) => { if (start + i < texts.length) outs[start + i] = JSON.parse(l); });
    if (lines.length >= texts.length - start) break;
    const bad = start + lines.length;
    outs[bad] = { crash: true, status: p.status, signal: p.signal, stderr: (p.stderr || '').slice(-2000) };
    start = bad + 1;
    // An engine that crashes on everything would make this quadratic.
    if (++crashes >= 25) {
      for (let i = start; i < texts.length; i++) outs[i] = { crash: true, skipped: true };
      break;
    }
  }
  return outs;
}

const clone = (x) => structuredClone(x);
const getAt = (obj, keys) => keys.reduce((o, k) => o[k], obj);
const setAt = (obj, keys, v) => { getAt(obj, keys.slice(0, -1))[keys[keys.length - 1]] = v; };

// All expression node paths under a policy condition, parents first.
function nodePaths(n, base, out) {
  out.push(base);
  for (const k of gen.kids(n)) nodePaths(getAt(n, k), base.concat(k), out);
  return out;
}
const SIMPLE = [gen.L('true'), gen.L('false'), gen.L('1'), gen.L('"a"'), gen.L('principal')];

module.exports = { parseArgs, runDriver, clone, getAt, setAt, nodePaths, SIMPLE };
