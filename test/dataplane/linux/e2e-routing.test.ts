/**
 * Route tables, network ACLs and peering against the real kernel (root): two
 * hosts in namespaces with a random prefix, hand-written documents, packets
 * sent from inside instance namespaces. Every apply is followed by a second
 * one that must change nothing. Traffic only goes to addresses inside these
 * namespaces; everything is removed in after().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AclRule, HostDocument, NetworkAcl, TableRoute, VpcContext } from '../../../src/contract/host-document.js';
import { containsCidr, parseCidr } from '../../../src/core/cidr.js';
import { PROBE, serve as serveIn } from './serve.js';
import { ApplyError, LinuxDriver, type ApplyReport } from '../../../src/dataplane/linux/driver.js';
import { ipJson, run } from '../../../src/dataplane/linux/exec.js';
import { destroyRegion, ensureHost, hostCpu, listNamespaces } from '../../../src/dataplane/linux/fabric.js';
import { OPEN, hostDocument, routerMacOf, type HostSpec, type InstanceSpec, type VpcSpec } from './world.js';

const root = process.getuid?.() === 0;
const prefix = `wr${randomBytes(2).toString('hex')}`;

const hosts: HostSpec[] = [
  { name: 'h1', underlay: '100.64.0.11' },
  { name: 'h2', underlay: '100.64.0.12' },
];

// ---- the world ----
const inst = (id: string, host: string, ip: string, subnet: string): InstanceSpec => ({ id, host, ip, subnet, groups: ['sg-open'] });
/** A route as written in the test: destination and next hops by instance (the compiler resolves them). */
interface RouteSpec {
  destination: string;
  nextHops?: string[];
  peering?: string;
}
interface Routed extends VpcSpec {
  cidr: string;
  table: { id: string; routes: RouteSpec[] };
  acls: Record<string, NetworkAcl>;
  /** subnet → ACL */
  aclOf: Record<string, string>;
}
const vpcA: Routed = {
  vpcId: 'vpc-a0000001',
  vni: 2001,
  cidr: '10.10.0.0/16',
  subnets: [
    { id: 'subnet-a1', cidr: '10.10.1.0/24', gateway: '10.10.1.1' },
    { id: 'subnet-a2', cidr: '10.10.2.0/24', gateway: '10.10.2.1' },
    { id: 'subnet-a3', cidr: '10.10.3.0/24', gateway: '10.10.3.1' },
  ],
  instances: [
    inst('ins-a0000001', 'h1', '10.10.1.11', 'subnet-a1'),
    inst('ins-a0000002', 'h2', '10.10.1.12', 'subnet-a1'),
    inst('ins-f0000001', 'h1', '10.10.2.21', 'subnet-a2'),
    inst('ins-f0000002', 'h2', '10.10.2.22', 'subnet-a2'),
    inst('ins-f0000003', 'h2', '10.10.2.23', 'subnet-a2'),
    inst('ins-s0000001', 'h2', '10.10.3.31', 'subnet-a3'),
    inst('ins-s0000002', 'h1', '10.10.3.32', 'subnet-a3'),
  ],
  groups: { 'sg-open': OPEN },
  table: {
    id: 'rtb-a0000001',
    routes: [
      { destination: '192.168.0.0/16', nextHops: ['ins-f0000001'] },
      { destination: '192.168.50.0/24', nextHops: [] },
      { destination: '192.168.100.0/24', nextHops: ['ins-f0000001'] },
      { destination: '192.168.200.0/24', nextHops: ['ins-f0000001', 'ins-f0000002', 'ins-f0000003'] },
      { destination: '10.20.0.0/16', peering: 'pcx-ab' },
      // Not what the control plane would ever write: proves that B's router does not pass it on.
      { destination: '10.30.0.0/16', peering: 'pcx-ab' },
    ],
  },
  acls: {
    'acl-s0000001': {
      ingress: [acl('tcp', '10.10.1.11/32', 'accept', [[80, 80]]), acl('all', '0.0.0.0/0', 'drop')],
      egress: [acl('tcp', '10.10.1.0/24', 'accept', [[1024, 65535]])],
    },
  },
  aclOf: { 'subnet-a3': 'acl-s0000001' },
};
const vpcB: Routed = {
  vpcId: 'vpc-b0000001',
  vni: 2002,
  cidr: '10.20.0.0/16',
  subnets: [{ id: 'subnet-b1', cidr: '10.20.1.0/24', gateway: '10.20.1.1' }],
  instances: [inst('ins-b0000001', 'h2', '10.20.1.11', 'subnet-b1')],
  groups: { 'sg-open': OPEN },
  table: {
    id: 'rtb-b0000001',
    routes: [
      { destination: '10.10.0.0/16', peering: 'pcx-ab' },
      { destination: '10.30.0.0/16', peering: 'pcx-bc' },
    ],
  },
  acls: {},
  aclOf: {},
};
const vpcC: Routed = {
  vpcId: 'vpc-c0000001',
  vni: 2003,
  cidr: '10.30.0.0/16',
  subnets: [{ id: 'subnet-c1', cidr: '10.30.1.0/24', gateway: '10.30.1.1' }],
  instances: [inst('ins-c0000001', 'h1', '10.30.1.11', 'subnet-c1')],
  groups: { 'sg-open': OPEN },
  table: {
    id: 'rtb-c0000001',
    routes: [
      { destination: '10.20.0.0/16', peering: 'pcx-bc' },
      { destination: '10.10.0.0/16', peering: 'pcx-bc' },
    ],
  },
  acls: {},
  aclOf: {},
};
const vpcs: Routed[] = [vpcA, vpcB, vpcC];
const peerings = [
  { id: 'pcx-ab', a: vpcA, b: vpcB, n: 1 },
  { id: 'pcx-bc', a: vpcB, b: vpcC, n: 2 },
];

function acl(protocol: AclRule['protocol'], cidr: string, action: AclRule['action'], ports: [number, number][] = []): AclRule {
  return { protocol, ports, cidr, action };
}

/** Destinations routed to an instance, none inside another (as the compiler writes Port.routedCidrs). */
function routedCidrs(v: Routed, instanceId: string): string[] {
  const dsts = v.table.routes.filter((r) => r.nextHops?.includes(instanceId)).map((r) => r.destination);
  const c = (s: string) => parseCidr(s)!;
  return [...new Set(dsts)].filter((d) => !dsts.some((o) => o !== d && containsCidr(c(o), c(d)))).sort();
}

/** One host's document: the world.ts document with route tables, ACLs and peering added, and the routers of peered VPCs. */
function document(host: HostSpec, revision: number): HostDocument {
  const base = hostDocument(host, hosts, vpcs, revision);
  const index = hosts.findIndex((h) => h.name === host.name) + 1;
  const present = new Set(base.vpcs.map((v) => v.vpcId));
  for (const p of peerings)
    for (const [x, y] of [
      [p.a, p.b],
      [p.b, p.a],
    ] as const)
      if (present.has(x.vpcId) && !base.vpcs.some((v) => v.vpcId === y.vpcId))
        base.vpcs.push({
          vpcId: y.vpcId,
          vni: y.vni,
          routerMac: routerMacOf(index, y.vni),
          subnets: [],
          ports: [],
          remotes: y.instances.map((i) => {
            const h = hosts.find((z) => z.name === i.host)!;
            return { ip: i.ip, instanceId: i.id, hostId: h.name, underlay: h.underlay, routerMac: routerMacOf(hosts.indexOf(h) + 1, y.vni) };
          }),
          securityGroups: {},
          groupMembers: {},
        });
  base.vpcs.sort((a, b) => (a.vpcId < b.vpcId ? -1 : 1));
  for (const ctx of base.vpcs) decorate(ctx, vpcs.find((v) => v.vpcId === ctx.vpcId)!);
  return base;
}

function decorate(ctx: VpcContext, v: Routed): void {
  const ipOf = (id: string) => v.instances.find((i) => i.id === id)!.ip;
  ctx.cidr = v.cidr;
  ctx.routeTables = [
    {
      routeTableId: v.table.id,
      main: true,
      subnets: v.subnets.map((s) => ({ subnetId: s.id, cidr: s.cidr })),
      routes: [...v.table.routes]
        .sort((a, b) => (a.destination < b.destination ? -1 : 1))
        .map((r): TableRoute => {
          if (r.peering) {
            const p = peerings.find((x) => x.id === r.peering)!;
            return { destination: r.destination, kind: 'peering', peeringId: p.id, peerVpcId: (p.a === v ? p.b : p.a).vpcId, routeIds: [] };
          }
          const nextHops = r.nextHops!.map((id) => ({ ip: ipOf(id), instanceId: id })).sort((a, b) => (a.ip < b.ip ? -1 : 1));
          return { destination: r.destination, kind: 'instance', nextHops, routeIds: [] };
        }),
    },
  ];
  for (const s of ctx.subnets) {
    s.routeTableId = v.table.id;
    if (v.aclOf[s.subnetId]) s.networkAclId = v.aclOf[s.subnetId];
  }
  ctx.networkAcls = Object.fromEntries(ctx.subnets.filter((s) => s.networkAclId).map((s) => [s.networkAclId!, structuredClone(v.acls[s.networkAclId!]!)]));
  for (const p of ctx.ports) {
    const routed = routedCidrs(v, p.instanceId);
    if (routed.length) p.routedCidrs = routed;
  }
  ctx.peerings = peerings
    .filter((p) => p.a === v || p.b === v)
    .map((p) => {
      const [macA, macB] = [`02:70:00:00:0${p.n}:01`, `02:70:00:00:0${p.n}:02`];
      const mine = p.a === v;
      return { peeringId: p.id, peerVpcId: (mine ? p.b : p.a).vpcId, ifname: p.id, mac: mine ? macA : macB, peerMac: mine ? macB : macA };
    });
}

// ---- helpers ----
const ns = (instanceId: string) => `${prefix}-${instanceId}`;
const routerNs = (host: string, vpcId: string) => `${prefix}-${host}-${vpcId}`;
let drivers = new Map<string, LinuxDriver>();
let revision = 0;

const changesOf = (r: ApplyReport) => r.applied.map((c) => `${c.kind} ${c.ns ?? '-'}: ${c.note ?? c.lines.join(' | ')}`);

/** Applies the current documents; `audit`: as the audit does, reading the whole kernel back (a normal apply trusts what it applied before). */
async function applyOnce(audit = false): Promise<Record<string, ApplyReport>> {
  revision++;
  const reports: Record<string, ApplyReport> = {};
  for (const h of hosts) {
    try {
      const d = drivers.get(h.name)!;
      if (audit) {
        const r = await d.audit(document(h, revision));
        if (r.error) assert.fail(`audit on ${h.name} failed:\n${r.error}`);
        reports[h.name] = r.report;
      } else reports[h.name] = await d.apply(document(h, revision));
    } catch (e) {
      if (e instanceof ApplyError) assert.fail(`apply on ${h.name} failed:\n${e.message}\napplied: ${JSON.stringify(e.report.applied, null, 1)}`);
      throw e;
    }
  }
  return reports;
}

/** Applies, then audits: the kernel, read back whole, must now match — the audit's plan is empty. */
async function applyAll(audit = false): Promise<Record<string, ApplyReport>> {
  const reports = await applyOnce(audit);
  const again = await applyOnce(true);
  for (const h of hosts) assert.deepEqual(changesOf(again[h.name]!), [], `${h.name}: nothing left to do after an apply`);
  return reports;
}

function status(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    child.on('close', (code) => resolve(code ?? 1));
    child.on('error', () => resolve(127));
  });
}
const inside = (id: string, argv: string[]) => ['ip', 'netns', 'exec', ns(id), ...argv];
const ping = async (from: string, ip: string) => (await status(inside(from, ['ping', '-c1', '-W1', '-n', '-q', ip]))) === 0;
const tcp = async (from: string, ip: string, port: number) => (await status(inside(from, ['nc', '-z', '-w1', ip, String(port)]))) === 0;
const udp = async (from: string, ip: string, port: number) => (await status(inside(from, [process.execPath, PROBE, 'udp', ip, String(port)]))) === 0;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

const children: ChildProcess[] = [];
const serve = (id: string, tcpPorts: number[], udpPorts: number[]) => serveIn(ns(id), tcpPorts, udpPorts, children);
async function eventually(what: string, check: () => boolean, ms = 3000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (check()) return;
  assert.fail(`timed out waiting for ${what}`);
}
const route = (v: Routed, dst: string) => v.table.routes.find((r) => r.destination === dst)!;

describe('linux driver: route tables, network ACLs, peering', { skip: root ? false : 'needs root (network namespaces)' }, () => {
  before(async () => {
    for (const [i, h] of hosts.entries()) await ensureHost(prefix, h.name, `${h.underlay}/16`, hostCpu(i));
    for (const h of hosts) drivers.set(h.name, new LinuxDriver({ prefix, hostName: h.name }));
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await destroyRegion(prefix);
    assert.deepEqual(await listNamespaces(prefix), [], 'no namespace of the test region is left');
  });

  test('everything is set up, converges, and every host holds the routers of the VPCs peered with its own', async () => {
    const reports = await applyAll();
    for (const h of hosts) assert.ok(reports[h.name]!.changes > 0);
    const names = await listNamespaces(prefix);
    for (const h of hosts) for (const v of vpcs) assert.ok(names.includes(routerNs(h.name, v.vpcId)), `${h.name} holds ${v.vpcId}`);
    // Forwarders: IP forwarding on, and each answers for the anycast service.
    for (const f of ['ins-f0000001', 'ins-f0000002', 'ins-f0000003']) {
      await run(inside(f, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']));
      await run(['ip', '-n', ns(f), 'addr', 'add', '192.168.200.10/32', 'dev', 'lo']);
    }
    await run(['ip', '-n', ns('ins-f0000001'), 'addr', 'add', '192.168.50.1/32', 'dev', 'lo']);
    await run(['ip', '-n', ns('ins-f0000001'), 'addr', 'add', '192.168.60.1/32', 'dev', 'lo']);
  });

  test('NORMAL_CVM: a destination behind a forwarding instance is reached through it, and not once it stops forwarding', async () => {
    // The destination: a namespace of its own behind ins-f0000001.
    const dst = `${prefix}-dst1`;
    await run(['ip', 'netns', 'add', dst]);
    await run(['ip', '-n', ns('ins-f0000001'), 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', dst]);
    await run(['ip', '-n', ns('ins-f0000001'), 'addr', 'add', '192.168.100.1/24', 'dev', 'd0']);
    await run(['ip', '-n', ns('ins-f0000001'), 'link', 'set', 'd0', 'up']);
    await run(['ip', '-n', dst, 'addr', 'add', '192.168.100.10/24', 'dev', 'eth0']);
    await run(['ip', '-n', dst, 'link', 'set', 'eth0', 'up']);
    await run(['ip', '-n', dst, 'route', 'add', 'default', 'via', '192.168.100.1']);
    assert.ok(await ping('ins-a0000001', '192.168.100.10'), 'from the same host');
    assert.ok(await ping('ins-a0000002', '192.168.100.10'), 'from another host: its router sends it over the tunnel to the forwarder');
    await run(inside('ins-f0000001', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']));
    assert.ok(!(await ping('ins-a0000001', '192.168.100.10')), 'the forwarder stopped forwarding');
    await run(inside('ins-f0000001', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']));
    assert.ok(await ping('ins-a0000001', '192.168.100.10'));
  });

  test('blackhole: a route whose next hops are all down drops, with no fallback to a shorter route', async () => {
    assert.ok(await ping('ins-a0000001', '192.168.60.1'), 'the /16 through the forwarder');
    assert.ok(!(await ping('ins-a0000001', '192.168.50.1')), 'the /24 is a blackhole although the /16 would reach it');
    const T = (await ipJson<{ dst: string; type: string }>(routerNs('h1', vpcA.vpcId), ['route', 'show', 'table', 'all'])).find((r) => r.dst === '192.168.50.0/24');
    assert.equal(T?.type, 'blackhole');
    route(vpcA, '192.168.50.0/24').nextHops = ['ins-f0000001'];
    await applyAll();
    assert.ok(await ping('ins-a0000001', '192.168.50.1'), 'a next hop came up');
    route(vpcA, '192.168.50.0/24').nextHops = [];
    await applyAll();
    assert.ok(!(await ping('ins-a0000001', '192.168.50.1')));
  });

  test('ECMP: flows spread over every member; a long flow stays on its member when another leaves the group', async () => {
    const forwarders = ['ins-f0000001', 'ins-f0000002', 'ins-f0000003'];
    const servers = await Promise.all(forwarders.map((f) => serve(f, [7000], [6000])));
    const flows = 60;
    let answered = 0;
    for (let i = 0; i < flows; i += 6) {
      const batch = await Promise.all(Array.from({ length: Math.min(6, flows - i) }, () => udp('ins-a0000001', '192.168.200.10', 6000)));
      answered += batch.filter(Boolean).length;
    }
    assert.equal(answered, flows, 'every flow is answered');
    const counts = servers.map((s) => s.lines.filter((l) => l.port === 6000).length);
    console.log(`# ECMP: ${flows} UDP flows from one client over 3 next hops (one local, two behind the other host): ${counts.join(' / ')}`);
    assert.equal(counts.reduce((a, b) => a + b, 0), flows);
    for (const [i, c] of counts.entries()) assert.ok(c > 0, `${forwarders[i]} got flows`);

    // A long TCP flow, then a member it is not on leaves the group.
    const client = spawn('ip', ['netns', 'exec', ns('ins-a0000001'), process.execPath, PROBE, 'hold', '192.168.200.10', '7000'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(client);
    let out = '';
    client.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually('the long connection', () => out.includes('connected\n'));
    await eventually('its server', () => servers.some((s) => s.lines.some((l) => l.port === 7000)));
    const holder = servers.findIndex((s) => s.lines.some((l) => l.port === 7000));
    const leaving = forwarders.find((_, i) => i !== holder)!;
    client.stdin!.write('one\n');
    await eventually('the first echo', () => out.includes('one\n'));
    const r = route(vpcA, '192.168.200.0/24');
    r.nextHops = r.nextHops!.filter((f) => f !== leaving);
    const reports = await applyAll();
    const h1 = reports.h1!.applied.flatMap((c) => c.lines);
    assert.ok(h1.some((l) => /^nexthop replace id \d+ group \d+\/\d+ type resilient/.test(l)), `the group is replaced in place: ${h1.join(' | ')}`);
    assert.ok(!h1.some((l) => /^nexthop del id (\d+)$/.test(l) && Number(/\d+/.exec(l)![0]) < 0x0a000000), 'not deleted and made again');
    client.stdin!.write('two\n');
    await eventually(`the echo after ${leaving} left (flow on ${forwarders[holder]})`, () => out.includes('two\n'));
    client.kill('SIGKILL');
    r.nextHops = [...forwarders];
    await applyAll();
    for (const s of servers) s.child.kill('SIGKILL');
  });

  test('network ACLs: stateless, both directions, at the subnet boundary only', async () => {
    const s1 = await serve('ins-s0000001', [22, 80], []);
    const a1 = await serve('ins-a0000001', [8080], [5353]);
    assert.ok(await tcp('ins-a0000001', '10.10.3.31', 80), 'ingress allows tcp 80 from a1, egress its replies');
    assert.ok(!(await tcp('ins-a0000002', '10.10.3.31', 80)), 'ingress: a2 is not allowed');
    assert.ok(!(await tcp('ins-a0000001', '10.10.3.31', 22)), 'ingress: port 22 is not allowed');
    assert.ok(await ping('ins-s0000002', '10.10.3.31'), 'within the subnet (across hosts) the ACL does not apply');
    assert.ok(!(await udp('ins-s0000001', '10.10.1.11', 5353)), 'egress: nothing lets udp out');

    vpcA.acls['acl-s0000001']!.egress.unshift(acl('udp', '10.10.1.11/32', 'accept', [[5353, 5353]]));
    await applyAll();
    assert.ok(!(await udp('ins-s0000001', '10.10.1.11', 5353)), 'out, but the answer is not let in: stateless');
    assert.equal(a1.lines.filter((l) => l.port === 5353).length, 1, 'the request did leave the subnet');
    vpcA.acls['acl-s0000001']!.ingress.unshift(acl('udp', '10.10.1.11/32', 'accept', [[1024, 65535]]));
    await applyAll();
    assert.ok(await udp('ins-s0000001', '10.10.1.11', 5353), 'with an ingress entry for the answer');

    const egress = vpcA.acls['acl-s0000001']!.egress;
    vpcA.acls['acl-s0000001']!.egress = [acl('all', '0.0.0.0/0', 'drop')];
    await applyAll();
    assert.ok(!(await tcp('ins-a0000001', '10.10.3.31', 80)), 'the reply of an allowed connection needs its own egress entry');
    assert.ok(s1.lines.some((l) => l.port === 80), 'the connection did arrive');
    vpcA.acls['acl-s0000001']!.egress = egress;
    await applyAll();
    assert.ok(await tcp('ins-a0000001', '10.10.3.31', 80));
    s1.child.kill('SIGKILL');
    a1.child.kill('SIGKILL');
  });

  test('peering: both ways across hosts, TCP too (the transit router sees one half of the flow); not transitive', async () => {
    const b1 = await serve('ins-b0000001', [80], []);
    const a1 = await serve('ins-a0000001', [8080], []);
    assert.ok(await ping('ins-a0000001', '10.20.1.11'), 'A (h1) → B (h2)');
    assert.ok(await ping('ins-b0000001', '10.10.1.11'), 'B (h2) → A (h1)');
    assert.ok(await tcp('ins-a0000001', '10.20.1.11', 80), 'tcp A → B');
    assert.ok(await tcp('ins-b0000001', '10.10.1.11', 8080), 'tcp B → A');
    assert.ok(await ping('ins-a0000002', '10.20.1.11'), 'A (h2) → B (h2)');
    assert.ok(await ping('ins-c0000001', '10.20.1.11'), 'C (h1) → B (h2)');
    assert.ok(!(await ping('ins-a0000001', '10.30.1.11')), 'A → C through B: B does not route what comes from a peering');
    assert.ok(!(await ping('ins-c0000001', '10.10.1.11')), 'C → A through B neither');
    b1.child.kill('SIGKILL');
    a1.child.kill('SIGKILL');
  });

  test('drift: a peering end, a rule, a next-hop group and a table route changed by hand are put back', async () => {
    const RA1 = routerNs('h1', vpcA.vpcId);
    const RB1 = routerNs('h1', vpcB.vpcId);
    await run(['ip', '-n', RB1, 'link', 'set', 'pcx-ab', 'address', '02:00:00:00:00:99']);
    const rules = await ipJson<{ priority: number; iif?: string; table: string }>(RA1, ['rule', 'show']);
    const portRule = rules.find((r) => r.priority === 40000)!;
    await run(['ip', '-n', RA1, 'rule', 'del', 'priority', '40000', 'iif', portRule.iif!, 'lookup', portRule.table]);
    const groups = await ipJson<{ id: number; group?: unknown[] }>(RA1, ['nexthop', 'show']);
    await run(['ip', '-n', RA1, 'nexthop', 'del', 'id', String(groups.find((g) => g.group)!.id)]);
    await run(['ip', '-n', RA1, 'route', 'del', '192.168.50.0/24', 'table', portRule.table]);
    assert.ok(!(await ping('ins-a0000001', '10.20.1.11')));
    const reports = await applyAll(true);
    assert.ok(reports.h1!.applied.some((c) => c.note === 'pcx-ab: link to vpc-a0000001'), 'the link was made again by B, the VPC that sorts later');
    assert.ok(await ping('ins-a0000001', '10.20.1.11'));
    assert.ok(await ping('ins-a0000001', '192.168.200.10'), 'the ECMP group is back');
    assert.ok(!(await ping('ins-a0000001', '192.168.50.1')), 'the blackhole is back');
  });

  test('adoption: restarted drivers find everything in place', async () => {
    drivers = new Map(hosts.map((h) => [h.name, new LinuxDriver({ prefix, hostName: h.name })]));
    const reports = await applyOnce();
    for (const h of hosts) assert.deepEqual(changesOf(reports[h.name]!), [], h.name);
  });

  test('a peering and a route table gone from the document leave nothing behind', async () => {
    peerings.splice(1, 1);
    vpcB.table.routes = vpcB.table.routes.filter((r) => r.peering !== 'pcx-bc');
    vpcC.table.routes = [];
    await applyAll();
    for (const h of hosts) {
      const links = await ipJson<{ ifname: string }>(routerNs(h.name, vpcB.vpcId), ['link', 'show']);
      assert.ok(!links.some((l) => l.ifname === 'pcx-bc'), `${h.name}: B's end of pcx-bc is gone`);
    }
    assert.ok(!(await ping('ins-c0000001', '10.20.1.11')));
    assert.ok(await ping('ins-a0000001', '10.20.1.11'), 'A–B still peered');
  });
});
