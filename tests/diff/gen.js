// SPDX-License-Identifier: Apache-2.0
//
// Random Cedar cases for the differential test: a policy set (as an AST
// that prints to Cedar text), an entity store and a few requests. Cases
// are deterministic for (seed, index). Integers are BigInt throughout and
// printed by our own JSON writer, so values above 2^53 stay exact. The
// AST is kept (rather than only text) so that compare.js can shrink a
// failing case node by node. This file only generates and prints; it
// knows nothing of either engine.
'use strict';

// ---- PRNG: mulberry32, seeded per case ----------------------------------
function rngFor(seed, index) {
  let a = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((index >>> 0) + 0x632be5ab, 0x85ebca6b)) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    f: next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    // weighted: [[w, value], ...]
    wpick: (pairs) => {
      let tot = 0;
      for (const [w] of pairs) tot += w;
      let x = next() * tot;
      for (const [w, v] of pairs) {
        if ((x -= w) < 0) return v;
      }
      return pairs[pairs.length - 1][1];
    },
  };
  return r;
}

// ---- Universe -------------------------------------------------------------
const IDS = {
  User: ['alice', 'bob', 'carol', 'é'],
  Group: ['admins', 'staff', 'g"q', 'all'],
  Photo: ['p1', 'p2', 'with space'],
  Album: ['a1', 'a2', 'a3'],
  'NS::Doc': ['d1', ''],
  Action: ['view', 'edit', 'delete', 'readOnly', 'all'],
};
const ENT_TYPES = ['User', 'Group', 'Photo', 'Album', 'NS::Doc'];
// Parents allowed per type; order inside a type (by index) keeps graphs acyclic.
const PARENT_TYPES = { User: ['Group'], Group: ['Group'], Photo: ['Album'], Album: ['Album'], 'NS::Doc': ['Album'] };
const ACTION_PARENTS = { view: ['readOnly', 'all'], edit: ['all'], delete: ['all'], readOnly: ['all'], all: [] };

// attribute name -> preferred type
const ATTRS = {
  name: 'str', age: 'long', active: 'bool', manager: 'ent', owner: 'ent', friends: 'setent',
  nums: 'setlong', labels: 'setstr', addr: 'ip', score: 'dec', created: 'dt', ttl: 'dur',
  info: 'rec', 'has space': 'str', level: 'long',
};
const ATTR_NAMES = Object.keys(ATTRS);
const MISSING_ATTRS = ['missing', 'nope'];
const TAG_KEYS = ['t1', 't2', 'color', 'x y'];
const CTX = {
  flag: 'bool', n: 'long', s: 'str', e: 'ent', set: 'setent', nums: 'setlong', ip: 'ip',
  d: 'dec', when: 'dt', dur: 'dur', info: 'rec', 'odd key': 'str',
};
const CTX_NAMES = Object.keys(CTX);

const TWO63 = 1n << 63n;
const LONGS = [0n, 1n, 2n, 3n, 5n, 7n, 10n, 42n, 100n, 255n, 1000n, TWO63 - 1n, TWO63 - 2n, (1n << 53n),
  (1n << 53n) + 1n, (1n << 62n), (1n << 32n), 2147483647n, 3037000499n, 3037000500n, 4611686018427387904n];
const STRS = ['', 'a', 'alice', 'foo*bar', 'a*', '*', 'hello world', 'line\nbreak', 'tab\there', 'quote"q',
  'back\\slash', 'é', '日本', '😀', 'admin', 'ab', 'aab', 'nul\u0000x', 'x y'];
const DECIMALS = ['0.0', '1.5', '-1.5', '1.2345', '922337203685477.5807', '-922337203685477.5808', '3.14', '-0.0001'];
const BAD_DECIMALS = ['10', '1.23456', 'abc', '922337203685477.5808', '1.', ''];
const IPS = ['10.0.0.1', '10.0.0.0/8', '192.168.1.1', '127.0.0.1', '::1', '224.0.0.1', 'ff02::1', '2001:db8::/32',
  '10.1.2.3/24', '0.0.0.0/0', '::'];
const BAD_IPS = ['::ffff:10.0.0.1', '999.0.0.1', '10.0.0.1/33', 'ab::cd::ef', '01.2.3.4', 'x'];
const DATETIMES = ['2024-01-01', '2024-02-29T12:00:00Z', '1970-01-01T00:00:00.001Z', '2024-06-01T10:00:00+0200',
  '1969-12-31', '2038-01-19T03:14:08Z', '9999-12-31T23:59:59.999Z'];
const BAD_DATETIMES = ['2024-13-01', '2023-02-29', '2024-01-01T25:00:00Z', '24-01-01', '2024-01-01T00:00:00'];
const DURATIONS = ['1h', '1d2h3m4s5ms', '-1s', '0ms', '90m', '-2d', '1ms', '106751d'];
const BAD_DURATIONS = ['1x', 'h', '1h1d', '', '9999999999999999999d'];

// ---- Values (for JSON) -----------------------------------------------------
// {t:'bool'|'long'|'str'|'set'|'rec'|'ent'|'extn'|'raw', ...}
function genLong(r) {
  const v = r.chance(0.6) ? BigInt(r.int(12)) : r.pick(LONGS);
  return r.chance(0.3) ? -v : v;
}
function genUid(r, type) {
  const t = type || r.pick(ENT_TYPES);
  return { type: t, id: r.chance(0.08) ? 'ghost' : r.pick(IDS[t]) };
}
function extnVal(r, fn, good, bad) {
  // Rare: one bad value fails the whole store (or request).
  return { t: 'extn', fn, arg: r.chance(0.002) ? r.pick(bad) : r.pick(good) };
}
function genValue(r, ty, depth) {
  if (r.chance(0.12)) ty = r.pick(['bool', 'long', 'str', 'ent', 'setlong', 'rec', 'dec', 'ip', 'dt', 'dur']);
  switch (ty) {
    case 'bool': return { t: 'bool', v: r.chance(0.5) };
    case 'long':
      if (r.chance(0.004)) return { t: 'raw', v: r.pick(['9223372036854775808', '1.5', '-9223372036854775809']) };
      return { t: 'long', v: genLong(r) };
    case 'str': return { t: 'str', v: r.pick(STRS) };
    case 'ent': return { t: 'ent', uid: genUid(r), form: r.chance(0.85) ? '__entity' : 'implicit' };
    case 'setent': return { t: 'set', v: Array.from({ length: r.int(4) }, () => genValue(r, 'ent', depth - 1)) };
    case 'setlong': return { t: 'set', v: Array.from({ length: r.int(4) }, () => ({ t: 'long', v: genLong(r) })) };
    case 'setstr': return { t: 'set', v: Array.from({ length: r.int(4) }, () => ({ t: 'str', v: r.pick(STRS) })) };
    case 'rec': {
      if (depth <= 0) return { t: 'rec', v: [] };
      const v = [];
      if (r.chance(0.8)) v.push(['level', { t: 'long', v: genLong(r) }]);
      if (r.chance(0.6)) v.push(['label', { t: 'str', v: r.pick(STRS) }]);
      if (r.chance(0.4)) v.push(['nested', genValue(r, 'rec', depth - 1)]);
      if (r.chance(0.3)) v.push(['deep', { t: 'bool', v: r.chance(0.5) }]);
      if (r.chance(0.2)) v.push(['who', genValue(r, 'ent', depth - 1)]);
      return { t: 'rec', v };
    }
    case 'dec': return extnVal(r, 'decimal', DECIMALS, BAD_DECIMALS);
    case 'ip': return extnVal(r, 'ip', IPS, BAD_IPS);
    case 'dt': return extnVal(r, 'datetime', DATETIMES, BAD_DATETIMES);
    case 'dur': return extnVal(r, 'duration', DURATIONS, BAD_DURATIONS);
    default: return { t: 'bool', v: true };
  }
}

function jstr(s) { return JSON.stringify(s); }
function uidJson(u) { return `{"type":${jstr(u.type)},"id":${jstr(u.id)}}`; }
function valueJson(v) {
  switch (v.t) {
    case 'bool': return v.v ? 'true' : 'false';
    case 'long': return v.v.toString();
    case 'raw': return v.v;
    case 'str': return jstr(v.v);
    case 'set': return '[' + v.v.map(valueJson).join(',') + ']';
    case 'rec': return '{' + v.v.map(([k, x]) => jstr(k) + ':' + valueJson(x)).join(',') + '}';
    case 'ent': return v.form === '__entity' ? `{"__entity":${uidJson(v.uid)}}` : uidJson(v.uid);
    case 'extn': return `{"__extn":{"fn":${jstr(v.fn)},"arg":${jstr(v.arg)}}}`;
    default: throw new Error('bad value ' + v.t);
  }
}
function recordJson(fields) { return '{' + fields.map(([k, x]) => jstr(k) + ':' + valueJson(x)).join(',') + '}'; }

// ---- Entities ---------------------------------------------------------------
function genEntities(r) {
  const out = [];
  for (const t of ENT_TYPES) {
    IDS[t].forEach((id, idx) => {
      if (r.chance(0.2)) return; // some principals/resources do not exist
      const parents = [];
      for (const pt of PARENT_TYPES[t]) {
        IDS[pt].forEach((pid, pidx) => {
          if (pt === t && pidx <= idx) return; // acyclic by index
          if (r.chance(0.3)) parents.push({ type: pt, id: pid });
        });
      }
      const attrs = [];
      for (const a of ATTR_NAMES) if (r.chance(0.2)) attrs.push([a, genValue(r, ATTRS[a], 2)]);
      let tags = null;
      if (r.chance(0.4)) {
        tags = [];
        for (const k of TAG_KEYS) if (r.chance(0.5)) tags.push([k, genValue(r, r.pick(['str', 'long', 'bool', 'ent']), 1)]);
      }
      out.push({ uid: { type: t, id }, attrs, parents, tags, form: r.chance(0.8) ? 'plain' : '__entity' });
    });
  }
  for (const [id, ps] of Object.entries(ACTION_PARENTS)) {
    if (r.chance(0.15)) continue;
    out.push({ uid: { type: 'Action', id }, attrs: [], parents: ps.filter(() => r.chance(0.7)).map((p) => ({ type: 'Action', id: p })), tags: null, form: 'plain' });
  }
  // Rare malformed stores: a cycle, a duplicate.
  if (r.chance(0.01) && out.length > 1) {
    const a = out[0], b = out[1];
    a.parents.push(b.uid); b.parents.push(a.uid);
  }
  if (r.chance(0.005) && out.length) out.push(structuredClone(out[0]));
  return out;
}
function entityJson(e) {
  const uid = e.form === '__entity' ? `{"__entity":${uidJson(e.uid)}}` : uidJson(e.uid);
  let s = `{"uid":${uid},"attrs":${recordJson(e.attrs)},"parents":[${e.parents.map(uidJson).join(',')}]`;
  if (e.tags) s += `,"tags":${recordJson(e.tags)}`;
  return s + '}';
}
function entitiesJson(es) { return '[' + es.map(entityJson).join(',') + ']'; }

// ---- Requests ---------------------------------------------------------------
function genRequest(r) {
  const ctx = [];
  for (const k of CTX_NAMES) if (r.chance(0.5)) ctx.push([k, genValue(r, CTX[k], 2)]);
  return {
    principal: r.chance(0.8) ? genUid(r, r.pick(['User', 'User', 'Group'])) : genUid(r),
    action: { type: 'Action', id: r.chance(0.05) ? 'ghost' : r.pick(IDS.Action) },
    resource: r.chance(0.85) ? genUid(r, r.pick(['Photo', 'Album', 'NS::Doc'])) : genUid(r),
    context: ctx,
  };
}
function requestParts(q) {
  return { principal: uidJson(q.principal), action: uidJson(q.action), resource: uidJson(q.resource), context: recordJson(q.context) };
}
function requestJson(q) {
  const p = requestParts(q);
  return `{"principal":${p.principal},"action":${p.action},"resource":${p.resource},"context":${p.context}}`;
}

// ---- Cedar text helpers -----------------------------------------------------
function cedarStr(s, uesc) {
  let o = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') o += '\\"';
    else if (ch === '\\') o += '\\\\';
    else if (ch === '\n') o += '\\n';
    else if (ch === '\t') o += '\\t';
    else if (ch === '\r') o += '\\r';
    else if (c === 0) o += '\\0';
    else if (c > 126 && uesc) o += '\\u{' + c.toString(16) + '}';
    else o += ch;
  }
  return o + '"';
}
function uidText(u) { return `${u.type}::${cedarStr(u.id, false)}`; }
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['true', 'false', 'if', 'then', 'else', 'in', 'is', 'like', 'has', '__cedar']);
function isIdent(s) { return IDENT_RE.test(s) && !RESERVED.has(s); }

// ---- Expressions --------------------------------------------------------------
// Node kinds and their precedence level (0 = if, 1 ||, 2 &&, 3 relation,
// 4 +/-, 5 *, 6 unary, 7 member, 8 primary).
const BIN_LEVEL = { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3, in: 3, '+': 4, '-': 4, '*': 5 };
function level(n) {
  switch (n.k) {
    case 'ite': return 0;
    case 'bin': return BIN_LEVEL[n.op];
    case 'has': case 'like': case 'is': return 3;
    case 'un': case 'neglit': return 6;
    case 'attr': case 'meth': return 7;
    default: return 8;
  }
}
function pr(n, need) {
  const s = prNode(n);
  return n.p || level(n) < need ? '(' + s + ')' : s;
}
function patText(pat) {
  let o = '"';
  for (const part of pat) {
    if (part === null) o += '*';
    else o += cedarStr(part, false).slice(1, -1).replace(/\*/g, '\\*');
  }
  return o + '"';
}
function prNode(n) {
  switch (n.k) {
    case 'lit': return n.text;
    case 'neglit': return n.text;
    case 'ite': return `if ${pr(n.c, 0)} then ${pr(n.t, 0)} else ${pr(n.e, 0)}`;
    case 'bin': {
      const l = BIN_LEVEL[n.op];
      if (l === 3) return `${pr(n.a, 4)} ${n.op} ${pr(n.b, 4)}`;
      return `${pr(n.a, l)} ${n.op} ${pr(n.b, l + 1)}`;
    }
    case 'un': return n.op + (n.a.k === 'un' || n.a.k === 'neglit' ? ' ' : '') + pr(n.a, n.a.k === 'un' ? 6 : 7);
    case 'has': return `${pr(n.a, 4)} has ${n.path.map((x) => (n.path.length === 1 && !isIdent(x) ? cedarStr(x) : x)).join('.')}`;
    case 'like': return `${pr(n.a, 4)} like ${patText(n.pat)}`;
    case 'is': return `${pr(n.a, 4)} is ${n.type}` + (n.inE ? ` in ${pr(n.inE, 4)}` : '');
    case 'attr': return pr(n.a, 7) + (n.idx || !isIdent(n.name) ? `[${cedarStr(n.name)}]` : `.${n.name}`);
    case 'meth': return `${pr(n.a, 7)}.${n.name}(${n.args.map((x) => pr(x, 0)).join(', ')})`;
    case 'call': return `${n.fn}(${n.args.map((x) => pr(x, 0)).join(', ')})`;
    case 'set': return `[${n.elems.map((x) => pr(x, 0)).join(', ')}]`;
    case 'rec': return `{${n.fields.map(([k, x]) => `${isIdent(k) && !n.q ? k : cedarStr(k)}: ${pr(x, 0)}`).join(', ')}}`;
    default: throw new Error('bad node ' + n.k);
  }
}
// Child slots of a node as key paths relative to it, for the shrinker.
function kids(n) {
  switch (n.k) {
    case 'ite': return [['c'], ['t'], ['e']];
    case 'bin': return [['a'], ['b']];
    case 'un': case 'has': case 'like': case 'attr': return [['a']];
    case 'is': return n.inE ? [['a'], ['inE']] : [['a']];
    case 'meth': return [['a'], ...n.args.map((_, i) => ['args', i])];
    case 'call': return n.args.map((_, i) => ['args', i]);
    case 'set': return n.elems.map((_, i) => ['elems', i]);
    case 'rec': return n.fields.map((_, i) => ['fields', i, 1]);
    default: return [];
  }
}

const L = (text) => ({ k: 'lit', text });
function longLit(r) {
  if (r.chance(0.01)) return { k: 'neglit', text: '-9223372036854775808' }; // i64::MIN is only a literal when negated
  if (r.chance(0.002)) return L('9223372036854775808'); // out of range: parse error
  const v = genLong(r);
  if (v < 0n) return { k: 'neglit', text: v.toString() };
  return L(v.toString());
}
function strLit(r) { return L(cedarStr(r.pick(STRS), r.chance(0.3))); }
function entLit(r, type) { return L(uidText(genUid(r, type))); }
function extCall(r, fn, good, bad) { return { k: 'call', fn, args: [L(cedarStr(r.chance(0.04) ? r.pick(bad) : r.pick(good)))] }; }

class ExprGen {
  constructor(r) { this.r = r; }
  attrOf(recv, ty) {
    const r = this.r;
    let name;
    if (r.chance(0.05)) name = r.pick(MISSING_ATTRS);
    else {
      const cands = ATTR_NAMES.filter((a) => !ty || ATTRS[a] === ty);
      name = r.pick(cands.length ? cands : ATTR_NAMES);
    }
    return { k: 'attr', a: recv, name, idx: r.chance(0.1) };
  }
  ctxAttr(ty) {
    const r = this.r;
    const cands = CTX_NAMES.filter((a) => !ty || CTX[a] === ty);
    const name = r.chance(0.05) ? 'absent' : r.pick(cands.length ? cands : CTX_NAMES);
    return { k: 'attr', a: L('context'), name, idx: r.chance(0.1) };
  }
  entVar() { return L(this.r.wpick([[4, 'principal'], [4, 'resource'], [1, 'action']])); }
  // Leaf of type ty.
  leaf(ty) {
    const r = this.r;
    switch (ty) {
      case 'bool': return r.wpick([[2, () => L(r.chance(0.5) ? 'true' : 'false')], [2, () => this.ctxAttr('bool')], [2, () => this.attrOf(this.entVar(), 'bool')]])();
      case 'long': return r.wpick([[3, () => longLit(r)], [1, () => this.ctxAttr('long')], [2, () => this.attrOf(this.entVar(), 'long')]])();
      case 'str': return r.wpick([[3, () => strLit(r)], [1, () => this.ctxAttr('str')], [1, () => this.attrOf(this.entVar(), 'str')]])();
      case 'ent': return r.wpick([[4, () => this.entVar()], [3, () => entLit(r)], [1, () => this.attrOf(this.entVar(), 'ent')], [1, () => this.ctxAttr('ent')]])();
      case 'set': return r.wpick([[2, () => ({ k: 'set', elems: Array.from({ length: r.int(4) }, () => (r.chance(0.5) ? entLit(r) : longLit(r))) })],
        [2, () => this.attrOf(this.entVar(), r.pick(['setent', 'setlong', 'setstr']))], [1, () => this.ctxAttr(r.pick(['setent', 'setlong']))]])();
      case 'rec': return r.wpick([[2, () => L('context')], [1, () => this.attrOf(this.entVar(), 'rec')], [1, () => this.ctxAttr('rec')], [1, () => ({ k: 'rec', fields: [] })]])();
      case 'dec': return r.chance(0.6) ? extCall(r, 'decimal', DECIMALS, BAD_DECIMALS) : r.chance(0.5) ? this.attrOf(this.entVar(), 'dec') : this.ctxAttr('dec');
      case 'ip': return r.chance(0.6) ? extCall(r, 'ip', IPS, BAD_IPS) : r.chance(0.5) ? this.attrOf(this.entVar(), 'ip') : this.ctxAttr('ip');
      case 'dt': return r.chance(0.6) ? extCall(r, 'datetime', DATETIMES, BAD_DATETIMES) : r.chance(0.5) ? this.attrOf(this.entVar(), 'dt') : this.ctxAttr('dt');
      case 'dur': return r.chance(0.6) ? extCall(r, 'duration', DURATIONS, BAD_DURATIONS) : this.ctxAttr('dur');
      default: return L('true');
    }
  }
  gen(ty, d) {
    const r = this.r;
    // Type confusion on purpose: the source of most evaluation errors.
    if (r.chance(0.04)) ty = r.pick(['bool', 'long', 'str', 'ent', 'set', 'rec', 'dec', 'ip', 'dt', 'dur']);
    const n = d <= 0 || r.chance(0.25) ? this.leaf(ty) : this.compound(ty, d - 1);
    if (r.chance(0.05)) n.p = true;
    return n;
  }
  compound(ty, d) {
    const r = this.r, g = (t) => this.gen(t, d);
    const ite = [1, () => ({ k: 'ite', c: g('bool'), t: g(ty), e: g(ty) })];
    const getTag = [1, () => ({ k: 'meth', a: g('ent'), name: 'getTag', args: [r.chance(0.8) ? L(cedarStr(r.pick(TAG_KEYS))) : g('str')] })];
    const attr = [1, () => this.attrOf(r.chance(0.7) ? g('ent') : g('rec'), null)];
    switch (ty) {
      case 'bool': return r.wpick([
        [3, () => ({ k: 'un', op: '!', a: g('bool') })],
        [4, () => ({ k: 'bin', op: r.pick(['&&', '||']), a: g('bool'), b: g('bool') })],
        [4, () => ({ k: 'bin', op: r.pick(['<', '<=', '>', '>=']), a: g('long'), b: g('long') })],
        [1, () => { const t = r.pick(['dt', 'dur']); return { k: 'bin', op: r.pick(['<', '<=', '>', '>=']), a: g(t), b: g(t) }; }],
        [4, () => { const t = r.pick(['long', 'str', 'ent', 'bool', 'set', 'rec', 'dec', 'ip', 'dt', 'dur']); return { k: 'bin', op: r.pick(['==', '!=']), a: g(t), b: g(t) }; }],
        [4, () => ({ k: 'bin', op: 'in', a: g('ent'), b: r.chance(0.6) ? g('ent') : { k: 'set', elems: Array.from({ length: r.int(3) + 1 }, () => g('ent')) } })],
        [2, () => ({ k: 'like', a: g('str'), pat: genPattern(r) })],
        [2, () => ({ k: 'is', a: g('ent'), type: r.pick([...ENT_TYPES, 'Action', 'Nope']), inE: r.chance(0.4) ? g('ent') : null })],
        [3, () => ({ k: 'has', a: r.chance(0.6) ? g('ent') : g('rec'), path: genHasPath(r) })],
        [2, () => ({ k: 'meth', a: g('set'), name: 'contains', args: [g(r.pick(['ent', 'long', 'str']))] })],
        [2, () => ({ k: 'meth', a: g('set'), name: r.pick(['containsAll', 'containsAny']), args: [g('set')] })],
        [1, () => ({ k: 'meth', a: g('set'), name: 'isEmpty', args: [] })],
        [2, () => ({ k: 'meth', a: g('ent'), name: 'hasTag', args: [r.chance(0.8) ? L(cedarStr(r.pick(TAG_KEYS))) : g('str')] })],
        [1, () => ({ k: 'meth', a: g('dec'), name: r.pick(['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual']), args: [g('dec')] })],
        [1, () => ({ k: 'meth', a: g('ip'), name: r.pick(['isIpv4', 'isIpv6', 'isLoopback', 'isMulticast']), args: [] })],
        [1, () => ({ k: 'meth', a: g('ip'), name: 'isInRange', args: [g('ip')] })],
        ite, attr, getTag,
      ])();
      case 'long': return r.wpick([
        [4, () => ({ k: 'bin', op: r.pick(['+', '-', '*']), a: g('long'), b: g('long') })],
        [2, () => ({ k: 'un', op: '-', a: g('long') })],
        [1, () => ({ k: 'meth', a: g('dur'), name: r.pick(['toDays', 'toHours', 'toMinutes', 'toSeconds', 'toMilliseconds']), args: [] })],
        ite, attr, getTag,
      ])();
      case 'str': return r.wpick([ite, attr, getTag])();
      case 'ent': return r.wpick([[2, ite[1]], attr, getTag])();
      case 'set': return r.wpick([[3, () => ({ k: 'set', elems: Array.from({ length: r.int(4) }, () => g(r.pick(['ent', 'long', 'str']))) })], ite, attr])();
      case 'rec': return r.wpick([[3, () => {
        const fields = [];
        for (const k of ['level', 'label', 'odd key', 'deep']) if (r.chance(0.5)) fields.push([k, g(r.pick(['long', 'str', 'bool']))]);
        if (fields.length && r.chance(0.02)) fields.push([fields[0][0], g('long')]); // duplicate key: parse error
        return { k: 'rec', fields, q: r.chance(0.2) };
      }], ite, attr])();
      case 'dt': return r.wpick([[2, () => ({ k: 'meth', a: g('dt'), name: 'offset', args: [g('dur')] })], [1, () => ({ k: 'meth', a: g('dt'), name: 'toDate', args: [] })], ite])();
      case 'dur': return r.wpick([[2, () => ({ k: 'meth', a: g('dt'), name: 'durationSince', args: [g('dt')] })], [1, () => ({ k: 'meth', a: g('dt'), name: 'toTime', args: [] })], ite])();
      case 'dec': case 'ip': return r.wpick([ite, [3, () => this.leaf(ty)]])();
      default: return this.leaf(ty);
    }
  }
}
function genHasPath(r) {
  const first = r.chance(0.05) ? r.pick(MISSING_ATTRS) : r.pick([...ATTR_NAMES, ...CTX_NAMES]);
  if (isIdent(first) && r.chance(0.2)) return [first, r.pick(['level', 'label', 'nested', 'deep'])];
  return [first];
}
function genPattern(r) {
  const pat = [];
  const base = Array.from(r.pick(STRS)); // code points: never split a surrogate pair
  const n = r.int(4);
  if (r.chance(0.4)) pat.push(null);
  for (let i = 0; i < n; i++) {
    const s = r.chance(0.7) && base.length ? base.slice(r.int(base.length), r.int(base.length + 1) + 1).join('') : r.pick(['a', '*', 'b', 'é', 'x y']);
    if (s) pat.push(s);
    if (r.chance(0.5)) pat.push(null);
  }
  return pat;
}

// ---- Policies -----------------------------------------------------------------
function genScope(r, which) {
  const types = which === 'principal' ? ['User', 'Group'] : ['Photo', 'Album', 'NS::Doc'];
  const op = r.wpick([[6, 'all'], [3, 'eq'], [3, 'in'], [1, 'is'], [1, 'isin']]);
  const anyType = () => (r.chance(0.85) ? r.pick(types) : r.pick(ENT_TYPES));
  switch (op) {
    case 'all': return { op };
    case 'eq': return { op, uid: genUid(r, anyType()) };
    case 'in': return { op, uid: genUid(r, r.chance(0.7) ? PARENT_TYPES[r.pick(types)][0] : anyType()) };
    case 'is': return { op, type: anyType() };
    default: return { op, type: anyType(), uid: genUid(r, r.chance(0.7) ? PARENT_TYPES[r.pick(types)][0] : anyType()) };
  }
}
function genActionScope(r) {
  const op = r.wpick([[4, 'all'], [3, 'eq'], [2, 'in'], [2, 'inset']]);
  const a = () => ({ type: 'Action', id: r.pick(IDS.Action) });
  if (op === 'all') return { op };
  if (op === 'inset') return { op, uids: Array.from({ length: r.int(3) + (r.chance(0.1) ? 0 : 1) }, a) };
  return { op, uid: a() };
}
function genPolicy(r, idx) {
  const eg = new ExprGen(r);
  const p = {
    effect: r.chance(0.7) ? 'permit' : 'forbid',
    annots: [],
    principal: genScope(r, 'principal'),
    action: genActionScope(r),
    resource: genScope(r, 'resource'),
    conds: [],
  };
  if (r.chance(0.1)) p.annots.push(['id', `pol_${idx}`]);
  if (r.chance(0.1)) p.annots.push(['advice', r.pick(STRS)]);
  const nc = r.wpick([[2, 0], [5, 1], [2, 2]]);
  for (let i = 0; i < nc; i++) p.conds.push({ kind: r.chance(0.7) ? 'when' : 'unless', e: eg.gen('bool', r.int(4) + 1) });
  return p;
}
function scopeText(var_, s) {
  switch (s.op) {
    case 'all': return var_;
    case 'eq': return `${var_} == ${uidText(s.uid)}`;
    case 'in': return `${var_} in ${uidText(s.uid)}`;
    case 'is': return `${var_} is ${s.type}`;
    case 'isin': return `${var_} is ${s.type} in ${uidText(s.uid)}`;
    case 'inset': return `${var_} in [${s.uids.map(uidText).join(', ')}]`;
    default: throw new Error('bad scope');
  }
}
function policyText(p) {
  let s = p.annots.map(([k, v]) => `@${k}(${cedarStr(v)})\n`).join('');
  s += `${p.effect} (\n  ${scopeText('principal', p.principal)},\n  ${scopeText('action', p.action)},\n  ${scopeText('resource', p.resource)}\n)`;
  for (const c of p.conds) s += `\n${c.kind} { ${pr(c.e, 0)} }`;
  return s + ';\n';
}
function policiesText(ps) { return ps.map(policyText).join('\n'); }
// Id the C engine gives the i-th policy: @id wins, else policy<i>.
function policyIds(ps) {
  return ps.map((p, i) => { const a = p.annots.find(([k]) => k === 'id'); return a ? a[1] : `policy${i}`; });
}

function genCase(seed, index) {
  const r = rngFor(seed, index);
  const n = r.int(6) + 1;
  const policies = Array.from({ length: n }, (_, i) => genPolicy(r, i));
  const entities = genEntities(r);
  const requests = Array.from({ length: r.int(4) + 1 }, () => genRequest(r));
  return { seed, index, policies, entities, requests };
}
function renderCase(c) {
  return {
    policies: policiesText(c.policies),
    entities: entitiesJson(c.entities),
    requests: c.requests.map(requestJson),
  };
}

module.exports = { genCase, renderCase, policiesText, entitiesJson, requestJson, requestParts, policyIds, kids, L };

if (require.main === module) {
  // node gen.js SEED INDEX: print one case, for eyeballing.
  const c = genCase(Number(process.argv[2] || 1), Number(process.argv[3] || 0));
  const t = renderCase(c);
  process.stdout.write(t.policies + '\n' + t.entities + '\n' + t.requests.join('\n') + '\n');
}
