import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileHost, lbNodeMac } from '../../src/compile/compile.js';
import type { HostDocument, Listener } from '../../src/contract/host-document.js';
import { pascal } from '../../src/api/vpc/trace.js';
import { flowSlot, maglevTable, MAGLEV_SIZE } from '../../src/core/maglev.js';
import { readSimState, SimDriver } from '../../src/dataplane/sim/driver.js';
import type { InternetDetail } from '../../src/trace/internet.js';
import { reaches, type TraceQuery, type TraceResult } from '../../src/trace/model.js';
import { reachability, reachabilityByTraces } from '../../src/trace/reach.js';
import { renderTrace } from '../../src/trace/render.js';
import type { LbDetail, LbTunnelDetail } from '../../src/trace/stages/load-balancer.js';
import type { RouteDetail } from '../../src/trace/stages/route.js';
import { trace, traceEveryPath } from '../../src/trace/trace.js';
import { buildWorld } from '../../src/trace/world.js';
import { CLIENT, lbRegion, PUBLIC_VIP, SIZE, VIP, VNI, VPC } from './lb-region.js';
import { baseScenario, policyRows } from './scenario.js';

const run = (docs: HostDocument[], q: Partial<TraceQuery> & { from: string; to: string }) => trace(docs, { protocol: 'tcp', port: 80, ...q } as TraceQuery);
const steps = (r: TraceResult) => r.hops.map((h) => `${h.hostId} ${h.stage} ${h.result}`);
const lbHop = (r: TraceResult) => r.hops.find((h) => h.stage === 'lb')!.detail as LbDetail;
const listenerOf = (docs: HostDocument[], id: string): Listener =>
  docs.find((d) => d.role === 'lb')!.vpcs[0]!.loadBalancers!.flatMap((lb) => lb.listeners).find((l) => l.listenerId === id)!;

/** The backend a flow gets, computed here straight from core/maglev.ts as the brief of the data plane states it. */
function expected(listener: Listener, flow: { src: string; sport: number; dst: string; dport: number }) {
  const table = listener.targets.filter((t) => t.weight > 0 && t.healthy !== false);
  const slots = maglevTable(table.map((t) => ({ key: `${t.ip}:${t.port}`, weight: t.weight })), listener.tableSize);
  const slot = flowSlot({ ...flow, protocol: listener.protocol }, listener.tableSize);
  return { slot, backend: slots[slot]! >= 0 ? table[slots[slot]!] : undefined, backends: table.length };
}

describe('tracer, load balancers: an internal VIP', () => {
  const docs = lbRegion();
  const web = listenerOf(docs, 'lbl-web0000');

  it('client → VIP route → LB cluster (ECMP) → listener, Maglev slot, backend → DNAT → backend host → ingress group → delivered', () => {
    const r = run(docs, { from: 'ins-a1', to: VIP });
    const want = expected(web, { src: '10.0.1.5', sport: 49152, dst: VIP, dport: 80 });
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.deliveredTo!.instanceId, want.backend!.instanceId);
    const node = (r.hops[3]!.detail as LbTunnelDetail).toHostId!;
    const backendHost = r.deliveredTo!.hostId;
    assert.deepEqual(steps(r), [
      'h1 port pass',
      'h1 route forward',
      'h1 security-group pass',
      'h1 tunnel forward',
      `${node} lb pass`,
      `${node} route forward`,
      `${node} tunnel forward`,
      `${backendHost} route forward`,
      `${backendHost} security-group pass`,
      `${backendHost} deliver deliver`,
    ]);
    const route = r.hops[1]!.detail as RouteDetail;
    assert.equal(route.kind, 'lb');
    assert.equal(route.route, `${VIP}/32 via 169.254.254.1 dev vx100 onlink`);
    const tunnel = r.hops[3]!.detail as LbTunnelDetail;
    assert.deepEqual([tunnel.via, tunnel.toUnderlay, tunnel.lbNodes], ['lb', '100.64.254.1', ['lb1', 'lb2']]);
    assert.match(r.hops[3]!.summary, /ECMP over the LB nodes lb1, lb2 chooses/);
    const lb = lbHop(r);
    assert.deepEqual(
      [lb.action, lb.lbNode, lb.listenerId, lb.slot, lb.tableSize, lb.backends, lb.targets, lb.backend?.ip, lb.backend?.port, lb.from, lb.to],
      ['balance', node, 'lbl-web0000', want.slot, SIZE, 2, 4, want.backend!.ip, 8080, `${VIP}:80`, `${want.backend!.ip}:8080`],
    );
    assert.deepEqual(lb.excluded, [
      { ip: '10.0.3.9', port: 8080, instanceId: 'ins-b4', why: 'weight 0' },
      { ip: '10.0.3.10', port: 8080, instanceId: 'ins-b5', why: 'unhealthy' },
    ]);
    // The backend sees the client's own address.
    assert.match(r.hops[8]!.summary, /ingress of ins-b[12]/);
    assert.match(r.hops[6]!.summary, new RegExp(`tcp 10\\.0\\.1\\.5:49152 → ${want.backend!.ip.replace(/\./g, '\\.')}:8080`));
    assert.match(r.hops[5]!.summary, new RegExp(`own MAC ${lbNodeMac(VNI, tunnel.node!)}`));
    assert.deepEqual(r.loadBalancer, {
      action: 'balance',
      lbNode: node,
      node: tunnel.node,
      loadBalancerId: 'lb-int00000',
      vip: VIP,
      listenerId: 'lbl-web0000',
      slot: want.slot,
      tableSize: SIZE,
      backends: 2,
      backend: { ip: want.backend!.ip, port: 8080, instanceId: want.backend!.instanceId, weight: 10 },
    });
    const text = renderTrace(r);
    assert.match(text, new RegExp(`→ 10\\.0\\.1\\.100 \\(VIP of lb-int00000\\)`));
    assert.match(text, new RegExp(`load balancer: lb-int00000 \\(VIP 10\\.0\\.1\\.100\\) on ${node} \\(node ${tunnel.node}\\), listener lbl-web0000: Maglev slot ${want.slot} of ${SIZE}`));
    assert.match(text, new RegExp(`Maglev slot ${want.slot} of ${SIZE} → backend ${want.backend!.ip.replace(/\./g, '\\.')}:8080 \\(${want.backend!.instanceId}\\), one of 2 backend\\(s\\)`));
  });

  it("TraceVpcFlow's output carries it as LoadBalancer and in the lb hop's Detail (PascalCase)", () => {
    const r = pascal(run(docs, { from: 'ins-a1', to: VIP })) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(Object.keys(r.LoadBalancer).sort(), ['Action', 'Backend', 'Backends', 'ListenerId', 'LbNode', 'LoadBalancerId', 'Node', 'Slot', 'TableSize', 'Vip'].sort());
    assert.equal(r.LoadBalancer.Backend.InstanceId, r.DeliveredTo.InstanceId);
    const hop = r.Hops.find((h: { Stage: string }) => h.Stage === 'lb');
    assert.equal(hop.Detail.Slot, r.LoadBalancer.Slot);
    assert.equal(hop.Detail.Excluded[0].Why, 'weight 0');
  });

  it('every LB node the ECMP may pick chooses the same backend', () => {
    const paths = traceEveryPath(docs, { from: 'ins-a1', to: VIP, protocol: 'tcp', port: 80, sourcePort: 40000 });
    assert.deepEqual(paths.map((p) => lbHop(p).lbNode), ['lb1', 'lb2']);
    assert.equal(new Set(paths.map((p) => p.deliveredTo?.instanceId)).size, 1);
  });

  it('the default table size (65537) gives the slot and backend core/maglev.ts gives', () => {
    const big = lbRegion({ tableSize: MAGLEV_SIZE });
    const r = run(big, { from: 'ins-a1', to: VIP, sourcePort: 51000 });
    const want = expected(listenerOf(big, 'lbl-web0000'), { src: '10.0.1.5', sport: 51000, dst: VIP, dport: 80 });
    assert.deepEqual([r.loadBalancer!.slot, r.loadBalancer!.tableSize, r.deliveredTo!.instanceId], [want.slot, MAGLEV_SIZE, want.backend!.instanceId]);
  });

  it('flows spread over the healthy backends; weight 0 and unhealthy targets are never chosen', () => {
    const seen = new Map<string, number>();
    for (let sport = 30000; sport < 30200; sport++) {
      const r = run(docs, { from: 'ins-a1', to: VIP, sourcePort: sport });
      assert.equal(r.verdict, 'delivered');
      assert.equal(r.deliveredTo!.instanceId, expected(web, { src: '10.0.1.5', sport, dst: VIP, dport: 80 }).backend!.instanceId);
      seen.set(r.deliveredTo!.instanceId, (seen.get(r.deliveredTo!.instanceId) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), ['ins-b1', 'ins-b2']);
  });

  it("the backend's security group decides: a closed one drops it on the backend's host", () => {
    const r = run(docs, { from: 'ins-a1', to: VIP, port: 22 });
    assert.equal(r.verdict, 'dropped');
    assert.equal(r.code, 'ingress-default');
    assert.equal(r.loadBalancer!.backend!.instanceId, 'ins-b3');
    assert.equal(r.hops.at(-1)!.hostId, 'h2');
  });

  it('no listener for the port: the LB node answers for the VIP (TCP reset; ICMP echo answered)', () => {
    const tcp = run(docs, { from: 'ins-a1', to: VIP, port: 81 });
    assert.deepEqual([tcp.verdict, tcp.code, reaches(tcp)], ['answered', 'lb-no-listener', false]);
    assert.match(tcp.reason, /no listener for tcp port 81 \(it listens on tcp 22, tcp 80, udp 53\).*TCP reset/);
    assert.deepEqual(lbHop(tcp).listeners, ['tcp 22', 'tcp 80', 'udp 53']);
    const ping = run(docs, { from: 'ins-a1', to: VIP, protocol: 'icmp', port: undefined });
    assert.deepEqual([ping.verdict, ping.code, reaches(ping)], ['answered', 'lb-no-listener', true]);
    assert.match(ping.reason, /answers the echo itself/);
  });

  it('an empty table (every target at weight 0): the node answers, naming why', () => {
    const r = run(docs, { from: 'ins-a1', to: VIP, protocol: 'udp', port: 53 });
    assert.deepEqual([r.verdict, r.code], ['answered', 'lb-no-backend']);
    assert.match(r.reason, /Maglev table is empty \(none of its 1 target\(s\) can take new flows; left out: 10\.0\.3\.9:53 \(ins-b4\) has weight 0 \(draining\)\).*ICMP port unreachable/);
    assert.equal(lbHop(r).backends, 0);
  });

  it('the reply goes back to the same LB node, is translated back to the VIP and reaches the client as established', () => {
    const r = run(docs, { from: 'ins-a1', to: VIP, reply: true });
    const node = lbHop(r).lbNode;
    const backend = r.deliveredTo!;
    const reply = r.reply!;
    assert.deepEqual([reply.packet.src, reply.packet.srcPort, reply.packet.dst, reply.packet.dstPort], [lbHop(r).backend!.ip, 8080, '10.0.1.5', 49152]);
    assert.equal(reply.verdict, 'delivered');
    assert.deepEqual(reply.deliveredTo, { instanceId: 'ins-a1', hostId: 'h1' });
    const back = reply.hops.find((h) => h.stage === 'route')!;
    assert.equal(back.hostId, backend.hostId);
    const n = lbHop(r).node;
    assert.match(back.summary, new RegExp(`marks it for node ${n} \\(0x4c42000${n}\\).*rule 20000 .*default via 169\\.254\\.254\\.1${n} dev vx100, back to ${node}`));
    assert.equal((back.detail as RouteDetail).route, `default via 169.254.254.1${n} dev vx100 table ${0x100000 - 0x1000 + n} (rule 20000: fwmark 0x4c42000${n})`);
    const tunnel = reply.hops.find((h) => h.stage === 'tunnel')!.detail as LbTunnelDetail;
    assert.deepEqual([tunnel.via, tunnel.toHostId, tunnel.routerMac], ['lb-node', node, lbNodeMac(VNI, lbHop(r).node)]);
    const translated = lbHop(reply);
    assert.deepEqual([translated.action, translated.lbNode, translated.from, translated.to], ['reply', node, `${lbHop(r).backend!.ip}:8080`, `${VIP}:80`]);
    assert.match(reply.hops.at(-2)!.summary, /established/);
    assert.equal(reply.hops.at(-1)!.hostId, 'h1');
  });

  it('a client on the backend\'s own host: the reply still goes through the LB node', () => {
    // A flow from ins-b1 (h2) that the table sends to ins-b2 (h2 too).
    let sport = 20000;
    while (expected(web, { src: '10.0.2.6', sport, dst: VIP, dport: 80 }).backend!.instanceId !== 'ins-b2') sport++;
    const r = run(docs, { from: 'ins-b1', to: VIP, sourcePort: sport, reply: true });
    assert.equal(r.deliveredTo!.instanceId, 'ins-b2');
    const reply = r.reply!;
    assert.equal(reply.verdict, 'delivered');
    assert.deepEqual(reply.deliveredTo, { instanceId: 'ins-b1', hostId: 'h2' });
    assert.ok(reply.hops.some((h) => h.hostId === lbHop(r).lbNode && h.stage === 'lb'));
  });

  it('the reply of an answer for the VIP (TCP reset) comes from the node, to the client', () => {
    const r = run(docs, { from: 'ins-a1', to: VIP, port: 81, reply: true });
    const reply = r.reply!;
    assert.equal(reply.source.router, true);
    assert.equal(reply.source.ip, VIP);
    assert.equal(reply.verdict, 'delivered');
    assert.match(reply.hops[0]!.summary, /answers from the VIP 10\.0\.1\.100 \(TCP reset\)/);
  });

  it('without the VIP route on the client\'s host, the VIP is an address of the VPC no instance has', () => {
    const r = run(lbRegion({ noVipRoutes: true }), { from: 'ins-a1', to: VIP });
    assert.equal(r.code, 'no-route');
  });

  it('documents out of step: a VIP the nodes do not hold, a cluster MAC that is not theirs', () => {
    const gone = lbRegion();
    for (const d of gone) if (d.role === 'lb') d.vpcs[0]!.loadBalancers = [];
    const r = run(gone, { from: 'ins-a1', to: VIP });
    assert.equal(r.code, 'no-route');
    assert.match(r.reason, /holds no load balancer of vpc-a0000000 with VIP 10\.0\.1\.100/);
    const wrong = lbRegion();
    wrong[0]!.vpcs[0]!.lbVips!.routerMac = '52:54:00:99:99:99';
    assert.equal(run(wrong, { from: 'ins-a1', to: VIP }).code, 'tunnel-mac-mismatch');
  });

  it('a VIP that is not an address fails the document, as the node would refuse it', () => {
    const bad = lbRegion();
    bad.find((d) => d.hostId === 'lb1')!.vpcs[0]!.loadBalancers![0]!.vip = '10.0.1.300';
    assert.throws(() => run(bad, { from: 'ins-a1', to: VIP }), /lb-int00000 VIP/);
  });

  it('one LB node: it alone takes every flow', () => {
    const r = run(lbRegion({ nodes: ['lb2'] }), { from: 'ins-a1', to: VIP });
    assert.equal(lbHop(r).lbNode, 'lb2');
    assert.match(r.hops[3]!.summary, /lb2, the only LB node/);
    assert.equal(r.verdict, 'delivered');
  });

  it('the reachability matrix of the VPC is unchanged by the LB nodes (classes equal traces)', () => {
    for (const q of [{ protocol: 'tcp' as const, port: 8080 }, { protocol: 'icmp' as const }]) {
      const m = reachability(docs, { vpcId: VPC, ...q });
      assert.deepEqual(m.cells, reachabilityByTraces(docs, { vpcId: VPC, ...q }).cells);
      assert.equal(m.instances.length, 6);
    }
  });
});

describe('tracer, load balancers: a public VIP from the internet', () => {
  const docs = lbRegion();
  const tls = listenerOf(docs, 'lbl-tls0000');

  it('the internet router picks an LB node, the listener its backend; the backend\'s group sees the internet client', () => {
    const r = run(docs, { from: CLIENT, to: PUBLIC_VIP, port: 443 });
    const want = expected(tls, { src: CLIENT, sport: 49152, dst: PUBLIC_VIP, dport: 443 });
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.deliveredTo!.instanceId, want.backend!.instanceId);
    assert.equal(r.source.internet, true);
    assert.equal(r.source.vpcId, VPC);
    const entry = r.hops[0]!;
    assert.equal(entry.hostId, 'internet');
    const d = entry.detail as InternetDetail;
    assert.deepEqual([d.holder, d.lbNodes, d.loadBalancerId], ['lb', ['lb1', 'lb2'], 'lb-pub00000']);
    assert.equal(lbHop(r).lbNode, d.toHostId);
    assert.equal(lbHop(r).slot, want.slot);
    assert.match(r.hops.find((h) => h.stage === 'security-group')!.summary, /ingress of ins-b[12]/);
    // A group that admits only the VPC's addresses: the internet client's own address is refused.
    const closed = lbRegion();
    closed.find((h) => h.hostId === 'h2')!.vpcs[0]!.securityGroups['sg-web']!.ingress = [{ protocol: 'tcp', ports: [], cidr: '10.0.0.0/16', action: 'accept' }];
    assert.equal(run(closed, { from: CLIENT, to: PUBLIC_VIP, port: 443 }).code, 'ingress-default');
  });

  it('every path (LB node) gives the same backend', () => {
    const paths = traceEveryPath(docs, { from: CLIENT, to: PUBLIC_VIP, protocol: 'tcp', port: 443 });
    assert.equal(paths.length, 2);
    assert.equal(new Set(paths.map((p) => p.deliveredTo?.instanceId)).size, 1);
  });

  it('the reply goes back through the same node, leaves from the VIP to the internet', () => {
    const r = run(docs, { from: CLIENT, to: PUBLIC_VIP, port: 443, reply: true });
    const reply = r.reply!;
    assert.deepEqual([reply.verdict, reply.code], ['forwarded', 'internet']);
    assert.equal(lbHop(reply).lbNode, lbHop(r).lbNode);
    assert.match(reply.reason, /tcp 203\.0\.113\.80:443 → 198\.18\.0\.10:49152 is forwarded to the internet/);
    assert.doesNotMatch(reply.reason, /will not take it/);
  });

  it('no listener: the node answers from the VIP, out to the internet', () => {
    const r = run(docs, { from: CLIENT, to: PUBLIC_VIP, port: 80, reply: true });
    assert.deepEqual([r.verdict, r.code], ['answered', 'lb-no-listener']);
    assert.deepEqual([r.reply!.verdict, r.reply!.code], ['forwarded', 'internet']);
  });

  it('an internal VIP is not reached from the internet', () => {
    assert.equal(run(docs, { from: CLIENT, to: VIP }).code, 'no-eip');
  });
});

describe('tracer, load balancers: over documents compiled by the real compiler', () => {
  const s = baseScenario();
  const vni = new Map(s.vpcs.map((v) => [v.id, v.vni]));
  const lbNodes = [
    { id: 'lb1', underlay: '100.64.2.11' },
    { id: 'lb2', underlay: '100.64.2.12' },
  ];
  /** ins-a1 (h1) is the client; ins-a3 (h2) and ins-a6 (h3) serve tcp 80 behind VIP 10.0.1.100. */
  const compiled = (healthCheck: string, health: { private_ip: string; status: string }[] = []) => {
    const instances = s.instances.map((i) => ({ id: i.id, vpc_id: i.vpc, subnet_id: i.subnet, private_ip: i.ip, mac: `52:54:${vni.get(i.vpc)!.toString(16)}:00:00:${i.ip.split('.')[3]}`, host_id: i.host }));
    const lb = {
      loadBalancers: [{ id: 'lb-aaaaaaaa', vpc_id: 'vpc-aaaaaaaa', vip: VIP, type: 'INTERNAL' }],
      lbNodes,
      lbListeners: [{ id: 'lbl-aaaaaaaa', load_balancer_id: 'lb-aaaaaaaa', protocol: 'TCP', port: 80, health_check: healthCheck }],
      lbTargets: ['10.0.2.7', '10.0.2.10'].map((ip) => ({ listener_id: 'lbl-aaaaaaaa', load_balancer_id: 'lb-aaaaaaaa', instance_id: s.instances.find((i) => i.ip === ip && i.vpc === 'vpc-aaaaaaaa')!.id, private_ip: ip, port: 80, weight: 10 })),
      lbHealth: health.map((h) => ({ listener_id: 'lbl-aaaaaaaa', port: 80, ...h })),
    };
    const hosts: [string, string, string?][] = [...Object.entries(s.hosts), ...lbNodes.map((n): [string, string, string] => [n.id, n.underlay, 'lb'])];
    return hosts.map(([id, underlay, role]) =>
      compileHost({
        host: { id, underlay, ...(role ? { role } : {}) },
        revision: 1,
        underlays: s.hosts,
        vpcs: s.vpcs,
        instances,
        subnets: Object.entries(s.subnets).map(([sid, cidr]) => ({ id: sid, cidr })),
        bindings: s.instances.flatMap((i) => i.groups.map((sg_id, position) => ({ instance_id: i.id, sg_id, position }))),
        policies: policyRows(s.groups),
        ...lb,
      }),
    );
  };

  it('health checks off: the VIP reaches the backend core/maglev.ts gives, and the reply comes back through the node', () => {
    const docs = compiled('{"HealthSwitch":0}');
    for (const sport of [40001, 40002, 40003, 40004]) {
      const r = trace(docs, { from: 'ins-a1', to: VIP, protocol: 'tcp', port: 80, sourcePort: sport, reply: true });
      const want = expected(listenerOf(docs, 'lbl-aaaaaaaa'), { src: '10.0.1.5', sport, dst: VIP, dport: 80 });
      assert.equal(r.verdict, 'delivered', renderTrace(r));
      assert.equal(r.deliveredTo!.instanceId, want.backend!.instanceId);
      assert.deepEqual([r.loadBalancer!.slot, r.loadBalancer!.tableSize], [want.slot, MAGLEV_SIZE]);
      assert.equal(r.reply!.verdict, 'delivered', renderTrace(r));
      assert.ok(r.reply!.hops.some((h) => h.stage === 'lb' && h.hostId === r.loadBalancer!.lbNode));
    }
  });

  it('health checks on: a target no node has found alive takes no flow; one found alive takes them all', () => {
    assert.equal(trace(compiled(''), { from: 'ins-a1', to: VIP, protocol: 'tcp', port: 80 }).code, 'lb-no-backend');
    const one = compiled('', [{ private_ip: '10.0.2.10', status: 'Alive' }]);
    for (const sport of [40001, 40002, 40003])
      assert.equal(trace(one, { from: 'ins-a1', to: VIP, protocol: 'tcp', port: 80, sourcePort: sport }).deliveredTo?.instanceId, 'ins-a6');
  });
});

describe('tracer, load balancers: what the sim hosts applied (weft trace --applied)', () => {
  it('the sim driver keeps LB nodes\' documents; the tracer follows a VIP through them, and a node that lags chooses by its own table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-sim-lb-'));
    try {
      const docs = lbRegion();
      for (const d of docs) await new SimDriver(join(dir, `${d.hostId}.json`)).apply(d);
      const q: TraceQuery = { from: 'ins-a1', to: VIP, protocol: 'tcp', port: 80, sourcePort: 30001 };
      const applied = readSimState(dir);
      assert.deepEqual(applied.filter((d) => d.role === 'lb').map((d) => [d.hostId, d.lbNode]), [['lb1', 1], ['lb2', 2]]);
      const before = traceEveryPath(buildWorld(applied), q);
      assert.equal(new Set(before.map((p) => p.deliveredTo?.instanceId)).size, 1);
      // lb1 applies a document where the chosen backend drains; lb2 has not yet: the two nodes now disagree.
      const chosen = before[0]!.deliveredTo!.instanceId;
      const lb1 = structuredClone(docs.find((d) => d.hostId === 'lb1')!);
      for (const t of lb1.vpcs[0]!.loadBalancers![0]!.listeners.find((l) => l.listenerId === 'lbl-web0000')!.targets) if (t.instanceId === chosen) t.weight = 0;
      await new SimDriver(join(dir, 'lb1.json')).apply({ ...lb1, revision: 2 });
      const after = traceEveryPath(buildWorld(readSimState(dir)), q);
      assert.deepEqual(after.map((p) => [p.loadBalancer!.lbNode, p.deliveredTo!.instanceId === chosen]), [['lb1', false], ['lb2', true]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
