/**
 * Property: for random regions (overlapping VPCs, instances over hosts, some
 * not placed, random policies with references, port lists and ranges), the
 * tracer over the compiled documents agrees with a direct reading of the
 * policies as the API stores them (docs/security-groups.md): first match
 * across the source's groups in bound order for egress, the same for the
 * destination's ingress, no match drops, and addresses are looked up in the
 * source's VPC only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { containsIp, parseCidr, parseIp } from '../../src/core/cidr.js';
import type { L4 } from '../../src/trace/model.js';
import { trace } from '../../src/trace/trace.js';
import { buildWorld } from '../../src/trace/world.js';
import { documents, type PolicySpec, type ScenarioSpec } from './scenario.js';

const GROUPS = ['sg-g0000000', 'sg-g0000001', 'sg-g0000002'];
const IPS = ['10.0.1.4', '10.0.1.5', '10.0.1.6', '10.0.2.4', '10.0.2.5'];
const PORTS = ['ALL', '22', '80', '22,80', '80-90', '1-100'];
const CIDRS = ['0.0.0.0/0', '10.0.0.0/16', '10.0.1.0/24', '10.0.2.0/24', '10.0.1.4', '10.0.2.5', '192.168.0.0/16'];
const PROBES: { protocol: L4; port?: number }[] = [{ protocol: 'tcp', port: 22 }, { protocol: 'udp', port: 85 }, { protocol: 'tcp', port: 443 }, { protocol: 'icmp' }];

const policy: fc.Arbitrary<PolicySpec> = fc
  .record({
    protocol: fc.constantFrom('TCP', 'UDP', 'ICMP', 'ICMPV6', 'ALL') as fc.Arbitrary<PolicySpec['protocol']>,
    port: fc.constantFrom(...PORTS),
    peer: fc.oneof(fc.constantFrom(...CIDRS).map((cidr) => ({ cidr })), fc.constantFrom(...GROUPS).map((sg) => ({ sg })), fc.constant({ ipv6: '::/0' })),
    action: fc.constantFrom('ACCEPT', 'DROP') as fc.Arbitrary<PolicySpec['action']>,
  })
  .map(({ protocol, port, peer, action }) => ({ protocol, ...(protocol === 'TCP' || protocol === 'UDP' ? { port } : {}), ...peer, action }));

const scenario: fc.Arbitrary<ScenarioSpec> = fc
  .record({
    hosts: fc.integer({ min: 1, max: 3 }),
    vpcs: fc.integer({ min: 1, max: 2 }),
    instances: fc.array(
      fc.record({ vpc: fc.integer({ min: 0, max: 1 }), ip: fc.integer({ min: 0, max: IPS.length - 1 }), host: fc.integer({ min: -1, max: 2 }), groups: fc.subarray(GROUPS) }),
      { minLength: 2, maxLength: 8 },
    ),
    groups: fc.tuple(...GROUPS.map(() => fc.record({ ingress: fc.array(policy, { maxLength: 4 }), egress: fc.array(policy, { maxLength: 4 }) }))),
    shuffle: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
  })
  .map((r) => {
    const hosts = Object.fromEntries(Array.from({ length: r.hosts }, (_, i) => [`h${i + 1}`, `100.64.0.${11 + i}`]));
    const vpcs = Array.from({ length: r.vpcs }, (_, i) => ({ id: `vpc-v000000${i}`, vni: 100 + i }));
    const seen = new Set<string>();
    const instances = r.instances.flatMap((x, n) => {
      const vpc = vpcs[x.vpc % vpcs.length]!;
      const ip = IPS[x.ip]!;
      if (seen.has(`${vpc.id}/${ip}`)) return []; // one address once per VPC
      seen.add(`${vpc.id}/${ip}`);
      const host = x.host < 0 ? null : `h${(x.host % r.hosts) + 1}`;
      // Bound order matters: rotate the group list by a random amount.
      const k = r.shuffle[n % 3]! % Math.max(1, x.groups.length);
      const groups = [...x.groups.slice(k), ...x.groups.slice(0, k)];
      return [{ id: `ins-i000000${n}`, vpc: vpc.id, subnet: `subnet-${vpc.id.slice(-1)}${ip.split('.')[2]}`, ip, host, groups }];
    });
    const subnets = Object.fromEntries(vpcs.flatMap((v) => ['1', '2'].map((s) => [`subnet-${v.id.slice(-1)}${s}`, `10.0.${s}.0/24`])));
    const groups = Object.fromEntries(GROUPS.map((g, i) => [g, r.groups[i]!]));
    return { hosts, vpcs, subnets, instances, groups };
  });

/** The policies read directly, as docs/security-groups.md states them. */
function expected(s: ScenarioSpec, from: ScenarioSpec['instances'][number], dstIp: string, probe: { protocol: L4; port?: number }): string {
  const to = s.instances.find((i) => i.vpc === from.vpc && i.ip === dstIp && i.host);
  if (!to) return 'no-route';
  if (to === from) return 'loopback';
  const membersOf = (sg: string) => s.instances.filter((i) => i.vpc === from.vpc && i.groups.includes(sg)).map((i) => i.ip);
  const matches = (p: PolicySpec, peer: string) => {
    const proto =
      p.protocol === 'ALL' ||
      (p.protocol === 'ICMP' && probe.protocol === 'icmp') ||
      (p.protocol.toLowerCase() === probe.protocol &&
        (p.port === undefined ||
          p.port === 'ALL' ||
          p.port.split(',').some((part) => {
            const [lo, hi] = part.split('-').map(Number);
            return probe.port! >= lo! && probe.port! <= (hi ?? lo)!;
          })));
    if (!proto) return false;
    if (p.sg) return membersOf(p.sg).includes(peer);
    if (p.cidr) return p.cidr.includes('/') ? containsIp(parseCidr(p.cidr)!, parseIp(peer)!) : p.cidr === peer;
    return false; // IPv6 peer
  };
  const decide = (groups: string[], dir: 'ingress' | 'egress', peer: string) => {
    for (const g of groups) for (const p of s.groups[g]?.[dir] ?? []) if (matches(p, peer)) return p.action === 'ACCEPT';
    return false;
  };
  if (!decide(from.groups, 'egress', to.ip)) return 'egress';
  if (!decide(to.groups, 'ingress', from.ip)) return 'ingress';
  return 'delivered';
}

describe('packet tracer: property', () => {
  it('agrees with the policies read directly, on random regions', () => {
    let pairs = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const world = buildWorld(documents(s));
        for (const from of s.instances.filter((i) => i.host))
          for (const ip of IPS)
            for (const probe of PROBES) {
              const r = trace(world, { from: from.id, to: ip, ...probe });
              const got = r.code.replace(/-(policy|default)$/, '');
              assert.equal(got, expected(s, from, ip, probe), `${from.id} (${from.vpc}) → ${ip} ${probe.protocol}/${probe.port ?? ''}`);
              pairs++;
              if (r.verdict === 'delivered' && r.code !== 'loopback') {
                // …and its reply always comes back (conntrack), whatever the groups say about new packets.
                const back = trace(world, { from: from.id, to: ip, ...probe, reply: true }).reply!;
                assert.equal(back.code, 'delivered');
                assert.equal(back.deliveredTo!.instanceId, from.id);
              }
            }
      }),
      { numRuns: 300 },
    );
    assert.ok(pairs > 1000, `checked ${pairs} flows`);
  });
});
