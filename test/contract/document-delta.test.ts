/**
 * Document deltas (contract/document-delta.ts): for any two documents,
 * applying the diff of a and b to a gives b — contexts, order, top-level
 * fields and digest — and the delta holds only the contexts that differ.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { apply, diff } from '../../src/contract/document-delta.js';
import type { HostDocument, VpcContext } from '../../src/contract/host-document.js';
import { documentDigest } from '../../src/compile/compile.js';

const vpcIds = ['vpc-aaaaaaaa', 'vpc-bbbbbbbb', 'vpc-cccccccc', 'vpc-dddddddd', 'vpc-eeeeeeee', 'vpc-ffffffff'];

const vpc = (vpcId: string): fc.Arbitrary<VpcContext> =>
  fc.record({
    vni: fc.integer({ min: 1, max: 9 }),
    ports: fc.array(fc.constantFrom('10.0.1.5', '10.0.1.6', '10.0.1.7'), { maxLength: 2 }),
    groups: fc.subarray(['sg-1', 'sg-2']),
    routes: fc.option(fc.constantFrom('0.0.0.0/0', '192.168.0.0/24'), { nil: undefined }),
  }).map(({ vni, ports, groups, routes }) => ({
    vpcId,
    vni,
    routerMac: `02:00:00:00:00:0${vni}`,
    subnets: [],
    ports: ports.map((ip, i) => ({ ip, mac: `52:54:00:00:00:0${i}` }) as unknown as VpcContext['ports'][number]),
    remotes: [],
    securityGroups: Object.fromEntries(groups.map((g) => [g, { ingress: [], egress: [] } as unknown as VpcContext['securityGroups'][string]])),
    groupMembers: {},
    ...(routes ? { routeTables: [{ routeTableId: 'rtb-1', routes: [{ destination: routes }] } as unknown as NonNullable<VpcContext['routeTables']>[number]] } : {}),
  }));

/** A document over a subset of the VPCs, sorted as the compiler sorts them (or shuffled, to exercise `order`). */
const document = (shuffled: boolean): fc.Arbitrary<HostDocument> =>
  fc
    .record({
      revision: fc.nat(1000),
      role: fc.constantFrom(undefined, 'gateway' as const),
      gatewayNodes: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      ids: shuffled ? fc.shuffledSubarray(vpcIds) : fc.subarray(vpcIds),
    })
    .chain(({ revision, role, gatewayNodes, ids }) =>
      fc.tuple(...ids.map(vpc)).map((vpcs) => ({
        hostId: 'h1',
        revision,
        underlay: '100.64.0.11',
        ...(role ? { role } : {}),
        ...(gatewayNodes ? { gatewayNodes } : {}),
        vpcs,
      })),
    );

/** A document and one made from it by a few context edits (the common case: most contexts the same object). */
const edited = document(false).chain((a) =>
  fc
    .record({ drop: fc.subarray(a.vpcs.map((v) => v.vpcId)), change: fc.subarray(a.vpcs.map((v) => v.vpcId)), add: fc.subarray(vpcIds), revision: fc.nat(1000) })
    .chain(({ drop, change, add, revision }) => {
      const kept = a.vpcs.filter((v) => !drop.includes(v.vpcId));
      const added = add.filter((id) => !a.vpcs.some((v) => v.vpcId === id));
      return fc.tuple(fc.tuple(...change.map(vpc)), fc.tuple(...added.map(vpc))).map(([changed, fresh]) => {
        const vpcs = [...kept.map((v) => changed.find((c) => c.vpcId === v.vpcId) ?? v), ...fresh].sort((x, y) => (x.vpcId < y.vpcId ? -1 : 1));
        return [a, { ...a, revision, vpcs }] as const;
      });
    }),
);

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('document deltas', () => {
  it('apply(a, diff(a, b)) is b, digest included, for unrelated documents', () => {
    fc.assert(
      fc.property(document(false), document(false), (a, b) => {
        const got = apply(a, roundTrip(diff(a, b)));
        assert.deepEqual(got, b);
        assert.equal(documentDigest(got), documentDigest(b));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an order that is not by vpcId (sent as `order`)', () => {
    fc.assert(
      fc.property(document(true), document(true), (a, b) => {
        const d = diff(a, b);
        assert.deepEqual(apply(a, roundTrip(d)), b);
        const sorted = b.vpcs.every((v, i) => i === 0 || b.vpcs[i - 1]!.vpcId < v.vpcId);
        assert.equal(d.order === undefined, sorted);
      }),
      { numRuns: 300 },
    );
  });

  it('holds exactly the contexts that differ, and the removed IDs', () => {
    fc.assert(
      fc.property(edited, ([a, b]) => {
        const d = diff(a, b);
        const old = new Map(a.vpcs.map((v) => [v.vpcId, JSON.stringify(v)]));
        const differing = b.vpcs.filter((v) => old.get(v.vpcId) !== JSON.stringify(v)).map((v) => v.vpcId);
        assert.deepEqual(d.put.map((v) => v.vpcId), differing);
        assert.deepEqual(d.removed, a.vpcs.map((v) => v.vpcId).filter((id) => !b.vpcs.some((v) => v.vpcId === id)));
        assert.deepEqual(apply(a, roundTrip(d)), b);
      }),
      { numRuns: 300 },
    );
  });

  it('a document against itself is an empty delta with its head and revision', () => {
    fc.assert(
      fc.property(document(false), (a) => {
        const d = diff(a, roundTrip(a));
        assert.deepEqual([d.put, d.removed, d.revision], [[], [], a.revision]);
        assert.deepEqual(apply(a, d), a);
      }),
    );
  });

  it('applied to the wrong document, the result fails the digest check (or the apply)', () => {
    fc.assert(
      fc.property(edited, document(false), ([a, b], other) => {
        fc.pre(documentDigest(other) !== documentDigest(a));
        const d = diff(a, b);
        let digest: string | undefined;
        try {
          digest = documentDigest(apply(other, d));
        } catch {
          return;
        }
        // Only when the delta happens to rewrite every context that differs can the wrong base give the right result.
        const rewrites = new Set([...d.put.map((v) => v.vpcId), ...d.removed]);
        const same = (x: HostDocument) => new Map(x.vpcs.filter((v) => !rewrites.has(v.vpcId)).map((v) => [v.vpcId, JSON.stringify(v)]));
        const alike = JSON.stringify([...same(other)]) === JSON.stringify([...same(a)]);
        assert.equal(digest === documentDigest(b), alike);
      }),
      { numRuns: 300 },
    );
  });
});
