/**
 * Property: the reachability matrix computed by equivalence classes equals the
 * one made of a full trace per cell, on random regions — consistent ones
 * (compiled from one state) and regions whose hosts' documents are out of step
 * (each host's document from one of two states: instances moved, a host
 * drained, groups rebound, policies changed, a host's underlay changed), which exercise the
 * tunnel endings, stale routes and member sets that differ between routers.
 * Subnets get random network ACLs (some only on some hosts' documents) and
 * route tables whose routes cover instance addresses with next hops, ECMP
 * groups and blackholes — never compiled (user routes stay out of the VPC's
 * CIDR), but a router that has lost an instance's /32 in a stale document
 * then routes by them, which the matrix must follow cell by cell.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AclRule, HostDocument, NetworkAcl, RouteTable } from '../../src/contract/host-document.js';
import type { L4 } from '../../src/trace/model.js';
import { reachability, reachabilityByTraces } from '../../src/trace/reach.js';
import { buildWorld } from '../../src/trace/world.js';
import { documents, type PolicySpec, type ScenarioSpec } from './scenario.js';

const GROUPS = ['sg-g0000000', 'sg-g0000001', 'sg-g0000002', 'sg-g0000003'];
const PORTS = ['ALL', '22', '80', '22,80', '80-90', '1-100'];
const CIDRS = ['0.0.0.0/0', '10.0.0.0/16', '10.0.1.0/24', '10.0.2.0/24', '10.0.1.4', '10.0.2.5', '10.0.1.1', '192.168.0.0/16'];
const PROBES: { protocol: L4; port?: number }[] = [{ protocol: 'tcp', port: 22 }, { protocol: 'udp', port: 85 }, { protocol: 'icmp' }];
const HOSTS = 4;

const policy: fc.Arbitrary<PolicySpec> = fc
  .record({
    protocol: fc.constantFrom('TCP', 'UDP', 'ICMP', 'ALL') as fc.Arbitrary<PolicySpec['protocol']>,
    port: fc.constantFrom(...PORTS),
    peer: fc.oneof(fc.constantFrom(...CIDRS).map((cidr) => ({ cidr })), fc.constantFrom(...GROUPS).map((sg) => ({ sg }))),
    action: fc.constantFrom('ACCEPT', 'DROP') as fc.Arbitrary<PolicySpec['action']>,
  })
  .map(({ protocol, port, peer, action }) => ({ protocol, ...(protocol === 'TCP' || protocol === 'UDP' ? { port } : {}), ...peer, action }));

const groupsArb = fc.tuple(...GROUPS.map(() => fc.record({ ingress: fc.array(policy, { maxLength: 3 }), egress: fc.array(policy, { maxLength: 3 }) })));
const instanceArb = fc.record({ subnet: fc.constantFrom('1', '2'), host: fc.integer({ min: -1, max: HOSTS - 1 }), groups: fc.subarray(GROUPS, { maxLength: 2 }) });

/** A region of one or two VPCs (the same CIDR) with up to 24 instances, many with equal treatment. */
function region(r: { instances: { subnet: string; host: number; groups: string[] }[]; groups: ScenarioSpec['groups'][string][]; underlayShift: number }): ScenarioSpec {
  const hosts = Object.fromEntries(Array.from({ length: HOSTS }, (_, i) => [`h${i + 1}`, `100.64.0.${11 + i + (i === 0 ? r.underlayShift : 0)}`]));
  const vpcs = [
    { id: 'vpc-v0000000', vni: 100 },
    { id: 'vpc-v0000001', vni: 101 },
  ];
  const subnets = Object.fromEntries(vpcs.flatMap((v) => ['1', '2'].map((s) => [`subnet-${v.id.slice(-1)}${s}`, `10.0.${s}.0/24`])));
  const instances = r.instances.map((x, n) => {
    const vpc = vpcs[n % 5 === 4 ? 1 : 0]!;
    return { id: `ins-i${String(n).padStart(7, '0')}`, vpc: vpc.id, subnet: `subnet-${vpc.id.slice(-1)}${x.subnet}`, ip: `10.0.${x.subnet}.${4 + n}`, host: x.host < 0 ? null : `h${x.host + 1}`, groups: x.groups };
  });
  return { hosts, vpcs, subnets, instances, groups: Object.fromEntries(GROUPS.map((g, i) => [g, r.groups[i]!])) };
}

const aclRule: fc.Arbitrary<AclRule> = fc.record({
  protocol: fc.constantFrom('tcp', 'udp', 'icmp', 'all') as fc.Arbitrary<AclRule['protocol']>,
  ports: fc.constantFrom<[number, number][]>([], [[22, 22]], [[80, 90]], [[1, 100]]),
  cidr: fc.constantFrom('0.0.0.0/0', '10.0.0.0/16', '10.0.1.0/24', '10.0.2.0/24', '10.0.1.4/32', '10.0.2.0/25', '192.168.0.0/16'),
  action: fc.constantFrom('accept', 'drop') as fc.Arbitrary<AclRule['action']>,
});
const aclArb: fc.Arbitrary<NetworkAcl> = fc.record({ ingress: fc.array(aclRule, { maxLength: 3 }), egress: fc.array(aclRule, { maxLength: 3 }) });
/** Per subnet (1, 2): an ACL or none, and table routes over instance addresses: next hops by instance index (none: a blackhole). */
const routingArb = fc.record({
  acls: fc.tuple(fc.option(aclArb), fc.option(aclArb)),
  aclOnHost: fc.array(fc.boolean(), { minLength: HOSTS, maxLength: HOSTS }),
  routes: fc.tuple(
    ...[0, 1].map(() =>
      fc.array(fc.record({ destination: fc.constantFrom('10.0.1.0/24', '10.0.2.0/24', '10.0.2.0/28', '10.0.1.8/29', '10.0.0.0/16'), hops: fc.array(fc.nat(23), { maxLength: 3 }) }), { maxLength: 3 }),
    ),
  ),
});

/** Adds the ACLs and tables to every VPC context of the documents (as the compiler would lay them out, but with routes it never makes). */
function withRouting(docs: HostDocument[], r: typeof routingArb extends fc.Arbitrary<infer T> ? T : never): HostDocument[] {
  const ips = docs.flatMap((d) => d.vpcs.flatMap((v) => [...v.ports.map((p) => [v.vpcId, p.ip, p.instanceId] as const), ...v.remotes.map((p) => [v.vpcId, p.ip, p.instanceId] as const)]));
  return docs.map((d, h) => ({
    ...d,
    vpcs: d.vpcs.map((v) => {
      const mine = [...new Map(ips.filter(([vpc]) => vpc === v.vpcId).map(([, ip, id]) => [ip, { ip, instanceId: id }])).values()];
      const subnetOf = (cidr: string) => (cidr.startsWith('10.0.1.') ? 0 : 1);
      const tables: RouteTable[] = [0, 1].map((k) => ({
        routeTableId: `rtb-t${k}`,
        main: k === 1,
        subnets: [{ subnetId: `subnet-${v.vpcId.slice(-1)}${k + 1}`, cidr: `10.0.${k + 1}.0/24` }],
        routes: [...new Map(r.routes[k]!.map((x) => [x.destination, x])).values()].map((x) => ({
          destination: x.destination,
          kind: 'instance' as const,
          nextHops: mine.length ? [...new Map(x.hops.map((n) => [mine[n % mine.length]!.ip, mine[n % mine.length]!])).values()].sort((a, b) => (a.ip < b.ip ? -1 : 1)) : [],
          routeIds: [`rt-${k}`],
        })),
      }));
      const networkAcls: Record<string, NetworkAcl> = {};
      const subnets = v.subnets.map((s) => {
        const k = subnetOf(s.cidr);
        const acl = r.aclOnHost[h] ? r.acls[k] : null;
        if (acl) networkAcls[`acl-${k}`] = acl;
        return { ...s, routeTableId: `rtb-t${k}`, ...(acl ? { networkAclId: `acl-${k}` } : {}) };
      });
      return { ...v, subnets, routeTables: tables, ...(Object.keys(networkAcls).length ? { networkAcls } : {}) };
    }),
  }));
}

const world = fc
  .record({
    routing: routingArb,
    instances: fc.array(instanceArb, { minLength: 2, maxLength: 24 }),
    groups: groupsArb,
    // The second state: some instances moved or rebound, other policies, h1 on another underlay address.
    moves: fc.array(fc.record({ n: fc.nat(), host: fc.integer({ min: -1, max: HOSTS - 1 }), groups: fc.subarray(GROUPS, { maxLength: 2 }) }), { maxLength: 4 }),
    groups2: groupsArb,
    underlayShift: fc.constantFrom(0, 100),
    drain: fc.integer({ min: -1, max: HOSTS - 1 }),
    stale: fc.array(fc.boolean(), { minLength: HOSTS, maxLength: HOSTS }),
    inStep: fc.boolean(),
  })
  .map((r) => {
    const first = region({ instances: r.instances, groups: r.groups, underlayShift: 0 });
    if (r.inStep) return withRouting(documents(first), r.routing);
    const moved = r.instances.map((x) => ({ ...x }));
    for (const m of r.moves) moved[m.n % moved.length] = { ...moved[m.n % moved.length]!, host: m.host, groups: m.groups };
    for (const x of moved) if (x.host === r.drain) x.host = (r.drain + 1) % HOSTS; // a host left with no instance
    const second = region({ instances: moved, groups: r.groups2, underlayShift: r.underlayShift });
    const a = documents(first);
    const b = documents(second, 2);
    return withRouting(a.map((d, i) => (r.stale[i] ? d : b[i]!)), r.routing);
  });

describe('reachability matrix by equivalence classes', () => {
  it('equals a trace per cell on random regions, in step or not, for every protocol and for chosen subsets', () => {
    let cells = 0;
    const seen = new Set<string>();
    fc.assert(
      fc.property(world, fc.array(fc.nat(), { maxLength: 8 }), (docs, pick) => {
        const w = buildWorld(docs);
        for (const vpcId of ['vpc-v0000000', 'vpc-v0000001']) {
          const ids = (w.byVpc.get(vpcId) ?? []).map((i) => i.port.instanceId);
          const subsets: (string[] | undefined)[] = [undefined];
          if (ids.length) subsets.push(pick.map((p) => ids[p % ids.length]!)); // any order, repeats allowed
          for (const instanceIds of subsets)
            for (const probe of PROBES) {
              const q = { vpcId, ...probe, ...(instanceIds ? { instanceIds } : {}) };
              const fast = reachability(w, q);
              const slow = reachabilityByTraces(w, q);
              assert.deepEqual(fast, slow, `${JSON.stringify(q)}`);
              cells += slow.cells.length ** 2;
              for (const row of slow.cells) for (const c of row) seen.add(c);
            }
        }
      }),
      { numRuns: 400 },
    );
    assert.ok(cells > 20_000, `compared ${cells} cells`);
    console.log(`compared ${cells} cells; codes: ${[...seen].sort().join(', ')}`);
    for (const code of ['delivered', 'loopback', 'no-route', 'egress-policy', 'egress-default', 'ingress-policy', 'ingress-default', 'tunnel-no-host', 'tunnel-no-vpc', 'acl-egress', 'acl-ingress', 'blackhole'])
      assert.ok(seen.has(code), `the random regions reach ${code}`);
  });
});
