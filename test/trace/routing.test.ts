import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostDocument } from '../../src/contract/host-document.js';
import { DocumentError, type TraceQuery, type TraceResult } from '../../src/trace/model.js';
import { reachability, reachabilityByTraces } from '../../src/trace/reach.js';
import { renderMatrix, renderTrace } from '../../src/trace/render.js';
import type { AclDetail } from '../../src/trace/stages/network-acl.js';
import type { PeeringDetail } from '../../src/trace/stages/peering.js';
import type { PortDetail } from '../../src/trace/stages/port.js';
import type { RouteDetail } from '../../src/trace/stages/route.js';
import type { SecurityGroupDetail } from '../../src/trace/stages/security-group.js';
import { ecmpHash } from '../../src/trace/tables.js';
import { trace, traceEveryPath } from '../../src/trace/trace.js';
import { buildWorld } from '../../src/trace/world.js';
import { documents, baseScenario } from './scenario.js';
import { acl, routingDocuments, routingScenario, type RoutingSpec } from './routing-scenario.js';

const docs = routingDocuments(routingScenario());
const world = buildWorld(docs);
const run = (q: Partial<TraceQuery> & { from: string; to: string }, w = world) => trace(w, { protocol: 'tcp', port: 22, ...q } as TraceQuery);
const steps = (r: TraceResult) => r.hops.map((h) => `${h.hostId} ${h.vpcId.slice(4, 5)} ${h.stage} ${h.result}`);
const routeHops = (r: TraceResult) => r.hops.filter((h) => h.stage === 'route').map((h) => h.detail as RouteDetail);
const aclHops = (r: TraceResult) => r.hops.filter((h) => h.stage === 'acl').map((h) => h.detail as AclDetail);
const edited = (spec: (s: RoutingSpec) => void) => {
  const s = routingScenario();
  spec(s);
  return buildWorld(routingDocuments(s));
};

describe('tracer: route tables', () => {
  it('forwards to a local next hop, which is delivered the packet though it is not its address', () => {
    const r = run({ from: 'ins-a1', to: '100.64.100.9', port: 443 });
    assert.equal(r.code, 'delivered');
    assert.deepEqual(r.deliveredTo, { instanceId: 'ins-a2', hostId: 'h1' });
    assert.deepEqual(steps(r), ['h1 a port pass', 'h1 a route forward', 'h1 a security-group pass', 'h1 a security-group pass', 'h1 a deliver deliver']);
    const [route] = routeHops(r);
    assert.equal(route!.kind, 'port');
    assert.equal(route!.instanceId, 'ins-a2');
    assert.deepEqual(route!.table, {
      view: 'subnet',
      routeTableId: 'rtb-a1',
      subnetId: 'subnet-a1',
      matched: { destination: '100.64.100.0/24', kind: 'instance', routeIds: ['rt-1'] },
      nextHops: [{ ip: '10.0.1.6', instanceId: 'ins-a2' }],
      nextHop: { ip: '10.0.1.6', instanceId: 'ins-a2' },
    });
    // The ingress chain is the next hop's port.
    const sg = r.hops.filter((h) => h.stage === 'security-group').map((h) => h.detail as SecurityGroupDetail);
    assert.deepEqual(sg.map((d) => [d.direction, d.instanceId]), [['egress', 'ins-a1'], ['ingress', 'ins-a2']]);
    assert.equal((r.hops.at(-1)!.detail as PortDetail).nextHopFor, '100.64.100.0/24');
    assert.match(r.reason, /as the next hop for 100\.64\.100\.0\/24 \(the packet is for 100\.64\.100\.9/);
  });

  it('takes the longest prefix: a /16 to a next hop on another host, routed again there by the tunnel-side view', () => {
    const r = run({ from: 'ins-a1', to: '100.64.5.5' });
    assert.deepEqual(r.deliveredTo, { instanceId: 'ins-a3', hostId: 'h2' });
    assert.deepEqual(steps(r), [
      'h1 a port pass',
      'h1 a route forward',
      'h1 a security-group pass',
      'h1 a tunnel forward',
      'h2 a route forward',
      'h2 a acl pass',
      'h2 a security-group pass',
      'h2 a deliver deliver',
    ]);
    const [first, second] = routeHops(r);
    assert.equal(first!.kind, 'tunnel');
    assert.equal(first!.hostId, 'h2');
    assert.deepEqual(first!.table!.matched!.destination, '100.64.0.0/16');
    assert.equal(second!.kind, 'port');
    assert.deepEqual([second!.table!.view, second!.table!.routeTableId, second!.table!.subnetId], ['tunnel', 'rtb-a1', 'subnet-a1']);
    assert.match(r.hops[4]!.summary, /tunnel-side view of rtb-a1 \(the table of subnet-a1, 10\.0\.1\.0\/24, which holds the source/);
  });

  it('picks the tunnel-side table by the source address, not by the receiving host’s ports', () => {
    // 10.99.0.0/16: rtb-a1 (subnet-a1) → a3, rtb-a2 (subnet-a2) → a4; both next hops are on h2.
    const fromA1 = run({ from: 'ins-a1', to: '10.99.1.1' });
    assert.deepEqual(fromA1.deliveredTo, { instanceId: 'ins-a3', hostId: 'h2' });
    const fromA3 = run({ from: 'ins-a3', to: '10.99.1.1', protocol: 'icmp', port: undefined }); // acl-a2 lets icmp out
    assert.deepEqual(fromA3.deliveredTo, { instanceId: 'ins-a4', hostId: 'h2' });
    assert.equal(routeHops(fromA3)[0]!.table!.routeTableId, 'rtb-a2', 'a3 is in subnet-a2, whose table is the main one');
    // A source in no subnet of the VPC has no tunnel-side table: a2 forwards from 100.64.100.7 (routed to it) to a3.
    const forwarded = run({ from: 'ins-a2', to: '10.99.1.1', sourceIp: '100.64.100.7' });
    assert.equal(forwarded.code, 'no-route');
    assert.equal(forwarded.hops.at(-1)!.hostId, 'h2');
    assert.deepEqual(routeHops(forwarded).at(-1)!.table, { view: 'none' });
    assert.match(forwarded.reason, /came from the tunnel and its source is in no subnet of vpc-aaaaaaaa/);
  });

  it('spreads an ECMP route by a 5-tuple hash, lists every member, and walks each for reachability', () => {
    const r = run({ from: 'ins-a1', to: '203.0.113.10', protocol: 'icmp', port: undefined });
    const [route] = routeHops(r);
    const members = [{ ip: '10.0.1.6', instanceId: 'ins-a2' }, { ip: '10.0.2.7', instanceId: 'ins-a3' }];
    assert.deepEqual(route!.table!.nextHops, members, 'sorted by address');
    const e = route!.table!.ecmp!;
    assert.equal(e.hash, ecmpHash(r.packet));
    assert.equal(e.index, e.hash % 2);
    assert.deepEqual(route!.table!.nextHop, members[e.index]);
    assert.match(e.note, /kernel hashes with its own function/);
    assert.match(r.hops[1]!.summary, /ECMP over 10\.0\.1\.6 \(ins-a2\), 10\.0\.2\.7 \(ins-a3\): takes member \d of 2/);
    assert.equal(r.deliveredTo!.instanceId, members[e.index]!.instanceId);
    // The same query always takes the same member; another source port may take the other.
    const picks = new Set([49152, 49153, 49154, 49155, 49156, 49157].map((sourcePort) => run({ from: 'ins-a1', to: '203.0.113.10', port: 22, sourcePort }).deliveredTo!.instanceId));
    assert.deepEqual([...picks].sort(), ['ins-a2', 'ins-a3']);
    // Every member: through a2 tcp 80 arrives, through a3 subnet-a2's ACL drops it (only tcp 22 from subnet-a1).
    const paths = traceEveryPath(world, { from: 'ins-a1', to: '203.0.113.10', protocol: 'tcp', port: 80 });
    assert.deepEqual(paths.map((p) => [p.code, p.deliveredTo?.instanceId]), [['delivered', 'ins-a2'], ['acl-ingress', undefined]]);
    assert.deepEqual(traceEveryPath(world, { from: 'ins-a1', to: '100.64.5.5', protocol: 'icmp' }).length, 1, 'no ECMP: one path');
  });

  it('drops at a blackhole (every next hop down) without falling back to a shorter route', () => {
    const r = run({ from: 'ins-a1', to: '198.51.100.7' });
    assert.equal(r.code, 'blackhole');
    assert.equal(r.verdict, 'dropped');
    assert.deepEqual(routeHops(r)[0]!.table!.matched, { destination: '198.51.100.0/24', kind: 'instance', routeIds: ['rt-5'] });
    assert.deepEqual(routeHops(r)[0]!.table!.nextHops, []);
    assert.match(r.reason, /blackhole .* does not fall back to a shorter one/);
    // The /8 still routes what the /24 does not cover.
    assert.equal(run({ from: 'ins-a1', to: '198.1.1.1' }).deliveredTo!.instanceId, 'ins-a2');
  });

  it('says which table it consulted when nothing matches', () => {
    const r = run({ from: 'ins-a1', to: '8.8.8.8' });
    assert.equal(r.code, 'no-route');
    assert.match(r.reason, /nor does rtb-a1 \(the table of subnet-a1, where ins-a1's port is\) have a route for it/);
    assert.deepEqual(routeHops(r)[0]!.table, { view: 'subnet', routeTableId: 'rtb-a1', subnetId: 'subnet-a1' });
  });

  it('lets the main table win over any route table', () => {
    const s = routingScenario();
    s.vpcs[0]!.tables['rtb-a1']!.routes.push({ destination: '10.0.2.0/24', via: ['ins-a2'], ids: ['rt-x'] }); // overlaps the VPC: never compiled, still loses
    const r = run({ from: 'ins-a1', to: 'ins-a4', protocol: 'icmp', port: undefined }, buildWorld(routingDocuments(s)));
    assert.deepEqual(r.deliveredTo, { instanceId: 'ins-a4', hostId: 'h2' });
    assert.equal(routeHops(r)[0]!.table, undefined);
  });

  it('traces the reply of a packet delivered to a next hop as the next hop answering from the routed address', () => {
    const r = run({ from: 'ins-a1', to: '100.64.100.9', reply: true });
    assert.equal(r.reply?.packet.src, '100.64.100.9');
    assert.equal(r.reply?.source.instanceId, 'ins-a2');
    assert.equal(r.reply?.verdict, 'delivered', r.reply?.reason);
    assert.match(r.reply!.reason, /traced as ins-a2 answering from 100\.64\.100\.9 itself/);
    // Anti-spoofing lets it: the routed CIDR is the port's.
    assert.equal(r.reply!.hops[0]!.result, 'pass');
  });

  it('renders the table, the route and the next hop in the text', () => {
    const text = renderTrace(run({ from: 'ins-a1', to: '100.64.5.5' }));
    assert.match(text, /route 100\.64\.0\.0\/16 \(rt-2\) of rtb-a1 \(the table of subnet-a1, where ins-a1's port is\): next hop 10\.0\.2\.7 \(ins-a3\) is on host h2/);
    assert.match(text, / 8\. h2 +deliver +deliver +delivered to ins-a3 .* as the next hop for 100\.64\.0\.0\/16/);
  });
});

describe('tracer: widened anti-spoofing', () => {
  it('lets a next hop send from the destinations routed to it, and nothing else', () => {
    const ok = run({ from: 'ins-a2', to: 'ins-a1', sourceIp: '100.64.100.7' });
    assert.equal(ok.code, 'delivered');
    assert.equal((ok.hops[0]!.detail as PortDetail).routedCidr, '100.64.100.0/24');
    assert.match(ok.hops[0]!.summary, /inside 100\.64\.100\.0\/24, routed to ins-a2 as a next hop/);
    // 100.64.0.0/16 is routed to a3, not to a2.
    const spoofed = run({ from: 'ins-a2', to: 'ins-a1', sourceIp: '100.64.200.7' });
    assert.equal(spoofed.code, 'anti-spoofing');
    assert.match(spoofed.reason, /may only send from 10\.0\.1\.6 \(.*\) or from 100\.64\.100\.0\/24, 198\.0\.0\.0\/8, 203\.0\.113\.0\/24/);
    // An instance that is no next hop still may send from its own address only.
    assert.equal(run({ from: 'ins-a1', to: 'ins-a2', sourceIp: '100.64.100.7' }).code, 'anti-spoofing');
  });
});

describe('tracer: peering', () => {
  it('crosses to the peer VPC’s router on the same host, then through the peer VPC’s own tunnel', () => {
    const r = run({ from: 'ins-a1', to: '172.16.1.5', port: 443 });
    assert.equal(r.code, 'delivered');
    assert.deepEqual(r.deliveredTo, { instanceId: 'ins-b1', hostId: 'h2' });
    assert.deepEqual(steps(r), [
      'h1 a port pass',
      'h1 a route forward',
      'h1 a security-group pass',
      'h1 a peering forward',
      'h1 b route forward',
      'h1 b tunnel forward',
      'h2 b route forward',
      'h2 b security-group pass',
      'h2 b deliver deliver',
    ]);
    const [route] = routeHops(r);
    assert.equal(route!.kind, 'peering');
    assert.deepEqual([route!.table!.peeringId, route!.table!.peerVpcId, route!.table!.routeTableId], ['pcx-ab000000', 'vpc-bbbbbbbb', 'rtb-a1']);
    const link = r.hops[3]!.detail as PeeringDetail;
    assert.deepEqual([link.peeringId, link.fromVpcId, link.toVpcId], ['pcx-ab000000', 'vpc-aaaaaaaa', 'vpc-bbbbbbbb']);
    assert.match(renderTrace(r), /peering pcx-ab000000: from vpc-aaaaaaaa's router to vpc-bbbbbbbb's on h1 over link/);
  });

  it('works both ways, and the reply comes back by the peer’s own table (conntrack passes it)', () => {
    const back = run({ from: 'ins-b1', to: 'ins-a1', protocol: 'icmp', port: undefined });
    assert.equal(back.code, 'delivered');
    assert.deepEqual(steps(back).filter((x) => /peering|tunnel/.test(x)), ['h2 b peering forward', 'h2 a tunnel forward']);
    const r = run({ from: 'ins-a1', to: 'ins-b1', port: 443, reply: true });
    assert.equal(r.reply!.code, 'delivered');
    assert.deepEqual(r.reply!.deliveredTo, { instanceId: 'ins-a1', hostId: 'h1' });
    assert.equal(routeHops(r.reply!)[0]!.table!.routeTableId, 'rtb-b1');
    // Into an ACL'd subnet of the peer: acl-a2 accepts 172.16.0.0/16 in and out.
    assert.equal(run({ from: 'ins-b1', to: 'ins-a3', port: 80, reply: true }).reply!.code, 'delivered');
  });

  it('is not transitive: a packet from a link is routed by instance routes only', () => {
    // rtb-a1 sends 192.168.0.0/16 (vpc-c) to vpc-b; vpc-b's own table would send it on to vpc-c, but not for a packet from the link.
    const r = run({ from: 'ins-a1', to: '192.168.1.5', protocol: 'icmp', port: undefined });
    assert.equal(r.code, 'no-route');
    assert.equal(r.hops.at(-1)!.vpcId, 'vpc-bbbbbbbb');
    assert.equal(r.hops.at(-1)!.hostId, 'h1');
    assert.deepEqual(routeHops(r).at(-1)!.table, { view: 'none' });
    assert.match(r.reason, /came over peering link pcx-ab000000, and such a packet is routed by instance routes only \(peering is not transitive\)/);
    // From vpc-b itself, its table does reach vpc-c.
    assert.equal(run({ from: 'ins-b1', to: '192.168.1.5', protocol: 'icmp', port: undefined }).deliveredTo!.instanceId, 'ins-c1');
  });

  it('drops when a peering route names a link the documents do not hold', () => {
    const d = structuredClone(docs);
    const a = d.find((x) => x.hostId === 'h1')!.vpcs.find((v) => v.vpcId === 'vpc-aaaaaaaa')!;
    delete a.peerings;
    const r = run({ from: 'ins-a1', to: '172.16.1.5' }, buildWorld(d));
    assert.equal(r.code, 'peering-no-link');
    assert.match(r.reason, /vpc-aaaaaaaa's router has no link for pcx-ab000000/);
  });
});

describe('tracer: network ACLs', () => {
  it('checks the egress entries of the source subnet, first match deciding, none matching dropping', () => {
    const drop = run({ from: 'ins-a3', to: 'ins-a1', port: 80 });
    assert.equal(drop.code, 'acl-egress');
    const [d] = aclHops(drop);
    assert.deepEqual([d!.direction, d!.networkAclId, d!.subnetId, d!.decision, d!.entryIndex, d!.action], ['egress', 'acl-a2', 'subnet-a2', 'entry', 0, 'drop']);
    assert.ok(!drop.hops.some((h) => h.stage === 'security-group'), 'the ACL comes before the security groups');
    const none = run({ from: 'ins-a3', to: 'ins-a1', port: 443 });
    assert.equal(none.code, 'acl-egress');
    assert.equal(aclHops(none)[0]!.decision, 'default');
    assert.match(none.reason, /no egress entry matches tcp port 443 to 10\.0\.1\.5/);
    const icmp = run({ from: 'ins-a3', to: 'ins-a1', protocol: 'icmp', port: undefined });
    assert.equal(icmp.code, 'delivered');
    assert.deepEqual(aclHops(icmp).map((x) => [x.direction, x.entryIndex]), [['egress', 1]]);
  });

  it('checks the ingress entries of the destination subnet', () => {
    const ok = run({ from: 'ins-a1', to: 'ins-a3', port: 22 });
    assert.equal(ok.code, 'delivered');
    assert.deepEqual(aclHops(ok).map((x) => [x.direction, x.decision, x.entryIndex]), [['ingress', 'entry', 0]]);
    assert.equal(ok.hops.find((h) => h.stage === 'acl')!.hostId, 'h2', 'on the host that delivers');
    const no = run({ from: 'ins-a1', to: 'ins-a3', protocol: 'udp', port: 53 });
    assert.equal(no.code, 'acl-ingress');
    assert.deepEqual(aclHops(no).map((x) => [x.direction, x.decision, x.action]), [['ingress', 'default', 'drop']]);
  });

  it('does not apply inside the subnet, nor to the router’s own address', () => {
    const r = run({ from: 'ins-a3', to: 'ins-a4', port: 80 });
    assert.equal(r.code, 'delivered');
    assert.deepEqual(aclHops(r).map((x) => [x.direction, x.decision]), [['egress', 'intra-subnet'], ['ingress', 'intra-subnet']]);
    const gw = run({ from: 'ins-a3', to: '10.0.2.1', port: 80 });
    assert.equal(gw.code, 'router-address');
    assert.equal(aclHops(gw).length, 0);
  });

  it('is stateless: the reply of an accepted request is dropped when no entry lets it back', () => {
    const r = run({ from: 'ins-a1', to: 'ins-a3', port: 22, reply: true });
    assert.equal(r.code, 'delivered');
    assert.equal(r.reply!.code, 'acl-egress');
    const d = aclHops(r.reply!)[0]!;
    assert.deepEqual([d.direction, d.networkAclId, d.decision], ['egress', 'acl-a2', 'default']);
    assert.match(r.reply!.reason, /network ACLs are stateless/);
    // With a return entry it comes back, passing the groups by conntrack.
    const w = edited((s) => s.vpcs[0]!.acls!['acl-a2']!.egress.push(acl('tcp', '10.0.1.0/24', 'accept', [[1024, 65535]])));
    const back = run({ from: 'ins-a1', to: 'ins-a3', port: 22, reply: true }, w).reply!;
    assert.equal(back.code, 'delivered');
    assert.deepEqual(aclHops(back).map((x) => x.entryIndex), [3]);
    assert.ok(back.hops.some((h) => h.stage === 'security-group' && (h.detail as SecurityGroupDetail).decision === 'established'));
  });

  it('shows ACL drops in the matrix, equal to a trace per cell', () => {
    for (const q of [{ protocol: 'tcp' as const, port: 22 }, { protocol: 'tcp' as const, port: 80 }, { protocol: 'udp' as const, port: 53 }, { protocol: 'icmp' as const }]) {
      const m = reachability(world, { vpcId: 'vpc-aaaaaaaa', ...q });
      assert.deepEqual(m, reachabilityByTraces(world, { vpcId: 'vpc-aaaaaaaa', ...q }));
      if (q.port === 80) {
        assert.deepEqual(m.cells[2], ['acl-egress', 'acl-egress', 'loopback', 'delivered']);
        assert.match(renderMatrix(m), /A dropped by the source subnet's network ACL \(egress\)/);
      }
    }
  });
});

describe('tracer: the documents it refuses', () => {
  it('refuses a CIDR that is not normalised instead of never matching it', () => {
    const bare = documents(baseScenario()).map((d) => structuredClone(d));
    bare[0]!.vpcs[0]!.securityGroups['sg-base0000']!.egress[0]!.cidr = '10.0.1.5';
    assert.throws(() => buildWorld(bare), (e: unknown) => e instanceof DocumentError && /sg-base0000 egress policy 0: `10\.0\.1\.5` is not a normalised IPv4 CIDR/.test(e.message));
    const acls: HostDocument[] = structuredClone(docs);
    acls.find((d) => d.hostId === 'h2')!.vpcs[0]!.networkAcls!['acl-a2']!.ingress[0]!.cidr = '10.0.1.7/24';
    assert.throws(() => buildWorld(acls), (e: unknown) => e instanceof DocumentError && /acl-a2 ingress entry 0/.test(e.message));
    const table: HostDocument[] = structuredClone(docs);
    table[0]!.vpcs[0]!.subnets[0]!.routeTableId = 'rtb-nothere';
    assert.throws(() => buildWorld(table), DocumentError);
  });
});
