/**
 * The driver's memory of what it applied (pure): which VPCs a normal apply
 * reads and plans — changed, never applied, with a namespace gone, and the
 * VPCs they peer with — and that a revision bump alone changes nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vpcDigests, vpcsToPlan } from '../../../src/dataplane/linux/applied-memory.js';
import { instanceNs, routerNs } from '../../../src/dataplane/linux/names.js';
import type { HostDocument } from '../../../src/contract/host-document.js';
import { richVpc, routingDocument } from './fixtures.js';

const ctx = { prefix: 'wtx', hostName: 'h1' };
const allNamespaces = (doc: HostDocument) => doc.vpcs.flatMap((v) => [routerNs(ctx.prefix, ctx.hostName, v.vpcId), ...v.ports.map((p) => instanceNs(ctx.prefix, p.instanceId))]);

function twoVpcs(): HostDocument {
  const other = { ...richVpc(), vpcId: 'vpc-other001', vni: 4343 };
  other.ports = other.ports.map((p) => ({ ...p, instanceId: p.instanceId.replace('ins-', 'ins-o') }));
  return { hostId: 'h1', revision: 7, underlay: '100.64.0.11', vpcs: [richVpc(), other] };
}

test('a normal apply plans only the VPCs whose part of the document changed', () => {
  const doc = twoVpcs();
  const applied = vpcDigests(doc);
  assert.deepEqual([...vpcsToPlan(doc, vpcDigests(doc), new Map(), allNamespaces(doc), ctx)].sort(), ['vpc-other001', 'vpc-rich0001'], 'nothing remembered: everything');
  assert.deepEqual([...vpcsToPlan(doc, vpcDigests(doc), applied, allNamespaces(doc), ctx)], [], 'all applied: nothing');
  const bumped = { ...doc, revision: 8 };
  assert.deepEqual([...vpcsToPlan(bumped, vpcDigests(bumped), applied, allNamespaces(doc), ctx)], [], 'a new revision alone is no change');
  const changed = structuredClone(doc);
  changed.vpcs[1]!.remotes = changed.vpcs[1]!.remotes.slice(1);
  assert.deepEqual([...vpcsToPlan(changed, vpcDigests(changed), applied, allNamespaces(doc), ctx)], ['vpc-other001']);
  const header = { ...doc, underlay: '100.64.0.99' };
  assert.equal(vpcsToPlan(header, vpcDigests(header), applied, allNamespaces(doc), ctx).size, 2, "the host's own fields concern every VPC");
});

test('a missing router or instance namespace makes its VPC planned again', () => {
  const doc = twoVpcs();
  const applied = vpcDigests(doc);
  const ns = allNamespaces(doc);
  const router = routerNs(ctx.prefix, ctx.hostName, 'vpc-rich0001');
  assert.deepEqual([...vpcsToPlan(doc, vpcDigests(doc), applied, ns.filter((n) => n !== router), ctx)], ['vpc-rich0001']);
  const inst = instanceNs(ctx.prefix, doc.vpcs[1]!.ports[0]!.instanceId);
  assert.deepEqual([...vpcsToPlan(doc, vpcDigests(doc), applied, ns.filter((n) => n !== inst), ctx)], ['vpc-other001']);
});

test('peered VPCs are planned together, and a peer change changes the digest', () => {
  const doc = routingDocument();
  assert.equal(doc.vpcs.length, 2);
  const applied = vpcDigests(doc);
  const [peer, rich] = [doc.vpcs.find((v) => v.vpcId === 'vpc-peer0001')!, doc.vpcs.find((v) => v.vpcId === 'vpc-rich0001')!];
  assert.ok(peer && rich);
  const changed = structuredClone(doc);
  changed.vpcs.find((v) => v.vpcId === 'vpc-peer0001')!.vni += 1;
  const digests = vpcDigests(changed);
  assert.notEqual(digests.get('vpc-rich0001'), applied.get('vpc-rich0001'), "the peer's context is part of the digest");
  const forgotten = new Map(applied);
  forgotten.delete('vpc-peer0001');
  assert.deepEqual([...vpcsToPlan(doc, applied, forgotten, allNamespaces(doc), ctx)].sort(), ['vpc-peer0001', 'vpc-rich0001'], 'a link is planned from both ends');
});
