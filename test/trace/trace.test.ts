import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostDocument } from '../../src/contract/host-document.js';
import { reaches, TraceError, type TraceQuery, type TraceResult } from '../../src/trace/model.js';
import { renderTrace } from '../../src/trace/render.js';
import type { PortDetail } from '../../src/trace/stages/port.js';
import type { RouteDetail } from '../../src/trace/stages/route.js';
import type { SecurityGroupDetail } from '../../src/trace/stages/security-group.js';
import type { TunnelDetail } from '../../src/trace/stages/tunnel.js';
import { trace } from '../../src/trace/trace.js';
import { buildWorld } from '../../src/trace/world.js';
import { baseScenario, documents } from './scenario.js';

const docs = documents(baseScenario());
const world = buildWorld(docs);
const run = (q: Partial<TraceQuery> & { from: string; to: string }) => trace(world, { protocol: 'tcp', port: 80, ...q } as TraceQuery);
const steps = (r: TraceResult) => r.hops.map((h) => `${h.hostId} ${h.stage} ${h.result}`);
const sgHops = (r: TraceResult) => r.hops.filter((h) => h.stage === 'security-group').map((h) => h.detail as SecurityGroupDetail);

describe('packet tracer: paths', () => {
  it('crosses hosts: port, route to the tunnel, egress groups, VXLAN to the host, ingress groups, delivery', () => {
    const r = run({ from: 'ins-a1', to: 'ins-a3', port: 443 });
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.code, 'delivered');
    assert.deepEqual(r.deliveredTo, { instanceId: 'ins-a3', hostId: 'h2' });
    assert.deepEqual(steps(r), [
      'h1 port pass',
      'h1 route forward',
      'h1 security-group pass',
      'h1 tunnel forward',
      'h2 route forward',
      'h2 security-group pass',
      'h2 deliver deliver',
    ]);
    const port = r.hops[0]!.detail as PortDetail;
    assert.deepEqual([port.instanceId, port.ifname, port.ip, port.source], ['ins-a1', 'pa1', '10.0.1.5', '10.0.1.5']);
    const route = r.hops[1]!.detail as RouteDetail;
    assert.deepEqual(route, { destination: '10.0.2.7', kind: 'tunnel', route: '10.0.2.7/32 via 10.0.2.7 dev vx100 onlink', instanceId: 'ins-a3', hostId: 'h2' });
    const tun = r.hops[3]!.detail as TunnelDetail;
    assert.equal(tun.vni, 100);
    assert.equal(tun.fromUnderlay, '100.64.0.11');
    assert.equal(tun.toUnderlay, '100.64.0.12');
    assert.equal(tun.toHostId, 'h2');
    assert.equal(tun.routerMac, tun.receiverMac);
    const [egress, ingress] = sgHops(r);
    // sg-web00000 (first bound) has no egress match for tcp 443; sg-base0000's policy 0 accepts.
    assert.deepEqual([egress!.direction, egress!.decision, egress!.securityGroupId, egress!.policyIndex, egress!.groups], ['egress', 'policy', 'sg-base0000', 0, ['sg-web00000', 'sg-base0000']]);
    assert.deepEqual([ingress!.direction, ingress!.securityGroupId, ingress!.policyIndex, ingress!.action], ['ingress', 'sg-web00000', 1, 'accept']);
    assert.equal((r.hops[5]!.detail as SecurityGroupDetail).instanceId, 'ins-a3');
  });

  it('between two ports of one host passes egress and ingress in one router, without a tunnel', () => {
    const r = run({ from: 'ins-a1', to: 'ins-a2', port: 5432 });
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(steps(r), ['h1 port pass', 'h1 route forward', 'h1 security-group pass', 'h1 security-group pass', 'h1 deliver deliver']);
    assert.equal((r.hops[1]!.detail as RouteDetail).route, '10.0.1.6/32 dev pa2');
    // sg-db000000 ingress policy 0 references sg-web00000: a1 is a member.
    assert.deepEqual(sgHops(r).map((d) => [d.direction, d.securityGroupId, d.policyIndex]), [
      ['egress', 'sg-base0000', 0],
      ['ingress', 'sg-db000000', 0],
    ]);
  });

  it('JSON round-trips and renders as text hop by hop', () => {
    const r = run({ from: 'ins-a1', to: 'ins-a3', port: 443 });
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    const text = renderTrace(r);
    assert.match(text, /^request tcp 10\.0\.1\.5:49152 → 10\.0\.2\.7:443: ins-a1 in vpc-aaaaaaaa on h1 → ins-a3 \(10\.0\.2\.7\)/);
    assert.match(text, / 4\. h1 {3}tunnel .*VXLAN VNI 100 from 100\.64\.0\.11 to 100\.64\.0\.12 \(host h2/);
    assert.match(text, /sg-web00000 ingress policy 1 \(ACCEPT tcp 80,443 from 0\.0\.0\.0\/0\) accepts/);
    assert.match(text, /verdict: DELIVERED \(delivered\)/);
    assert.equal(text.trim().split('\n').length, 1 + r.hops.length + 1);
  });
});

describe('packet tracer: security group decisions', () => {
  it('an egress policy that drops names its group and index', () => {
    const r = run({ from: 'ins-a1', to: 'ins-a3', port: 25 });
    assert.equal(r.code, 'egress-policy');
    const [d] = sgHops(r);
    assert.deepEqual([d!.decision, d!.securityGroupId, d!.policyIndex, d!.action], ['policy', 'sg-web00000', 1, 'drop']);
    assert.equal(r.hops.at(-1)!.result, 'drop');
    assert.ok(!r.hops.some((h) => h.stage === 'tunnel'), 'dropped on the source host');
  });

  it('no matching egress policy drops at the end of the port chain', () => {
    // sg-db000000 egress: tcp 22 to 10.0.1.5, all to members of sg-web00000; a4 is neither.
    const r = run({ from: 'ins-a2', to: 'ins-a4', port: 8000 });
    assert.equal(r.code, 'egress-default');
    assert.deepEqual(sgHops(r).map((d) => [d.decision, d.groups]), [['default', ['sg-db000000']]]);
    assert.match(r.reason, /no egress policy of sg-db000000 matches tcp port 8000 to 10\.0\.2\.8: the port chain ends in drop/);
  });

  it('a port with no group drops everything', () => {
    for (const q of [{ protocol: 'icmp' as const, port: undefined }, { protocol: 'tcp' as const, port: 80 }]) {
      const r = run({ from: 'ins-a4', to: 'ins-a3', ...q });
      assert.equal(r.code, 'egress-default');
      assert.equal(sgHops(r)[0]!.decision, 'no-groups');
      assert.match(r.reason, /no security group/);
    }
    // …and nothing reaches it either.
    const r = run({ from: 'ins-a3', to: 'ins-a4', protocol: 'udp', port: 53 });
    assert.equal(r.code, 'ingress-default');
    assert.equal(sgHops(r).at(-1)!.decision, 'no-groups');
  });

  it('an ingress policy that drops, decided on the destination host', () => {
    // a2 may send anything to sg-web00000 members; sg-web00000 ingress policy 0 drops tcp 22 from sg-db000000 members.
    const r = run({ from: 'ins-a2', to: 'ins-a1', port: 22 });
    assert.equal(r.code, 'ingress-policy');
    const [e, i] = sgHops(r);
    assert.deepEqual([e!.securityGroupId, e!.policyIndex], ['sg-db000000', 0], 'egress by the bare-address policy (10.0.1.5)');
    assert.deepEqual([i!.securityGroupId, i!.policyIndex, i!.action], ['sg-web00000', 0, 'drop']);
  });

  it('no matching ingress policy drops at the end of the destination port chain', () => {
    const r = run({ from: 'ins-a3', to: 'ins-a1', protocol: 'udp', port: 9999 });
    assert.equal(r.code, 'ingress-default');
    const i = sgHops(r).at(-1)!;
    assert.deepEqual([i.direction, i.decision, i.groups], ['ingress', 'default', ['sg-web00000', 'sg-base0000']]);
    assert.equal(r.hops.at(-1)!.hostId, 'h1');
  });

  it('matches port lists and ranges exactly', () => {
    const codes = [22, 79, 80, 443, 444, 7999, 8000, 8005, 8010, 8011].map((port) => [port, run({ from: 'ins-a3', to: 'ins-a1', port }).code]);
    assert.deepEqual(codes, [
      [22, 'ingress-default'],
      [79, 'ingress-default'],
      [80, 'delivered'],
      [443, 'delivered'],
      [444, 'ingress-default'],
      [7999, 'ingress-default'],
      [8000, 'delivered'],
      [8005, 'delivered'],
      [8010, 'delivered'],
      [8011, 'ingress-default'],
    ]);
    assert.equal(sgHops(run({ from: 'ins-a3', to: 'ins-a1', port: 8005 })).at(-1)!.policyIndex, 2);
  });

  it('tcp policies do not match udp, icmp policies match icmp from their CIDR only, IPv6 policies never match', () => {
    assert.equal(run({ from: 'ins-a3', to: 'ins-a1', protocol: 'udp', port: 80 }).code, 'ingress-default');
    // ICMP from 10.0.1.0/24 only: a2 (10.0.1.6) yes, a3 (10.0.2.7) no — the ICMPV6 ::/0 policy after it does not help.
    const yes = run({ from: 'ins-a2', to: 'ins-a1', protocol: 'icmp', port: undefined });
    assert.equal(yes.code, 'delivered');
    assert.equal(sgHops(yes).at(-1)!.policyIndex, 3);
    assert.equal(run({ from: 'ins-a3', to: 'ins-a1', protocol: 'icmp', port: undefined }).code, 'ingress-default');
  });

  it('a group peer matches the members of that group, by address', () => {
    // sg-db000000 egress policy 1: all to members of sg-web00000. a3 is a member, a6 is not.
    const r = run({ from: 'ins-a2', to: 'ins-a3', protocol: 'udp', port: 53 });
    assert.deepEqual([sgHops(r)[0]!.securityGroupId, sgHops(r)[0]!.policyIndex], ['sg-db000000', 1]);
    assert.equal(run({ from: 'ins-a2', to: 'ins-a6', port: 80 }).code, 'egress-default');
  });

  it('0.0.0.0/0 matches any address', () => {
    for (const from of ['ins-a1', 'ins-a2', 'ins-a3']) assert.equal(run({ from, to: 'ins-a6', port: 80 }).code, from === 'ins-a2' ? 'egress-default' : 'delivered');
  });
});

describe('packet tracer: routing', () => {
  it('has no route to an address no instance holds, and says proxy ARP will not answer inside the subnet', () => {
    const other = run({ from: 'ins-a1', to: '10.0.3.3' });
    assert.equal(other.code, 'no-route');
    assert.deepEqual(steps(other), ['h1 port pass', 'h1 route drop']);
    assert.doesNotMatch(other.reason, /proxy ARP/);
    const same = run({ from: 'ins-a1', to: '10.0.1.77' });
    assert.equal(same.code, 'no-route');
    assert.match(same.reason, /proxy ARP does not answer/);
  });

  it('does not route to an instance that is not placed on a host', () => {
    assert.equal(run({ from: 'ins-a1', to: '10.0.1.9' }).code, 'no-route');
    assert.throws(() => run({ from: 'ins-a1', to: 'ins-a5' }), (e: unknown) => e instanceof TraceError && e.code === 'unknown-instance');
    assert.throws(() => run({ from: 'ins-a5', to: 'ins-a1' }), (e: unknown) => e instanceof TraceError && e.code === 'not-placed');
  });

  it('answers the subnet gateway on the router itself, without security groups', () => {
    // a4 has no group at all, and still gets its gateway's echo reply.
    const r = run({ from: 'ins-a4', to: '10.0.2.1', protocol: 'icmp', port: undefined });
    assert.equal(r.verdict, 'answered');
    assert.equal(r.code, 'router-address');
    assert.ok(reaches(r));
    assert.deepEqual(steps(r), ['h2 port pass', 'h2 route answer']);
    assert.match(r.reason, /gateway of subnet-a2/);
    const tcp = run({ from: 'ins-a1', to: '10.0.1.1', port: 80 });
    assert.equal(tcp.verdict, 'answered');
    assert.ok(!reaches(tcp), 'nothing listens on the router: a TCP connection is refused');
    // The gateway of a subnet with no port on this host is not an address of this router.
    assert.equal(run({ from: 'ins-a1', to: '10.0.2.1', protocol: 'icmp', port: undefined }).code, 'no-route');
  });

  it('isolates overlapping VPCs: the source instance decides the VPC', () => {
    // a2 (vpc-a) and b1 (vpc-b) are both 10.0.1.6; from a3 on h2, where b1 lives, the address is a2's, on h1.
    const a = run({ from: 'ins-a3', to: '10.0.1.6', port: 22 });
    assert.equal(a.code, 'delivered');
    assert.deepEqual(a.deliveredTo, { instanceId: 'ins-a2', hostId: 'h1' });
    assert.equal((a.hops[1]!.detail as RouteDetail).kind, 'tunnel');
    // Naming an instance of another VPC traces its address in the source's VPC: b1 → "a1" reaches b2 (10.0.1.5 in vpc-b).
    const b = run({ from: 'ins-b1', to: 'ins-a1', port: 22 });
    assert.equal(b.code, 'delivered');
    assert.deepEqual(b.deliveredTo, { instanceId: 'ins-b2', hostId: 'h1' });
    assert.match(b.destination.note!, /ins-a1 is in vpc-aaaaaaaa, not in vpc-bbbbbbbb: VPCs are isolated/);
    assert.ok(b.hops.every((h) => h.vpcId === 'vpc-bbbbbbbb'));
    assert.equal((b.hops.find((h) => h.stage === 'tunnel')!.detail as TunnelDetail).vni, 101);
    // An address only vpc-a has is not routed in vpc-b.
    assert.equal(run({ from: 'ins-b2', to: '10.0.2.7', port: 22 }).code, 'no-route');
  });

  it('is at home with a trace from itself', () => {
    const r = run({ from: 'ins-a1', to: 'ins-a1' });
    assert.equal(r.code, 'loopback');
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.hops.length, 1);
  });

  it('drops a spoofed source address at the port', () => {
    const r = run({ from: 'ins-a1', to: 'ins-a3', sourceIp: '10.0.1.6' });
    assert.equal(r.code, 'anti-spoofing');
    assert.deepEqual(steps(r), ['h1 port drop']);
    assert.match(r.reason, /may only send from 10\.0\.1\.5/);
  });
});

describe('packet tracer: replies (stateful)', () => {
  it('passes the reply of an accepted flow by conntrack, even where a new packet would be dropped', () => {
    // a6 accepts tcp 80 in but may send nothing new (sg-inonly00 has no egress policy).
    assert.equal(run({ from: 'ins-a6', to: 'ins-a1', port: 49152 }).code, 'egress-default');
    const r = run({ from: 'ins-a1', to: 'ins-a6', port: 80, reply: true });
    assert.equal(r.code, 'delivered');
    const reply = r.reply!;
    assert.equal(reply.direction, 'reply');
    assert.equal(reply.code, 'delivered');
    assert.deepEqual(reply.deliveredTo, { instanceId: 'ins-a1', hostId: 'h1' });
    assert.deepEqual([reply.packet.src, reply.packet.srcPort, reply.packet.dst, reply.packet.dstPort], ['10.0.2.10', 80, '10.0.1.5', 49152]);
    assert.deepEqual(steps(reply), [
      'h3 port pass',
      'h3 route forward',
      'h3 security-group pass',
      'h3 tunnel forward',
      'h1 route forward',
      'h1 security-group pass',
      'h1 deliver deliver',
    ]);
    assert.deepEqual(sgHops(reply).map((d) => d.decision), ['established', 'established']);
    assert.match(renderTrace(r), /\nreply tcp 10\.0\.2\.10:80 → 10\.0\.1\.5:49152/);
  });

  it('has no reply when the request is dropped, and the router answers its own address', () => {
    const dropped = run({ from: 'ins-a6', to: 'ins-a1', port: 80, reply: true });
    assert.equal(dropped.reply, undefined);
    assert.match(dropped.replySkipped!, /^no reply: the request does not arrive \(egress-default/);
    const gw = run({ from: 'ins-a1', to: '10.0.1.1', protocol: 'icmp', port: undefined, reply: true });
    assert.equal(gw.reply!.code, 'delivered');
    assert.equal(gw.reply!.source.router, true);
    assert.match(gw.reply!.hops[0]!.summary, /echo reply.*no security group/);
  });
});

describe('packet tracer: the tunnel and stale documents', () => {
  const only = (keep: (d: HostDocument) => HostDocument | undefined) => docs.flatMap((d) => keep(structuredClone(d)) ?? []);

  it('loses a frame sent to an underlay address no host has', () => {
    const r = trace(only((d) => (d.hostId === 'h3' ? undefined : d)), { from: 'ins-a1', to: '10.0.2.10', protocol: 'tcp', port: 80 });
    assert.equal(r.code, 'tunnel-no-host');
  });

  it('drops a frame at a host without the VPC, or whose router MAC differs', () => {
    const noVpc = trace(only((d) => (d.hostId === 'h3' ? { ...d, vpcs: [] } : d)), { from: 'ins-a1', to: '10.0.2.10', protocol: 'tcp', port: 80 });
    assert.equal(noVpc.code, 'tunnel-no-vpc');
    const mac = only((d) => {
      if (d.hostId === 'h3') d.vpcs[0]!.routerMac = '0a:00:00:00:00:01';
      return d;
    });
    assert.equal(trace(mac, { from: 'ins-a1', to: '10.0.2.10', protocol: 'tcp', port: 80 }).code, 'tunnel-mac-mismatch');
  });

  it('drops a packet that arrives where its address is no port (a host that has not caught up)', () => {
    const stale = only((d) => {
      if (d.hostId === 'h3') d.vpcs[0]!.ports = [];
      return d;
    });
    const r = trace(stale, { from: 'ins-a1', to: '10.0.2.10', protocol: 'tcp', port: 80 });
    assert.equal(r.code, 'no-route');
    assert.equal(r.hops.at(-1)!.hostId, 'h3');
  });

  it('ends a routing loop between two stale hosts when the TTL runs out', () => {
    // h2 still believes 10.0.2.10 is on h1, and h1 that it is on h2.
    const loop = only((d) => {
      const v = d.vpcs.find((x) => x.vpcId === 'vpc-aaaaaaaa');
      const r = v?.remotes.find((x) => x.ip === '10.0.2.10');
      const peer = d.hostId === 'h1' ? 'h2' : 'h1';
      if (r && d.hostId !== 'h3') Object.assign(r, { hostId: peer, underlay: docs.find((x) => x.hostId === peer)!.underlay, routerMac: docs.find((x) => x.hostId === peer)!.vpcs[0]!.routerMac });
      return d;
    });
    const r = trace(loop, { from: 'ins-a1', to: '10.0.2.10', protocol: 'icmp' });
    assert.equal(r.code, 'ttl-exceeded');
    assert.equal(r.hops.filter((h) => h.stage === 'tunnel').length, 63);
  });
});

describe('packet tracer: questions it refuses', () => {
  const refuses = (q: Partial<TraceQuery>, code: TraceError['code']) =>
    assert.throws(() => trace(world, { from: 'ins-a1', to: 'ins-a3', protocol: 'tcp', port: 80, ...q } as TraceQuery), (e: unknown) => e instanceof TraceError && e.code === code, JSON.stringify(q));
  it('names what is wrong', () => {
    refuses({ from: 'ins-nothere' }, 'not-placed');
    refuses({ to: 'ins-nothere' }, 'unknown-instance');
    refuses({ to: '10.0.1' }, 'bad-address');
    refuses({ sourceIp: 'x' }, 'bad-address');
    refuses({ protocol: 'gre' as 'tcp' }, 'bad-query');
    refuses({ port: undefined }, 'bad-query');
    refuses({ port: 0 }, 'bad-query');
    refuses({ port: 65536 }, 'bad-query');
    refuses({ protocol: 'icmp', port: 7 }, 'bad-query');
    refuses({ sourcePort: 70000 }, 'bad-query');
  });
});
