// SPDX-License-Identifier: Apache-2.0
//
// Regenerates the governance conformance case from the starter pack in
// docs/policies/: pack.cedar (the pack's files concatenated in name order,
// because a case names a single policy file) and governance.json (each
// request below with the decision, reasons and errors the reference,
// cedar-wasm, gives with the schema and request validation on). Every
// request also states the outcome the pack is meant to give, so a policy
// edit that changes behaviour fails here rather than being recorded.
// It is a maintenance tool, not a test: the conformance runner reads the
// files it writes. With --check it writes nothing and exits 1 if either
// file is stale.
//
// Usage: node --no-turbo-inline-js-wasm-calls regen.js [--check]
'use strict';
const fs = require('fs');
const path = require('path');

const here = __dirname;
const root = path.resolve(here, '../../../..');
const packDir = path.join(root, 'docs/policies');
function loadCedar() {
  const tries = [path.join(root, 'tests/diff/node_modules/@cedar-policy/cedar-wasm/nodejs'),
                 '/tmp/cw/node_modules/@cedar-policy/cedar-wasm/nodejs'];
  for (const t of tries) if (fs.existsSync(t)) return require(t);
  throw new Error('cedar-wasm not found (npm ci in tests/diff)');
}
const cedar = loadCedar();

// ---- Request builders ------------------------------------------------------

const ent = (type, id) => ({ __entity: { type, id } });
const agent = (name) => ({ type: 'Agent', id: `spiffe://acme.test/agent/${name}` });
const dt = (s) => ({ __extn: { fn: 'datetime', arg: s } });
const dur = (s) => ({ __extn: { fn: 'duration', arg: s } });
const tools = (names) => names.map((n) => ent('Tool', n));

const RANK = { public: 0, internal: 1, confidential: 2, secret: 3 };

function task(o) {
  const t = {
    id: 't-1',
    intent: 'summarise the Q3 revenue report',
    purpose: 'reporting',
    age: dur(o.age || '5m'),
    calls: o.calls === undefined ? 3 : o.calls,
    budget_left: o.budget_left === undefined ? 10 : o.budget_left,
    tools: tools(o.tools || ['fs', 'db', 'http', 'email', 'shell']),
    ceiling: o.ceiling || 'secret',
    ceiling_rank: RANK[o.ceiling || 'secret'],
  };
  if (o.on_behalf_of) t.on_behalf_of = ent('User', o.on_behalf_of);
  return t;
}

function session(o) {
  return {
    tools: tools(o.used || []),
    classifications: o.touched || [],
    destinations: (o.sent || []).map((d) => ent('Destination', d)),
    calls: o.calls === undefined ? 3 : o.calls,
    denials: 0,
  };
}

const WEEKDAY_10 = '2025-03-04T10:00:00Z';

// A task lifecycle request (task.open, task.renew, task.change_intent).
function lifecycle(desc, who, op, o, want, why) {
  const context = { task: task(o), session: session(o), time: dt(o.time || WEEKDAY_10), risk: 10 };
  if (op === 'change_intent') context.previous_intent = 'draft the Q3 revenue report';
  return { desc, principal: agent(who), action: { type: 'Action', id: `task.${op}` },
           resource: { type: 'Task', id: 't-1' }, context, want, why };
}

// A tool call: action "<tool>.<operation>".
function call(desc, who, action, o, want, why) {
  const [tool, operation] = action.split('.');
  const context = {
    task: task(o),
    call: {
      tool: ent('Tool', tool),
      operation,
      classification: o.classification || 'internal',
      classification_rank: RANK[o.classification || 'internal'],
      destination: ent('Destination', o.destination || 'local'),
      environment: o.environment || 'production',
      args: {},
    },
    session: session(o),
    time: dt(o.time || WEEKDAY_10),
    risk: 10,
  };
  const resource = o.data ? { type: 'Data', id: o.data } : { type: 'Tool', id: tool };
  return { desc, principal: agent(who), action: { type: 'Action', id: action }, resource,
           context, want, why };
}

const OPEN = 'permit-task-open', TOOLS = 'permit-expected-tools';
const cases = [
  // Baseline permits for the task lifecycle.
  lifecycle('an active standard agent opens a task', 'builder', 'open', { calls: 0 }, 'allow', [OPEN]),
  lifecycle('an active read-only agent opens a task', 'scout', 'open', { calls: 0 }, 'allow', [OPEN]),
  lifecycle('a task with no call budget is not opened', 'builder', 'open',
            { calls: 0, budget_left: 0 }, 'deny', []),
  lifecycle('renewal with budget left early in the day', 'builder', 'renew', { age: '1h' },
            'allow', ['permit-task-renew']),
  lifecycle('no renewal after 8 hours', 'builder', 'renew', { age: '8h' }, 'deny', []),
  lifecycle('no renewal with the budget spent', 'builder', 'renew', { budget_left: 0 }, 'deny', []),
  lifecycle('an active agent changes its intent', 'builder', 'change_intent', {}, 'allow',
            ['permit-change-intent']),

  // Quarantined and retired agents.
  lifecycle('a quarantined agent may not open a task', 'rogue', 'open', { calls: 0 }, 'deny',
            ['quarantined-agent']),
  lifecycle('a retired agent may not change intent', 'veteran', 'change_intent', {}, 'deny',
            ['quarantined-agent']),
  call('a quarantined agent may not read', 'rogue', 'fs.read', {}, 'deny', ['quarantined-agent']),

  // Expected tools.
  call('a call to a declared tool', 'builder', 'fs.read', { tools: ['fs'], data: '/srv/reports/q3.csv' },
       'allow', [TOOLS]),
  call('a call to an undeclared tool is denied by default', 'builder', 'http.get', { tools: ['fs'] },
       'deny', []),

  // Read-only tier.
  call('a read-only agent queries a database', 'scout', 'db.query', {}, 'allow', [TOOLS]),
  call('a read-only agent may not write a file', 'scout', 'fs.write', {}, 'deny', ['read-only-tier']),
  call('a read-only agent may not post', 'scout', 'http.post', { destination: 'api.partner.example' },
       'deny', ['read-only-tier']),

  // High-impact tier and business hours (09:00-17:00 UTC).
  call('a standard agent may not run commands', 'builder', 'shell.exec', {}, 'deny', ['high-impact-tier']),
  call('a high-impact agent runs a command at 10:00 UTC', 'operator', 'shell.exec', {}, 'allow', [TOOLS]),
  call('a high-impact agent deletes at 16:59:59 UTC', 'operator', 'fs.delete',
       { time: '2025-03-04T16:59:59Z' }, 'allow', [TOOLS]),
  call('no delete at 17:00 UTC', 'operator', 'fs.delete', { time: '2025-03-04T17:00:00Z' }, 'deny',
       ['high-impact-business-hours']),
  call('no command at 08:59 UTC', 'operator', 'shell.exec', { time: '2025-03-04T08:59:00Z' }, 'deny',
       ['high-impact-business-hours']),
  call('10:30 at +0100 is 09:30 UTC: allowed', 'operator', 'shell.exec',
       { time: '2025-03-04T10:30:00+0100' }, 'allow', [TOOLS]),
  call('09:30 at -0800 is 17:30 UTC: denied', 'operator', 'shell.exec',
       { time: '2025-03-04T09:30:00-0800' }, 'deny', ['high-impact-business-hours']),
  call('a standard agent at night breaks two rules', 'builder', 'fs.delete',
       { time: '2025-03-04T22:00:00Z' }, 'deny', ['high-impact-tier', 'high-impact-business-hours']),
  call('business hours do not limit reads', 'builder', 'fs.read', { time: '2025-03-04T23:00:00Z' },
       'allow', [TOOLS]),

  // Call budget.
  call('the last call of the budget', 'builder', 'fs.read', { budget_left: 1, calls: 9 }, 'allow', [TOOLS]),
  call('no call past the budget', 'builder', 'fs.read', { budget_left: 0, calls: 10 }, 'deny',
       ['call-budget']),
  call('a negative budget denies too', 'builder', 'db.query', { budget_left: -2 }, 'deny', ['call-budget']),

  // The data-flow rule.
  call('nothing secret touched: posting outside is allowed', 'builder', 'http.post',
       { touched: ['internal', 'confidential'], destination: 'api.partner.example' }, 'allow', [TOOLS]),
  call('secret touched: posting outside is denied', 'builder', 'http.post',
       { touched: ['internal', 'secret'], used: ['fs'], destination: 'api.partner.example' }, 'deny',
       ['no-secret-egress']),
  call('secret touched: mailing outside is denied', 'builder', 'email.send',
       { touched: ['secret'], destination: 'smtp:gmail.com' }, 'deny', ['no-secret-egress']),
  call('secret touched: posting to an internal host is allowed', 'builder', 'http.post',
       { touched: ['secret'], destination: 'files.internal.acme.test' }, 'allow', [TOOLS]),
  call('secret touched: writing a local file is allowed', 'builder', 'fs.write',
       { touched: ['secret'] }, 'allow', [TOOLS]),
  call('a secret call itself may not go outside', 'builder', 'http.post',
       { classification: 'secret', destination: 'api.partner.example' }, 'deny', ['no-secret-egress']),
  call('reading the secret itself is allowed', 'builder', 'fs.read',
       { classification: 'secret', data: '/srv/vault/signing.key' }, 'allow', [TOOLS]),

  // The task's classification ceiling.
  call('data at the ceiling is allowed', 'builder', 'fs.read',
       { ceiling: 'confidential', classification: 'confidential' }, 'allow', [TOOLS]),
  call('data above the ceiling is denied', 'builder', 'fs.read',
       { ceiling: 'internal', classification: 'secret' }, 'deny', ['classification-ceiling']),
  call('a public task may not touch internal data', 'scout', 'db.query',
       { ceiling: 'public', classification: 'internal' }, 'deny', ['classification-ceiling']),

  // Owners and teams.
  lifecycle('a teammate has the agent act for them', 'builder', 'open',
            { calls: 0, on_behalf_of: 'alice' }, 'allow', [OPEN]),
  lifecycle('a user of another team may not open a task with the agent', 'builder', 'open',
            { calls: 0, on_behalf_of: 'bob' }, 'deny', ['owner-team']),
  call('a user of another team may not have the agent call tools', 'builder', 'fs.read',
       { on_behalf_of: 'bob' }, 'deny', ['owner-team']),
  call('an owner who left the team loses the agent', 'orphan', 'fs.read', {}, 'deny', ['owner-team']),
  call('the same call by an agent whose owner is in its team', 'builder', 'fs.read',
       { on_behalf_of: 'alice' }, 'allow', [TOOLS]),

  // Environments.
  call('a staging agent in staging', 'stager', 'fs.write', { environment: 'staging' }, 'allow', [TOOLS]),
  call('a staging agent may not touch production', 'stager', 'fs.write', { environment: 'production' },
       'deny', ['environment-match']),
];

// ---- Generation --------------------------------------------------------------

const files = fs.readdirSync(packDir).filter((f) => f.endsWith('.cedar')).sort();
const pack = '// Generated by tests/data/cedar/governance/regen.js from docs/policies/*.cedar.\n' +
  '// Do not edit: edit the pack and rerun the script.\n' +
  files.map((f) => `// ---- ${f}\n` + fs.readFileSync(path.join(packDir, f), 'utf8')).join('\n');
const schema = fs.readFileSync(path.join(packDir, 'governance.cedarschema'), 'utf8');
// Warden names a policy by its @id; the reference does so only when it is
// handed the policies one by one, keyed by id. Each pack file holds one.
const byId = {};
for (const f of files) {
  const text = fs.readFileSync(path.join(packDir, f), 'utf8');
  const m = /^@id\("([^"]+)"\)/m.exec(text);
  if (!m || byId[m[1]]) {
    console.error(`${f}: needs one @id, not used by another file`);
    process.exit(1);
  }
  byId[m[1]] = text;
}
const entities = JSON.parse(fs.readFileSync(path.join(here, 'governance.entities.json'), 'utf8'));

const v = cedar.validate({ schema, policies: { staticPolicies: byId },
                           validationSettings: { mode: 'strict' } });
if (v.type !== 'success' || v.validationErrors.length) {
  console.error('the pack does not validate:', JSON.stringify(v, null, 1));
  process.exit(1);
}

let bad = 0;
const requests = cases.map((c) => {
  const a = cedar.isAuthorized({ principal: c.principal, action: c.action, resource: c.resource,
                                 context: c.context, schema, validateRequest: true,
                                 policies: { staticPolicies: byId }, entities });
  if (a.type !== 'success') {
    console.error(`${c.desc}: ${JSON.stringify(a.errors)}`);
    bad++;
    return null;
  }
  const r = a.response;
  const reason = [...r.diagnostics.reason].sort();
  const errors = r.diagnostics.errors.map((e) => e.policyId).sort();
  if (r.decision !== c.want || reason.join() !== [...c.why].sort().join() || errors.length) {
    console.error(`${c.desc}: meant ${c.want} ${c.why}, reference says ${r.decision} ${reason} ` +
                  `errors ${errors}`);
    bad++;
  }
  return { description: c.desc, principal: c.principal, action: c.action, resource: c.resource,
           context: c.context, validateRequest: true, decision: r.decision, reason, errors };
});
if (bad) process.exit(1);

const test = JSON.stringify({
  schema: '../../../docs/policies/governance.cedarschema',
  policies: 'governance/pack.cedar',
  shouldValidate: true,
  entities: 'governance/governance.entities.json',
  requests,
}, null, 2) + '\n';

const out = [['pack.cedar', pack], ['governance.json', test]];
if (process.argv.includes('--check')) {
  const stale = out.filter(([f, t]) => !fs.existsSync(path.join(here, f)) ||
                                       fs.readFileSync(path.join(here, f), 'utf8') !== t);
  for (const [f] of stale) console.error(`stale: ${f} (rerun regen.js)`);
  process.exit(stale.length ? 1 : 0);
}
for (const [f, t] of out) fs.writeFileSync(path.join(here, f), t);
console.log(`${requests.length} requests, ${files.length} policy files`);
