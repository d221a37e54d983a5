// SPDX-License-Identifier: Apache-2.0
//
// Random validation cases for the differential test of the validator: a
// schema (as a model that prints to .cedarschema text) together with 1-3
// policies written against it. Deterministic for (seed, index).
//
// Policies come from a schema-aware generator: it knows, for the request
// environments a policy's scope allows, which attributes exist, with which
// types and whether they are optional, and builds expressions that mostly
// type-check (optional attributes and tags guarded with `has`/`hasTag`,
// operands of compatible types). On top of that it injects deliberate
// mistakes (unknown or mistyped attribute, unguarded optional attribute,
// impossible scope, unknown action or entity, heterogeneous set, bad
// extension literal) so that both verdicts are common. The expression AST
// and the policy printer are gen.js's; this file only adds schemas and the
// typed generator, and knows nothing of either engine.
'use strict';
const gen = require('./gen.js');
const { L } = gen;

// rngFor is gen.js's PRNG; re-derived here from a different stream so the
// authorization cases of a seed do not change when this file does.
function rngFor(seed, index) {
  let a = (Math.imul((seed ^ 0x5bd1e995) >>> 0, 0x9e3779b1) ^ Math.imul((index >>> 0) + 0x27d4eb2f, 0x85ebca6b)) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    f: next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    wpick: (pairs) => {
      let tot = 0;
      for (const [w] of pairs) tot += w;
      let x = next() * tot;
      for (const [w, v] of pairs) if ((x -= w) < 0) return v;
      return pairs[pairs.length - 1][1];
    },
  };
}

// ---- Types -----------------------------------------------------------------
// {k:'Long'|'String'|'Bool'} | {k:'Set',el} | {k:'Rec',fields:[[name,ty,opt]]}
// | {k:'Ent',name} | {k:'Ext',name} | {k:'Common',name}
const EXT = ['ipaddr', 'decimal', 'datetime', 'duration'];
const ENT_POOL = ['User', 'Group', 'Team', 'Photo', 'Album', 'Doc'];
const ENUM_POOL = ['Color', 'Level'];
const ENUM_IDS = { Color: ['red', 'blue', 'green'], Level: ['low', 'high'] };
const ATTR_POOL = ['name', 'age', 'active', 'owner', 'manager', 'friends', 'nums', 'labels', 'addr', 'score',
  'created', 'ttl', 'info', 'level', 'color', 'prefs', 'has space', 'in'];
const CTX_POOL = ['flag', 'n', 's', 'who', 'ip', 'when', 'dur', 'tags', 'req', 'amount', 'odd key'];
const ACT_POOL = ['view', 'edit', 'delete', 'share', 'comment'];
const GROUP_POOL = ['readOnly', 'all'];
const IDS = ['a', 'b', 'x y', ''];

function genType(r, s, depth) {
  return r.wpick([
    [4, () => ({ k: 'Long' })], [4, () => ({ k: 'String' })], [3, () => ({ k: 'Bool' })],
    [2, () => ({ k: 'Ent', name: r.pick(s.entNames) })],
    [2, () => ({ k: 'Set', el: r.pick([{ k: 'Long' }, { k: 'String' }, { k: 'Ent', name: r.pick(s.entNames) }]) })],
    [2, () => ({ k: 'Ext', name: r.pick(EXT) })],
    [depth > 0 ? 2 : 0, () => genRec(r, s, depth - 1)],
    [s.common.length ? 1 : 0, () => ({ k: 'Common', name: s.common[0].name })],
  ])();
}
function genRec(r, s, depth) {
  const fields = [];
  for (const f of ['street', 'zip', 'level', 'deep']) if (r.chance(0.5)) fields.push([f, genType(r, s, depth), r.chance(0.3)]);
  return { k: 'Rec', fields };
}
// Follows common-type aliases.
function resolve(s, ty) {
  if (ty && ty.k === 'Common') { const c = s.common.find((x) => x.name === ty.name); return c ? c.ty : null; }
  return ty;
}
function typeText(ty) {
  switch (ty.k) {
    case 'Long': case 'String': case 'Bool': return ty.k;
    case 'Set': return `Set<${typeText(ty.el)}>`;
    case 'Rec': return '{' + ty.fields.map(([n, t, o]) => `${/^[A-Za-z_]\w*$/.test(n) && n !== 'in' ? n : JSON.stringify(n)}${o ? '?' : ''}: ${typeText(t)}`).join(', ') + '}';
    case 'Ent': case 'Ext': case 'Common': return ty.name;
    default: throw new Error('bad type ' + ty.k);
  }
}
function sameType(s, a, b) { return JSON.stringify(resolve(s, a)) === JSON.stringify(resolve(s, b)); }

// ---- Schemas ---------------------------------------------------------------
function genSchema(r) {
  // A namespace makes every name in the policies qualified (App::User,
  // App::Action::"view"); inside the schema, references may be either.
  const s = { entities: [], actions: [], common: [], ns: r.chance(0.3) ? 'App' : null };
  const nEnt = 2 + r.int(4);
  const names = ENT_POOL.filter(() => r.chance(0.7)).slice(0, nEnt);
  for (const n of ENT_POOL) if (names.length < 2 && !names.includes(n)) names.push(n);
  s.entNames = names.slice();
  const enums = ENUM_POOL.filter(() => r.chance(0.25));
  s.entNames.push(...enums);
  if (r.chance(0.3)) { s.common.push({ name: 'Addr', ty: genRec(r, s, 0) }); }
  for (const n of names) {
    const e = { name: n, memberOf: names.filter((m) => m !== n && r.chance(0.3)), attrs: [], tags: null, enum: null };
    if (r.chance(0.1)) e.memberOf.push(n); // self-membership is legal
    for (const a of ATTR_POOL) if (r.chance(0.25)) e.attrs.push([a, genType(r, s, 1), r.chance(0.3)]);
    if (r.chance(0.3)) e.tags = r.pick([{ k: 'String' }, { k: 'Long' }, { k: 'Set', el: { k: 'String' } }]);
    s.entities.push(e);
  }
  for (const n of enums) s.entities.push({ name: n, memberOf: [], attrs: [], tags: null, enum: ENUM_IDS[n].slice() });
  const groups = GROUP_POOL.filter(() => r.chance(0.5));
  for (const g of groups) s.actions.push({ name: g, memberOf: g === 'readOnly' && groups.includes('all') ? ['all'] : [], applies: null });
  const acts = ACT_POOL.filter(() => r.chance(0.5));
  if (!acts.length) acts.push('view');
  for (const a of acts) {
    const ctx = { k: 'Rec', fields: CTX_POOL.filter(() => r.chance(0.3)).map((f) => [f, genType(r, s, 1), r.chance(0.3)]) };
    const pick = () => { const ts = s.entNames.filter(() => r.chance(0.35)); return ts.length ? ts : [r.pick(s.entNames)]; };
    s.actions.push({ name: a, memberOf: groups.filter(() => r.chance(0.6)), applies: r.chance(0.97) ? { principal: pick(), resource: pick(), ctx } : null });
  }
  // Rare broken schema: both sides must reject it.
  if (r.chance(0.02)) s.entities[0].attrs.push(['broken', { k: 'Ent', name: 'Undeclared' }, false]);
  return s;
}
function schemaText(s) {
  const out = [];
  for (const c of s.common) out.push(`type ${c.name} = ${typeText(c.ty)};`);
  const body = () => (s.ns ? `namespace ${s.ns} {\n${out.join('\n')}\n}\n` : out.join('\n') + '\n');
  for (const e of s.entities) {
    let t = `entity ${e.name}`;
    if (e.memberOf.length) t += ` in [${e.memberOf.join(', ')}]`;
    if (e.enum) t += ` enum [${e.enum.map((x) => JSON.stringify(x)).join(', ')}]`;
    else if (e.attrs.length) t += ' ' + typeText({ k: 'Rec', fields: e.attrs });
    if (e.tags) t += ` tags ${typeText(e.tags)}`;
    out.push(t + ';');
  }
  for (const a of s.actions) {
    let t = `action ${JSON.stringify(a.name)}`;
    if (a.memberOf.length) t += ` in [${a.memberOf.map((x) => JSON.stringify(x)).join(', ')}]`;
    if (a.applies) {
      const p = a.applies;
      t += ` appliesTo {\n  principal: [${p.principal.join(', ')}],\n  resource: [${p.resource.join(', ')}],\n  context: ${typeText(p.ctx)}\n}`;
    }
    out.push(t + ';');
  }
  return body();
}

// ---- Environments ----------------------------------------------------------
// Actions (with appliesTo) that an action scope can match.
function actionsUnder(s, name) {
  const out = new Set([name]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const a of s.actions) if (!out.has(a.name) && a.memberOf.some((m) => out.has(m))) { out.add(a.name); grew = true; }
  }
  return s.actions.filter((a) => out.has(a.name) && a.applies);
}

// ---- Typed expressions -------------------------------------------------------
const cstr = (x) => JSON.stringify(x); // Cedar and JSON agree on these plain strings
const uid = (t, id) => L(`${t}::${cstr(id)}`);
const and = (a, b) => ({ k: 'bin', op: '&&', a, b });
const qual = (s, n) => (s.ns ? `${s.ns}::${n}` : n);
const LITS = {
  ipaddr: ['10.0.0.1', '192.168.0.0/16', '::1'], decimal: ['1.5', '-0.25', '3.1415'],
  datetime: ['2024-01-01', '2024-06-01T10:00:00Z'], duration: ['1h', '-2d30m', '5s'],
};
const BAD_LITS = { ipaddr: '1.2.3', decimal: '1.23456', datetime: '2024-13-01', duration: '1x' };
const EXT_FN = { ipaddr: 'ip', decimal: 'decimal', datetime: 'datetime', duration: 'duration' };

class TypedGen {
  // env: {pTypes, rTypes, ctx (Rec type or null)}; mistakes: chance per choice.
  constructor(r, s, env, mistake) { this.r = r; this.s = s; this.env = env; this.mistake = mistake; this.guards = []; }
  entity(name) { return this.s.entities.find((e) => e.name === name); }
  oops() { return this.r.chance(this.mistake); }
  // Attributes common to every type in `types` with one type: [[name, ty, opt]].
  commonAttrs(types) {
    const es = types.map((t) => this.entity(t));
    if (!es.length || es.some((e) => !e)) return [];
    return es[0].attrs.filter(([n, t]) => es.every((e) => e.attrs.some(([m, u]) => m === n && sameType(this.s, t, u))))
      .map(([n, t]) => [n, t, es.some((e) => e.attrs.find(([m]) => m === n)[2])]);
  }
  // Access paths: [{node, ty}] with `has` guards registered on use.
  paths() {
    const out = [];
    const walk = (node, ty, guardOwner, depth) => {
      ty = resolve(this.s, ty);
      if (!ty) return;
      out.push({ node, ty, guards: guardOwner });
      if (depth >= 2) return;
      let fields = [];
      if (ty.k === 'Ent') fields = this.commonAttrs(ty.types || [ty.name]);
      else if (ty.k === 'Rec') fields = ty.fields;
      for (const [n, t, opt] of fields) {
        const acc = { k: 'attr', a: node, name: n };
        walk(acc, t, opt ? guardOwner.concat([{ k: 'has', a: node, path: [n] }]) : guardOwner, depth + 1);
      }
    };
    walk(L('principal'), { k: 'Ent', name: this.env.pTypes[0], types: this.env.pTypes }, [], 0);
    walk(L('resource'), { k: 'Ent', name: this.env.rTypes[0], types: this.env.rTypes }, [], 0);
    if (this.env.ctx) walk(L('context'), this.env.ctx, [], 0);
    return out;
  }
  usePath(p) {
    if (p.guards.length && !this.oops()) this.guards.push(...p.guards.map((g) => structuredClone(g)));
    return structuredClone(p.node);
  }
  pathOf(pred) {
    const ps = (this.cachedPaths ||= this.paths()).filter((p) => pred(p.ty));
    return ps.length ? this.usePath(this.r.pick(ps)) : null;
  }
  // A bool expression; guards collected below it are prefixed with &&.
  bool(d) {
    const saved = this.guards;
    this.guards = [];
    let n = this.boolRaw(d);
    for (const g of this.guards.reverse()) n = and(g, n);
    this.guards = saved;
    if (this.r.chance(0.05)) n.p = true;
    return n;
  }
  boolRaw(d) {
    const r = this.r;
    if (this.oops()) return this.mistakeExpr();
    if (d <= 0) return r.wpick([[1, () => L(r.pick(['true', 'false']))], [3, () => this.pathOf((t) => t.k === 'Bool') || L('true')]])();
    const tagged = [...this.env.pTypes, ...this.env.rTypes].filter((t) => (this.entity(t) || {}).tags);
    return r.wpick([
      [2, () => ({ k: 'bin', op: r.pick(['&&', '||']), a: this.bool(d - 1), b: this.bool(d - 1) })],
      [1, () => ({ k: 'un', op: '!', a: this.bool(d - 1) })],
      [3, () => this.pathOf((t) => t.k === 'Bool') || L('false')],
      [3, () => ({ k: 'bin', op: r.pick(['<', '<=', '>', '>=']), a: this.val({ k: 'Long' }, d - 1), b: this.val({ k: 'Long' }, d - 1) })],
      [4, () => { const t = this.someType(); return { k: 'bin', op: r.pick(['==', '!=']), a: this.val(t, d - 1), b: this.val(t, d - 1) }; }],
      [2, () => ({ k: 'like', a: this.val({ k: 'String' }, d - 1), pat: [null, r.pick(['a', 'x', 'b'])] })],
      [3, () => ({ k: 'bin', op: 'in', a: this.entVal(d - 1), b: r.chance(0.7) ? this.entVal(d - 1) : { k: 'set', elems: [this.entVal(d - 1)] } })],
      [2, () => ({ k: 'is', a: this.entVal(d - 1), type: qual(this.s, r.pick(this.s.entNames)), inE: r.chance(0.2) ? this.entVal(d - 1) : null })],
      [3, () => this.hasExpr(d)],
      [2, () => { const s = this.setVal(d - 1); return { k: 'meth', a: s.n, name: 'contains', args: [this.val(s.el, d - 1)] }; }],
      [1, () => { const s = this.setVal(d - 1); return { k: 'meth', a: s.n, name: r.pick(['containsAll', 'containsAny']), args: [this.val({ k: 'Set', el: s.el }, d - 1)] }; }],
      [1, () => ({ k: 'meth', a: this.setVal(d - 1).n, name: 'isEmpty', args: [] })],
      [tagged.length ? 2 : 0, () => this.tagExpr(tagged, d)],
      [1, () => ({ k: 'meth', a: this.val({ k: 'Ext', name: 'ipaddr' }, d - 1), name: r.pick(['isIpv4', 'isLoopback', 'isMulticast']), args: [] })],
      [1, () => ({ k: 'meth', a: this.val({ k: 'Ext', name: 'decimal' }, d - 1), name: r.pick(['lessThan', 'greaterThanOrEqual']), args: [this.val({ k: 'Ext', name: 'decimal' }, d - 1)] })],
      [1, () => { const t = { k: 'Ext', name: r.pick(['datetime', 'duration']) }; return { k: 'bin', op: r.pick(['<', '>=']), a: this.val(t, d - 1), b: this.val(t, d - 1) }; }],
      [1, () => ({ k: 'ite', c: this.bool(d - 1), t: this.bool(d - 1), e: this.bool(d - 1) })],
    ])();
  }
  someType() {
    const r = this.r;
    return r.wpick([[3, { k: 'Long' }], [3, { k: 'String' }], [3, { k: 'Ent', name: r.pick(this.s.entNames) }], [1, { k: 'Bool' }],
      [1, { k: 'Ext', name: r.pick(EXT) }], [1, { k: 'Set', el: { k: 'Long' } }]]);
  }
  hasExpr() {
    const r = this.r;
    const ps = (this.cachedPaths ||= this.paths()).filter((p) => p.ty.k === 'Ent' || p.ty.k === 'Rec');
    const p = r.pick(ps);
    const ty = p.ty;
    let names = ty.k === 'Rec' ? ty.fields.map((f) => f[0]) : this.commonAttrs(ty.types || [ty.name]).map((f) => f[0]);
    if (!names.length || r.chance(0.15)) names = r.pick([ATTR_POOL, CTX_POOL]); // maybe absent: `has` is still fine
    return { k: 'has', a: this.usePath(p), path: [r.pick(names)] };
  }
  tagExpr(tagged, d) {
    const r = this.r;
    const t = r.pick(tagged);
    const v = this.env.pTypes.includes(t) && this.env.pTypes.length === 1 ? L('principal') : this.env.rTypes.length === 1 && this.env.rTypes[0] === t ? L('resource') : null;
    const key = L(cstr(r.pick(['k', 'color', 'x y'])));
    if (!v || r.chance(0.3)) return { k: 'meth', a: v || this.entVal(d - 1), name: 'hasTag', args: [key] };
    const tt = this.entity(t).tags;
    const get = { k: 'meth', a: v, name: 'getTag', args: [key] };
    const use = tt.k === 'Long' ? { k: 'bin', op: '>', a: get, b: L('1') } : tt.k === 'String' ? { k: 'bin', op: '==', a: get, b: L('"a"') }
      : { k: 'meth', a: get, name: 'contains', args: [L('"a"')] };
    return this.oops() ? use : and({ k: 'meth', a: structuredClone(v), name: 'hasTag', args: [structuredClone(key)] }, use);
  }
  entVal(d) {
    const r = this.r;
    return r.wpick([[4, () => L(r.pick(['principal', 'resource']))], [2, () => this.entLit(r.pick(this.s.entNames))],
      [1, () => L('action')], [d > 0 ? 2 : 0, () => this.pathOf((t) => t.k === 'Ent') || L('principal')]])();
  }
  entLit(name) {
    const e = this.entity(name);
    return uid(qual(this.s, name), e && e.enum ? this.r.pick(e.enum) : this.r.pick(IDS));
  }
  setVal(d) {
    const r = this.r;
    const p = (this.cachedPaths ||= this.paths()).filter((x) => x.ty.k === 'Set');
    if (p.length && r.chance(0.6)) { const x = r.pick(p); return { n: this.usePath(x), el: x.ty.el }; }
    const el = r.pick([{ k: 'Long' }, { k: 'String' }, { k: 'Ent', name: r.pick(this.s.entNames) }]);
    return { n: { k: 'set', elems: Array.from({ length: 1 + r.int(3) }, () => this.val(el, d)) }, el };
  }
  // A value of type ty.
  val(ty, d) {
    const r = this.r;
    ty = resolve(this.s, ty);
    if (r.chance(0.5) || d <= 0) {
      const p = r.chance(0.6) ? this.pathOf((t) => sameType(this.s, t, ty)) : null;
      if (p) return p;
    }
    switch (ty.k) {
      case 'Long':
        if (d > 0 && r.chance(0.3)) return { k: 'bin', op: r.pick(['+', '-', '*']), a: this.val(ty, d - 1), b: this.val(ty, d - 1) };
        return L(String(r.int(100)));
      case 'String': return L(cstr(r.pick(['a', 'alice', '', 'x y'])));
      case 'Bool': return this.bool(d);
      case 'Ent': return r.chance(0.5) ? this.entLit(ty.name) : this.entVal(d);
      case 'Ext': return { k: 'call', fn: EXT_FN[ty.name], args: [L(cstr(r.pick(LITS[ty.name])))] };
      case 'Set': return { k: 'set', elems: Array.from({ length: 1 + r.int(2) }, () => this.val(ty.el, d - 1)) };
      case 'Rec': return { k: 'rec', fields: ty.fields.filter(([, , o]) => !o || r.chance(0.5)).map(([n, t]) => [n, this.val(t, d - 1)]) };
      default: return L('true');
    }
  }
  // One deliberate type error (or a near miss that is still fine).
  mistakeExpr() {
    const r = this.r;
    const ent = L(r.pick(['principal', 'resource']));
    return r.wpick([
      [3, () => ({ k: 'bin', op: '==', a: { k: 'attr', a: ent, name: r.pick(['nope', ...ATTR_POOL]) }, b: L('1') })],
      [2, () => ({ k: 'bin', op: '>', a: this.val({ k: 'String' }, 0), b: L('1') })],
      [2, () => ({ k: 'bin', op: '+', a: L('1'), b: L('"a"') })],
      [1, () => ({ k: 'bin', op: '==', a: { k: 'set', elems: [L('1'), L('"a"')] }, b: { k: 'set', elems: [] } })],
      [1, () => ({ k: 'meth', a: { k: 'set', elems: [] }, name: 'isEmpty', args: [] })],
      [1, () => ({ k: 'like', a: L('1'), pat: [null] })],
      [1, () => { const x = r.pick(EXT); return { k: 'bin', op: '==', a: { k: 'call', fn: EXT_FN[x], args: [L(cstr(BAD_LITS[x]))] }, b: { k: 'call', fn: EXT_FN[x], args: [L(cstr(LITS[x][0]))] } }; }],
      [1, () => ({ k: 'bin', op: 'in', a: ent, b: uid('Undeclared', 'a') })],
      [1, () => ({ k: 'bin', op: '==', a: L('context'), b: { k: 'rec', fields: [['nope', L('1')]] } })],
      [1, () => ({ k: 'attr', a: L('context'), name: r.pick(CTX_POOL) })],
      [1, () => ({ k: 'bin', op: '==', a: { k: 'meth', a: ent, name: 'getTag', args: [L('"k"')] }, b: L('"a"') })],
      [1, () => ({ k: 'bin', op: '==', a: ent, b: L(qual(this.s, 'Action') + '::"view"') })],
      [1, () => ({ k: 'ite', c: L('true'), t: L('1'), e: L('"a"') })],
      // Near misses whose verdict is less obvious.
      [1, () => ({ k: 'bin', op: 'in', a: ent, b: { k: 'set', elems: [this.entLit(r.pick(this.s.entNames)), this.entLit(r.pick(this.s.entNames))] } })],
      [1, () => ({ k: 'bin', op: '==', a: { k: 'ite', c: this.bool(0), t: this.entVal(0), e: this.entVal(0) }, b: this.entVal(0) })],
      [1, () => ({ k: 'bin', op: '<', a: { k: 'call', fn: 'decimal', args: [L('"1.5"')] }, b: { k: 'call', fn: 'decimal', args: [L('"2.5"')] } })],
      [1, () => ({ k: 'meth', a: { k: 'call', fn: 'ip', args: [L('"10.0.0.1"')] }, name: 'isInRange', args: [this.val({ k: 'Ext', name: 'ipaddr' }, 0)] })],
      [1, () => ({ k: 'bin', op: '>', a: { k: 'meth', a: { k: 'meth', a: this.val({ k: 'Ext', name: 'datetime' }, 0), name: 'offset', args: [this.val({ k: 'Ext', name: 'duration' }, 0)] }, name: 'toDate', args: [] }, b: this.val({ k: 'Ext', name: 'datetime' }, 0) })],
      [1, () => ({ k: 'bin', op: 'in', a: L('action'), b: L(qual(this.s, 'Action') + '::' + cstr(r.pick(this.s.actions).name)) })],
      [1, () => ({ k: 'has', a: { k: 'attr', a: ent, name: r.pick(ATTR_POOL) }, path: [r.pick(['zip', 'street'])] })],
      [1, () => ({ k: 'un', op: '-', a: this.val({ k: 'String' }, 0) })],
      [1, () => ({ k: 'bin', op: '==', a: this.val({ k: 'Rec', fields: [['level', { k: 'Long' }, false]] }, 0), b: L('context') })],
    ])();
  }
}

// ---- Policies ------------------------------------------------------------------
function genPolicy(r, s, idx, mistake) {
  const applicable = s.actions.filter((a) => a.applies);
  const groups = s.actions.filter((a) => !a.applies);
  const p = { effect: r.chance(0.7) ? 'permit' : 'forbid', annots: [], principal: { op: 'all' }, action: { op: 'all' }, resource: { op: 'all' }, conds: [] };
  if (r.chance(0.1)) p.annots.push(['id', `v${idx}`]);
  // Action scope first: it decides the environments.
  let acts = applicable;
  const aop = r.wpick([[2, 'all'], [5, 'eq'], [groups.length ? 2 : 0, 'in'], [2, 'inset']]);
  if (aop === 'eq' && applicable.length) { const a = r.pick(applicable); p.action = { op: 'eq', uid: { type: qual(s, 'Action'), id: a.name } }; acts = [a]; }
  else if (aop === 'in') {
    const live = groups.filter((x) => actionsUnder(s, x.name).length);
    const g = r.pick(live.length && r.chance(0.9) ? live : groups); p.action = { op: 'in', uid: { type: qual(s, 'Action'), id: g.name } }; acts = actionsUnder(s, g.name); }
  else if (aop === 'inset' && applicable.length) {
    const as = applicable.filter(() => r.chance(0.5)); if (!as.length) as.push(applicable[0]);
    p.action = { op: 'inset', uids: as.map((a) => ({ type: qual(s, 'Action'), id: a.name })) }; acts = as;
  }
  if (r.chance(mistake * 0.3)) { p.action = { op: 'eq', uid: { type: qual(s, 'Action'), id: 'nope' } }; acts = []; }
  const union = (k) => [...new Set(acts.flatMap((a) => a.applies[k]))];
  let pTypes = union('principal'), rTypes;
  const scope = (types, all) => {
    const op = r.wpick([[3, 'all'], [3, 'is'], [2, 'eq'], [1, 'in'], [1, 'isin']]);
    const cand = r.chance(mistake * 0.3) || !types.length ? all : types;
    const t = r.pick(cand);
    const parentOf = (x) => { const e = s.entities.find((y) => y.name === x); return e && e.memberOf.length ? r.pick(e.memberOf) : x; };
    const id = (x) => { const e = s.entities.find((y) => y.name === x); return e && e.enum ? r.pick(e.enum) : r.pick(IDS); };
    switch (op) {
      case 'all': return [{ op }, types];
      case 'is': return [{ op, type: qual(s, t) }, [t]];
      case 'eq': return [{ op, uid: { type: qual(s, t), id: id(t) } }, [t]];
      case 'in': { const q = parentOf(t); return [{ op, uid: { type: qual(s, q), id: id(q) } }, types]; }
      default: { const q = parentOf(t); return [{ op, type: qual(s, t), uid: { type: qual(s, q), id: id(q) } }, [t]]; }
    }
  };
  // Narrow the actions to those the chosen principal type allows before
  // picking the resource, so that most scopes have an applicable action.
  [p.principal, pTypes] = scope(pTypes, s.entNames);
  pTypes = pTypes.filter((t) => union('principal').includes(t));
  if (pTypes.length) acts = acts.filter((a) => pTypes.some((t) => a.applies.principal.includes(t)));
  [p.resource, rTypes] = scope(union('resource'), s.entNames);
  rTypes = rTypes.filter((t) => union('resource').includes(t));
  if (rTypes.length) acts = acts.filter((a) => rTypes.some((t) => a.applies.resource.includes(t)));
  pTypes = pTypes.filter((t) => union('principal').includes(t));
  // Context: the fields every matched action has with the same type.
  let ctx = null;
  if (acts.length) {
    const c0 = acts[0].applies.ctx;
    ctx = { k: 'Rec', fields: c0.fields.filter(([n, t]) => acts.every((a) => a.applies.ctx.fields.some(([m, u]) => m === n && sameType(s, t, u))))
      .map(([n, t]) => [n, t, acts.some((a) => a.applies.ctx.fields.find(([m]) => m === n)[2])]) };
  }
  const env = { pTypes: pTypes.length ? pTypes : [s.entNames[0]], rTypes: rTypes.length ? rTypes : [s.entNames[0]], ctx };
  const tg = new TypedGen(r, s, env, mistake);
  const nc = r.wpick([[1, 0], [5, 1], [2, 2]]);
  for (let i = 0; i < nc; i++) p.conds.push({ kind: r.chance(0.75) ? 'when' : 'unless', e: tg.bool(1 + r.int(3)) });
  return p;
}

function genCase(seed, index) {
  const r = rngFor(seed, index);
  const schema = genSchema(r);
  // Per-case mistake rate: some cases are clean, some are noisy.
  const mistake = r.pick([0.03, 0.06, 0.12, 0.24]);
  const policies = Array.from({ length: 1 + r.int(3) }, (_, i) => genPolicy(r, schema, i, mistake));
  return { seed, index, schema, policies };
}
function renderCase(c) { return { schema: schemaText(c.schema), policies: gen.policiesText(c.policies) }; }

module.exports = { genCase, renderCase, schemaText };

if (require.main === module) {
  const c = genCase(Number(process.argv[2] || 1), Number(process.argv[3] || 0));
  const t = renderCase(c);
  process.stdout.write(t.schema + '\n' + t.policies);
}
