import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSimState, SimDriver } from '../../../src/dataplane/sim/driver.js';
import { trace } from '../../../src/trace/trace.js';
import { buildWorld } from '../../../src/trace/world.js';
import { gatewayRegion } from '../../trace/gateway-region.js';
import { baseScenario, documents } from '../../trace/scenario.js';

test("the sim driver's state outlives its agent: written on change, adopted on start", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-sim-state-'));
  try {
    const [h1, h2] = documents(baseScenario());
    const a = new SimDriver(join(dir, `${h1!.hostId}.json`));
    assert.deepEqual(await a.apply(h1!), { changes: 1 });
    assert.deepEqual(await a.apply(h1!), { changes: 0 }, 'the same document again changes nothing');
    await new SimDriver(join(dir, `${h2!.hostId}.json`)).apply(h2!);
    assert.deepEqual(readSimState(dir), [h1, h2], 'every host, as applied');
    assert.ok(!existsSync(join(dir, `${h1!.hostId}.json.tmp`)), 'no half-written file left');
    // A new agent of h1 adopts the state: the document it is then given is no change.
    const b = new SimDriver(join(dir, `${h1!.hostId}.json`));
    assert.deepEqual(b.document, h1);
    assert.deepEqual(await b.apply(h1!), { changes: 0 });
    assert.deepEqual(await b.apply({ ...h1!, revision: h1!.revision + 1 }), { changes: 1 });
    assert.equal(readSimState(dir)[0]!.revision, h1!.revision + 1);
    assert.deepEqual(readSimState(join(dir, 'none')), [], 'no state directory: no hosts');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the sim driver keeps gateway documents and NAT routes as applied, and the tracer follows packets through them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-sim-gw-'));
  try {
    const docs = gatewayRegion();
    for (const d of docs) assert.deepEqual(await new SimDriver(join(dir, `${d.hostId}.json`)).apply(d), { changes: 1 });
    const applied = readSimState(dir);
    assert.deepEqual(applied.map((d) => [d.hostId, d.role ?? 'host']), [['gw1', 'gateway'], ['gw2', 'gateway'], ['h1', 'host'], ['h2', 'host']]);
    // What `weft trace --applied` does: the tracer over the applied documents.
    const world = buildWorld(applied);
    const out = trace(world, { from: 'ins-a2', to: '198.18.0.10', protocol: 'tcp', port: 443, reply: true });
    assert.equal(out.code, 'internet');
    assert.equal(out.reply?.verdict, 'delivered');
    assert.equal(trace(world, { from: '198.18.0.10', to: '198.51.100.2', protocol: 'tcp', port: 22 }).code, 'delivered');
    assert.equal(trace(world, { from: '198.18.0.10', to: '203.0.113.5', protocol: 'tcp', port: 9999 }).code, 'dnat-no-rule');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the sim driver's audit reads its state back: a lost or edited state file is drift, repaired", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-sim-audit-'));
  try {
    const [h1] = documents(baseScenario());
    const file = join(dir, `${h1!.hostId}.json`);
    const d = new SimDriver(file);
    await d.apply(h1!);
    assert.deepEqual(await d.audit(h1!), { changes: 0, repairs: [] }, 'nothing drifted');
    rmSync(file);
    const lost = await d.audit(h1!);
    assert.equal(lost.changes, 1);
    assert.match(lost.repairs[0]!.what, /state missing/);
    assert.deepEqual(readSimState(dir), [h1], 'written again');
    const edited = structuredClone(h1!);
    edited.vpcs[0]!.remotes = [];
    writeFileSync(file, JSON.stringify(edited));
    const drift = await d.audit(h1!);
    assert.deepEqual(drift.repairs.map((r) => [r.vpcId, r.what, r.repaired]), [[h1!.vpcs[0]!.vpcId, 'VPC state differed', true]]);
    assert.deepEqual(readSimState(dir), [h1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
