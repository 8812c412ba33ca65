import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost, type HostSpan } from '../../src/compile/compile.js';
import type { HostDocument } from '../../src/contract/host-document.js';
import type { InternetDetail } from '../../src/trace/internet.js';
import { reaches, TraceError, type TraceQuery, type TraceResult } from '../../src/trace/model.js';
import { reachability, reachabilityByTraces } from '../../src/trace/reach.js';
import { renderTrace } from '../../src/trace/render.js';
import type { GatewayDetail } from '../../src/trace/stages/gateway.js';
import type { GatewayTunnelDetail } from '../../src/trace/stages/gateway-tunnel.js';
import type { RouteDetail } from '../../src/trace/stages/route.js';
import { trace, traceEveryPath } from '../../src/trace/trace.js';
import { CLUSTER, CLUSTER_MAC, gatewayRegion, NAT_MAC, NAT_NODE } from './gateway-region.js';

const CLIENT = '198.18.0.10';
const run = (docs: HostDocument[], q: Partial<TraceQuery> & { from: string; to: string }) => trace(docs, { protocol: 'tcp', port: 443, ...q } as TraceQuery);
const steps = (r: TraceResult) => r.hops.map((h) => `${h.hostId} ${h.stage} ${h.result}`);
const detailOf = <D>(r: TraceResult, stage: string) => r.hops.find((h) => h.stage === stage)?.detail as D;

describe('tracer, EIP: an instance to the internet', () => {
  const docs = gatewayRegion();

  it('port and security group, the public table, the tunnel to the cluster, the 1:1 translation, out to the internet', () => {
    const r = run(docs, { from: 'ins-a1', to: CLIENT });
    assert.equal(r.verdict, 'forwarded');
    assert.equal(r.code, 'internet');
    assert.ok(reaches(r));
    const node = r.hops[3]!.detail as GatewayTunnelDetail;
    assert.deepEqual(steps(r), ['h1 port pass', 'h1 route forward', 'h1 security-group pass', 'h1 tunnel forward', `${node.toHostId} eip pass`, `${node.toHostId} route forward`, `${node.toHostId} internet forward`]);
    const route = r.hops[1]!.detail as RouteDetail;
    assert.equal(route.kind, 'gateway');
    assert.match(route.route!, /^default via 169\.254\.255\.1 dev vx100 onlink/);
    assert.match(r.hops[1]!.summary, /rule 40010/);
    assert.equal(node.toUnderlay, CLUSTER);
    assert.equal(node.receiverMac, CLUSTER_MAC);
    assert.deepEqual(node.gatewayNodes, ['gw1', 'gw2']);
    assert.match(r.hops[3]!.summary, /ECMP over the gateway nodes gw1, gw2 chooses/);
    const eip = detailOf<GatewayDetail>(r, 'eip');
    assert.deepEqual([eip.action, eip.from, eip.to, eip.instanceId], ['eip-out', '10.0.1.5', '198.51.100.2', 'ins-a1']);
    assert.match(r.reason, /198\.51\.100\.2:49152 → 198\.18\.0\.10:443 is forwarded to the internet/);
    assert.match(renderTrace(r), /verdict: FORWARDED \(internet\)/);
  });

  it('every path takes one gateway node each, and each translates alike', () => {
    const paths = traceEveryPath(docs, { from: 'ins-a1', to: CLIENT, protocol: 'udp', port: 53 });
    assert.deepEqual(paths.map((p) => (p.hops[3]!.detail as GatewayTunnelDetail).toHostId), ['gw1', 'gw2']);
    assert.ok(paths.every((p) => p.code === 'internet'));
  });

  it('the reply comes back to the EIP, is translated back and delivered as established', () => {
    const r = run(docs, { from: 'ins-a1', to: CLIENT, reply: true });
    const reply = r.reply!;
    assert.equal(reply.source.internet, true);
    assert.deepEqual([reply.packet.src, reply.packet.dst], [CLIENT, '198.51.100.2']);
    assert.equal(reply.verdict, 'delivered');
    assert.deepEqual(reply.deliveredTo, { instanceId: 'ins-a1', hostId: 'h1' });
    assert.deepEqual(detailOf<GatewayDetail>(reply, 'eip').action, 'eip-in');
    assert.match(reply.hops.find((h) => h.stage === 'security-group')!.summary, /established/);
  });

  it('a route of the subnet\'s table wins over the public table (rule 40000 before 40010)', () => {
    const r = run(gatewayRegion({ eipSubnetNat: true }), { from: 'ins-a1', to: CLIENT });
    assert.equal((r.hops[1]!.detail as RouteDetail).table?.natGatewayId, 'nat-1');
    assert.equal((r.hops[3]!.detail as GatewayTunnelDetail).via, 'nat');
  });

  it('an address in the VPC that no instance has stays unreachable, EIP or not', () => {
    const r = run(docs, { from: 'ins-a1', to: '10.0.9.9' });
    assert.equal(r.code, 'no-route');
  });

  it('the egress security group still decides', () => {
    const closed = gatewayRegion();
    closed[0]!.vpcs[0]!.securityGroups['sg-a']!.egress = [];
    assert.equal(run(closed, { from: 'ins-a1', to: CLIENT }).code, 'egress-default');
  });

  it('a source the gateway has no EIP for is dropped there, saying why', () => {
    const r = run(gatewayRegion({ eips: [] }), { from: 'ins-a1', to: CLIENT });
    assert.equal(r.code, 'no-eip');
    assert.equal(r.hops.at(-1)!.stage, 'eip');
    assert.match(r.reason, /no EIP maps 10\.0\.1\.5/);
  });

  it('without gateway nodes the frame is lost on the underlay; a port without an EIP has no route out', () => {
    const none = gatewayRegion({ gateways: [] });
    const r = run(none, { from: 'ins-a1', to: CLIENT });
    assert.equal(r.code, 'tunnel-no-host');
    assert.match(r.reason, /no gateway node is in the view/);
    const noEip = gatewayRegion();
    delete noEip[0]!.vpcs[0]!.ports[0]!.publicIp;
    const out = run(noEip, { from: 'ins-a1', to: CLIENT });
    assert.equal(out.code, 'no-route');
    assert.match(out.reason, /to reach the internet ins-a1 needs an EIP or a route of its table to a NAT gateway/);
  });

  it('a frame to a MAC the gateway router does not answer is dropped', () => {
    const docs = gatewayRegion();
    docs[0]!.vpcs[0]!.publicGateway = { underlay: CLUSTER, routerMac: '52:54:ff:00:00:99' };
    assert.equal(run(docs, { from: 'ins-a1', to: CLIENT }).code, 'tunnel-mac-mismatch');
  });
});

describe('tracer, EIP: the internet to an instance', () => {
  const docs = gatewayRegion();

  it('a gateway node translates the EIP to the private address, tunnels to the host, ingress groups, the port', () => {
    const r = run(docs, { from: CLIENT, to: '198.51.100.2', port: 22 });
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(r.deliveredTo, { instanceId: 'ins-a1', hostId: 'h1' });
    assert.equal(r.source.internet, true);
    assert.equal(r.source.vpcId, 'vpc-a0000000');
    const node = (r.hops[0]!.detail as InternetDetail).toHostId!;
    assert.deepEqual(steps(r), ['internet internet forward', `${node} eip pass`, `${node} route forward`, `${node} tunnel forward`, 'h1 route forward', 'h1 security-group pass', 'h1 deliver deliver']);
    assert.deepEqual((r.hops[0]!.detail as InternetDetail).gatewayNodes, ['gw1', 'gw2']);
    assert.equal(detailOf<GatewayDetail>(r, 'eip').to, '10.0.1.5');
    assert.match(renderTrace(r), /the internet \(198\.18\.0\.10\)/);
  });

  it('names the instance as the destination by its EIP, and its reply leaves with the EIP', () => {
    const r = run(docs, { from: CLIENT, to: 'ins-a1', port: 22, reply: true });
    assert.equal(r.destination.ip, '198.51.100.2');
    assert.equal(r.reply!.verdict, 'forwarded');
    assert.equal(detailOf<GatewayDetail>(r.reply!, 'eip').to, '198.51.100.2');
    assert.throws(() => run(docs, { from: CLIENT, to: 'ins-a2', port: 80 }), (e: unknown) => e instanceof TraceError && /has no EIP/.test(e.message));
  });

  it('the ingress security group decides on the instance\'s host', () => {
    const r = run(docs, { from: CLIENT, to: '198.51.100.2', port: 80 });
    assert.equal(r.code, 'ingress-default');
    assert.equal(r.hops.at(-1)!.hostId, 'h1');
  });

  it('an EIP not bound (or whose instance is not running) is dropped at the edge, saying so', () => {
    const r = run(gatewayRegion({ eips: [] }), { from: CLIENT, to: '198.51.100.2', port: 22 });
    assert.equal(r.verdict, 'dropped');
    assert.equal(r.code, 'no-eip');
    assert.match(r.reason, /not an EIP bound to a running instance \(unbound, its instance stopped or terminated\)/);
    assert.equal(r.reply, undefined);
    const again = run(gatewayRegion({ eips: [] }), { from: CLIENT, to: '198.51.100.2', port: 22, reply: true });
    assert.match(again.replySkipped!, /no-eip/);
  });
});

describe('tracer, NAT gateway: SNAT out', () => {
  const docs = gatewayRegion();

  it('the NAT route, the tunnel to the node of rank 0, SNAT by the most specific rule, out to the internet', () => {
    const r = run(docs, { from: 'ins-a2', to: CLIENT });
    assert.equal(r.code, 'internet');
    assert.deepEqual(steps(r), ['h2 port pass', 'h2 route forward', 'h2 security-group pass', 'h2 tunnel forward', 'gw2 route forward', 'gw2 nat pass', 'gw2 internet forward']);
    const route = r.hops[1]!.detail as RouteDetail;
    assert.deepEqual([route.kind, route.route, route.table?.natGatewayId], ['gateway', '0.0.0.0/0 via 169.254.255.2 dev vx100 onlink', 'nat-1']);
    const node = r.hops[3]!.detail as GatewayTunnelDetail;
    assert.deepEqual([node.toUnderlay, node.toHostId, node.rank, node.receiverMac], [NAT_NODE, 'gw2', 0, NAT_MAC]);
    assert.match(r.hops[3]!.summary, /gw2, the node of rank 0/);
    const nat = detailOf<GatewayDetail>(r, 'nat');
    assert.deepEqual([nat.action, nat.natGatewaySnatId, nat.to, nat.candidates], ['snat', 'snat-a2', '203.0.113.6:49152', undefined]);
  });

  it('several EIPs: says it is one of them, and every path walks each', () => {
    const r = run(docs, { from: 'ins-a3', to: CLIENT });
    const nat = detailOf<GatewayDetail>(r, 'nat');
    assert.equal(nat.natGatewaySnatId, 'snat-b');
    assert.deepEqual(nat.candidates, ['203.0.113.5', '203.0.113.6']);
    assert.match(r.hops.find((h) => h.stage === 'nat')!.summary, /one of 203\.0\.113\.5, 203\.0\.113\.6/);
    const paths = traceEveryPath(docs, { from: 'ins-a3', to: CLIENT, protocol: 'tcp', port: 443 });
    assert.deepEqual(paths.map((p) => detailOf<GatewayDetail>(p, 'nat').to), ['203.0.113.5:49152', '203.0.113.6:49152']);
  });

  it('the reply meets the session and is translated back to the instance', () => {
    const r = run(docs, { from: 'ins-a2', to: CLIENT, reply: true });
    const reply = r.reply!;
    assert.deepEqual([reply.packet.src, reply.packet.dst], [CLIENT, '203.0.113.6']);
    assert.equal(reply.verdict, 'delivered');
    assert.deepEqual(reply.deliveredTo, { instanceId: 'ins-a2', hostId: 'h2' });
    const nat = reply.hops.find((h) => h.stage === 'nat')!;
    assert.equal(nat.hostId, 'gw2');
    assert.equal((nat.detail as InternetDetail).decision, 'session');
  });

  it('no SNAT rule holds the source: dropped on the node by the leak chain', () => {
    const r = run(docs, { from: 'ins-a4', to: CLIENT });
    assert.equal(r.code, 'snat-no-rule');
    assert.equal(r.hops.at(-1)!.hostId, 'gw2');
    assert.match(r.reason, /no SNAT rule .* holds 10\.0\.3\.8 .*which the leak chain drops/);
  });

  it('a NAT route without a node to carry it is a blackhole', () => {
    const r = run(gatewayRegion({ natGateway: null }), { from: 'ins-a2', to: CLIENT });
    assert.equal(r.code, 'blackhole');
    assert.match(r.reason, /names no node carrying/);
  });

  it('without the node of rank 0 the next in rank carries it, said so; no carrier at all loses the frame', () => {
    const r = run(gatewayRegion({ gateways: ['gw1'] }), { from: 'ins-a2', to: CLIENT });
    assert.equal(r.code, 'internet');
    assert.equal((r.hops[3]!.detail as GatewayTunnelDetail).toHostId, 'gw1');
    assert.match(r.hops[3]!.summary, /no node of rank 0 .* gw1 \(rank 1\) carries it/);
    const none = gatewayRegion({ gateways: [] });
    assert.equal(run(none, { from: 'ins-a2', to: CLIENT }).code, 'tunnel-no-host');
  });

  it('a frame to a NAT MAC the node does not answer is dropped', () => {
    const r = run(gatewayRegion({ natGateway: { underlay: NAT_NODE, routerMac: '52:54:fe:00:00:99' } }), { from: 'ins-a2', to: CLIENT });
    assert.equal(r.code, 'tunnel-mac-mismatch');
  });
});

describe('tracer, NAT gateway: DNAT in', () => {
  const docs = gatewayRegion();

  it('a port forwarding: the node of rank 0, DNAT to the private address and port, tunnel, ingress groups, the port', () => {
    const r = run(docs, { from: CLIENT, to: '203.0.113.5', port: 8080 });
    assert.equal(r.verdict, 'delivered');
    assert.deepEqual(r.deliveredTo, { instanceId: 'ins-a2', hostId: 'h2' });
    assert.deepEqual(steps(r), ['internet internet forward', 'gw2 nat pass', 'gw2 route forward', 'gw2 tunnel forward', 'h2 route forward', 'h2 security-group pass', 'h2 deliver deliver']);
    const nat = r.hops[1]!.detail as InternetDetail;
    assert.deepEqual([nat.decision, nat.from, nat.to, nat.rank], ['dnat-rule', '203.0.113.5:8080', '10.0.2.6:80', 0]);
  });

  it('the reply goes by the NAT route to the same node and leaves translated back by the session', () => {
    const r = run(docs, { from: CLIENT, to: '203.0.113.5', port: 8080, reply: true });
    const reply = r.reply!;
    assert.equal(reply.verdict, 'forwarded');
    const nat = detailOf<GatewayDetail>(reply, 'nat');
    assert.deepEqual([nat.action, nat.from, nat.to], ['dnat-reply', '10.0.2.6:80', '203.0.113.5:8080']);
  });

  it('no DNAT rule for the port (or protocol): dropped on the node, no session', () => {
    for (const q of [{ port: 9999 }, { port: 8080, protocol: 'udp' as const }]) {
      const r = run(docs, { from: CLIENT, to: '203.0.113.5', ...q });
      assert.equal(r.code, 'dnat-no-rule');
      assert.equal(r.hops.at(-1)!.hostId, 'gw2');
      assert.match(r.reason, /no DNAT rule forwards .* no session holds the flow; dropped \(no session\)/);
    }
    const icmp = trace(docs, { from: CLIENT, to: '203.0.113.5', protocol: 'icmp' });
    assert.equal(icmp.code, 'dnat-no-rule');
  });
});

describe('tracer, EIP: documents from the compiler', () => {
  // The documents the Linux driver gets: a host with an EIP port, and a gateway node with the pair.
  const span = (id: string, underlay: string, role?: string): HostSpan => ({
    host: { id, underlay, ...(role ? { role } : {}) },
    revision: 1,
    underlays: { h1: '100.64.0.11' },
    vpcs: [{ id: 'vpc-a0000000', vni: 100, cidr: '10.0.0.0/16' }],
    instances: [{ id: 'ins-a1', vpc_id: 'vpc-a0000000', subnet_id: 'subnet-a', private_ip: '10.0.1.5', mac: '52:54:00:00:01:05', host_id: 'h1' }],
    subnets: [{ id: 'subnet-a', cidr: '10.0.1.0/24', vpc_id: 'vpc-a0000000' }],
    bindings: [{ instance_id: 'ins-a1', sg_id: 'sg-a', position: 0 }],
    policies: [
      { sg_id: 'sg-a', direction: 'ingress', position: 0, protocol: 'TCP', port: '22', cidr: '0.0.0.0/0', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT' },
      { sg_id: 'sg-a', direction: 'egress', position: 0, protocol: 'ALL', port: 'ALL', cidr: '0.0.0.0/0', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT' },
    ],
    addresses: [{ ip: '198.51.100.2', private_ip: '10.0.1.5', instance_id: 'ins-a1' }],
    gatewayAddress: CLUSTER,
  });
  const docs = [compileHost(span('h1', '100.64.0.11')), compileHost(span('gw1', '100.64.1.11', 'gateway'))];

  it('out to the internet and back in, through the compiled gateway node', () => {
    const out = run(docs, { from: 'ins-a1', to: CLIENT, reply: true });
    assert.equal(out.code, 'internet');
    assert.equal((out.hops[3]!.detail as GatewayTunnelDetail).toHostId, 'gw1');
    assert.equal(out.reply!.verdict, 'delivered');
    const inward = run(docs, { from: CLIENT, to: '198.51.100.2', port: 22 });
    assert.deepEqual(inward.deliveredTo, { instanceId: 'ins-a1', hostId: 'h1' });
  });
});

describe('tracer, gateways and the reachability matrix', () => {
  it('a region with gateway nodes and NAT routes: the matrix by classes equals the one by traces', () => {
    const docs = gatewayRegion();
    for (const protocol of ['tcp', 'icmp'] as const) {
      const q = { vpcId: 'vpc-a0000000', protocol, ...(protocol === 'tcp' ? { port: 80 } : {}) };
      const m = reachability(docs, q);
      assert.deepEqual(m, reachabilityByTraces(docs, q));
      assert.deepEqual(m.instances.map((i) => i.instanceId), ['ins-a1', 'ins-a2', 'ins-a3', 'ins-a4'], 'gateway nodes have no instances');
    }
  });
});

describe('tracer, gateways: asymmetric replies', () => {
  it('an EIP flow answered by a NAT route leaves from the NAT EIP, and the reply says the sender will not take it', () => {
    const docs = gatewayRegion({ eipSubnetNat: true, nat: { snat: [{ natGatewaySnatId: 'snat-a', source: '10.0.1.0/24', publicIps: ['203.0.113.5'] }] } });
    const r = run(docs, { from: CLIENT, to: '198.51.100.2', port: 22, reply: true });
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.reply!.verdict, 'forwarded');
    assert.match(r.reply!.reason, /the request was sent to 198\.51\.100\.2:22 and the reply leaves from 203\.0\.113\.5:22: the sender will not take it/);
    const symmetric = run(gatewayRegion(), { from: CLIENT, to: '198.51.100.2', port: 22, reply: true });
    assert.doesNotMatch(symmetric.reply!.reason, /will not take it/);
  });
});

describe('tracer, EIP: a pinned EIP (small limit) through the owner node', () => {
  it('goes to the owner node by the owner table, and is translated 1:1 there', () => {
    const docs = gatewayRegion();
    const h1 = docs.find((d) => d.hostId === 'h1')!;
    const owner = docs.find((d) => d.role === 'gateway' && d.vpcs[0]!.nat?.rank === 0)!;
    const vpc = h1.vpcs[0]!;
    const port = vpc.ports.find((p) => p.publicIp)!;
    port.publicPinned = true;
    vpc.ownerGateway = { underlay: NAT_NODE, routerMac: owner.vpcs[0]!.ownerMac! };
    for (const d of docs.filter((d) => d.role === 'gateway')) for (const e of d.vpcs[0]!.eips!) if (e.privateIp === port.ip) e.pinned = true;
    const r = run(docs, { from: port.instanceId, to: CLIENT });
    assert.equal(r.verdict, 'forwarded', r.reason);
    const route = r.hops.find((h) => h.stage === 'route' && h.hostId === 'h1')!;
    assert.match(route.summary, /owner table/);
    assert.ok(r.hops.some((h) => h.hostId === owner.hostId && h.stage === 'eip' && h.summary.includes(port.publicIp!)), 'translated on the owner node');
    assert.ok(!r.hops.some((h) => h.stage === 'nat'), 'not the NAT gateway');
  });
});
