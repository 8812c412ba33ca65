/**
 * The Linux driver against the real kernel (root): a fabric and three hosts
 * in namespaces with a random prefix, hand-written documents, and real
 * packets sent from inside instance namespaces. Traffic only ever goes to
 * addresses inside those namespaces; everything is removed in after().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PROBE, serve as serveIn, type Server } from './serve.js';
import { ApplyError, LinuxDriver, listTables, type ApplyReport } from '../../../src/dataplane/linux/driver.js';
import { ipJson, nftApply, nftJson, run } from '../../../src/dataplane/linux/exec.js';
import { cpuMask, destroyRegion, ensureHost, hostCpu, listNamespaces } from '../../../src/dataplane/linux/fabric.js';
import { desiredTables, planNft, renderTable } from '../../../src/dataplane/linux/nft-ruleset.js';
import { richVpc } from './fixtures.js';
import { ANY, OPEN, allow, deny, hostDocument, ifnameOf, type HostSpec, type InstanceSpec, type VpcSpec } from './world.js';

const root = process.getuid?.() === 0;
const prefix = `wt${randomBytes(2).toString('hex')}`;

const hosts: HostSpec[] = [
  { name: 'h1', underlay: '100.64.0.11' },
  { name: 'h2', underlay: '100.64.0.12' },
  { name: 'h3', underlay: '100.64.0.13' },
];

// ---- the world: VPCs as the tests change them ----
const inst = (id: string, host: string, ip: string, subnet: string, groups: string[]): InstanceSpec => ({ id, host, ip, subnet, groups });
const vpcA: VpcSpec = {
  vpcId: 'vpc-a0000001',
  vni: 1001,
  subnets: [
    { id: 'subnet-a1', cidr: '10.0.1.0/24', gateway: '10.0.1.1' },
    { id: 'subnet-a2', cidr: '10.0.2.0/24', gateway: '10.0.2.1' },
  ],
  instances: [
    inst('ins-a0000001', 'h1', '10.0.1.11', 'subnet-a1', ['sg-open']),
    inst('ins-a0000002', 'h1', '10.0.1.12', 'subnet-a1', ['sg-open']),
    inst('ins-a0000003', 'h2', '10.0.2.13', 'subnet-a2', ['sg-open']),
    inst('ins-a0000004', 'h3', '10.0.1.14', 'subnet-a1', ['sg-open']),
    // Bound to groups holding every rule shape, behind one that lets everything in.
    inst('ins-a0000005', 'h1', '10.0.2.15', 'subnet-a2', ['sg-pass', 'sg-a', 'sg-b']),
  ],
  groups: { 'sg-open': OPEN, 'sg-pass': OPEN, ...richVpc().securityGroups },
};
const vpcB: VpcSpec = {
  vpcId: 'vpc-b0000001',
  vni: 1002,
  subnets: [{ id: 'subnet-b1', cidr: '10.0.1.0/24', gateway: '10.0.1.1' }],
  instances: [inst('ins-b0000001', 'h1', '10.0.1.11', 'subnet-b1', ['sg-open']), inst('ins-b0000004', 'h3', '10.0.1.14', 'subnet-b1', ['sg-open'])],
  groups: { 'sg-open': OPEN },
};
let vpcs: VpcSpec[] = [vpcA];
let revision = 0;
const instance = (id: string) => vpcs.flatMap((v) => v.instances).find((i) => i.id === id)!;
const setGroups = (id: string, groups: string[]) => (instance(id).groups = groups);

// ---- helpers ----
const ns = (instanceId: string) => `${prefix}-${instanceId}`;
const routerNs = (host: string, vpcId: string) => `${prefix}-${host}-${vpcId}`;
let drivers = new Map<string, LinuxDriver>();

/** Applies the current documents; `audit`: as the audit does, reading the whole kernel back (a normal apply trusts what it applied before). */
async function applyAll(audit = false): Promise<Record<string, ApplyReport>> {
  revision++;
  const reports: Record<string, ApplyReport> = {};
  for (const h of hosts) {
    try {
      const doc = hostDocument(h, hosts, vpcs, revision);
      const d = drivers.get(h.name)!;
      if (audit) {
        const r = await d.audit(doc);
        if (r.error) assert.fail(`audit on ${h.name} failed:\n${r.error}`);
        reports[h.name] = r.report;
      } else reports[h.name] = await d.apply(doc);
    } catch (e) {
      if (e instanceof ApplyError) assert.fail(`apply on ${h.name} failed:\n${e.message}\napplied: ${JSON.stringify(e.report.applied, null, 1)}`);
      throw e;
    }
  }
  return reports;
}

/** Exit status of a command (0 = success); never throws. */
function status(argv: string[], input?: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
    if (input !== undefined) child.stdin!.end(input);
    child.on('close', (code) => resolve(code ?? 1));
    child.on('error', () => resolve(127));
  });
}
const inside = (id: string, argv: string[]) => ['ip', 'netns', 'exec', ns(id), ...argv];
const ping = async (from: string, ip: string, extra: string[] = []) => (await status(inside(from, ['ping', '-c1', '-W1', '-n', '-q', ...extra, ip]))) === 0;
const tcp = async (from: string, ip: string, port: number) => (await status(inside(from, ['nc', '-z', '-w1', ip, String(port)]))) === 0;
const udp = async (from: string, ip: string, port: number, source?: string) =>
  (await status(inside(from, [process.execPath, PROBE, 'udp', ip, String(port), ...(source ? [source] : [])]))) === 0;
const sendUdp = (from: string, ip: string, port: number, source?: string) => status(inside(from, [process.execPath, PROBE, 'send-udp', ip, String(port), ...(source ? [source] : [])]));
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

const servers: ChildProcess[] = [];
const serve = (id: string, tcpPorts: number[], udpPorts: number[]) => serveIn(ns(id), tcpPorts, udpPorts, servers);
const received = (s: Server, port: number, from: string) => s.lines.filter((l) => l.port === port && l.from === from).length;
async function eventually(what: string, check: () => boolean, ms = 2000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (check()) return;
  assert.fail(`timed out waiting for ${what}`);
}

/** The MAC of the router side of an instance's port: what the instance's frames are addressed to. */
async function routerPortMac(id: string): Promise<string> {
  const i = instance(id);
  const vpc = vpcs.find((v) => v.instances.includes(i))!;
  const [link] = await ipJson<{ address: string }>(routerNs(i.host, vpc.vpcId), ['link', 'show', 'dev', ifnameOf(id)]);
  return link!.address;
}

const changesOf = (r: ApplyReport) => r.applied.map((c) => `${c.kind} ${c.ns ?? '-'}: ${c.note ?? c.lines.join(' | ')}`);

describe('linux driver end to end', { skip: root ? false : 'needs root (network namespaces)' }, () => {
  let a3: Server;
  let a4: Server;

  before(async () => {
    for (const [i, h] of hosts.entries()) await ensureHost(prefix, h.name, `${h.underlay}/16`, hostCpu(i));
    for (const h of hosts) drivers.set(h.name, new LinuxDriver({ prefix, hostName: h.name }));
  });

  after(async () => {
    for (const s of servers) s.kill('SIGKILL');
    const removed = await destroyRegion(prefix);
    assert.ok(removed.includes(`${prefix}-fab`));
    assert.deepEqual(await listNamespaces(prefix), [], 'no namespace of the test region is left');
  });

  test('the fabric: hosts plugged idempotently, reachable on the underlay at MTU 9000', async () => {
    assert.deepEqual(await listNamespaces(prefix), [`${prefix}-fab`, `${prefix}-h1`, `${prefix}-h2`, `${prefix}-h3`]);
    assert.deepEqual(await ensureHost(prefix, 'h2', '100.64.0.12/16', hostCpu(1)), [], 'nothing to do the second time');
    const pingUnderlay = (argv: string[]) => status(['ip', 'netns', 'exec', `${prefix}-h1`, 'ping', '-c1', '-W1', '-n', '-q', ...argv]);
    assert.equal(await pingUnderlay(['-M', 'do', '-s', '8972', '100.64.0.13']), 0);
    // an address changed by hand is put back
    await run(['ip', '-n', `${prefix}-h3`, 'addr', 'flush', 'dev', 'u0']);
    assert.notEqual(await pingUnderlay(['100.64.0.13']), 0);
    assert.deepEqual(await ensureHost(prefix, 'h3', '100.64.0.13/16', hostCpu(2)), [`ip -n ${prefix}-h3 addr add 100.64.0.13/16 dev u0`]);
    assert.equal(await pingUnderlay(['100.64.0.13']), 0);
  });

  test("the fabric is a plain switch and each host's receive work runs on its own CPU", async () => {
    const rps = async (host: string) =>
      (await run(['ip', 'netns', 'exec', `${prefix}-${host}`, 'cat', '/sys/class/net/u0/queues/rx-0/rps_cpus'])).stdout.trim().replace(/^[0,]+(?=.)/, '');
    for (const [i, h] of hosts.entries()) assert.equal(await rps(h.name), cpuMask(hostCpu(i)), `${h.name} steered to CPU ${hostCpu(i)}`);
    const nf = await run(['ip', 'netns', 'exec', `${prefix}-fab`, 'sysctl', '-e', '-n', 'net.bridge.bridge-nf-call-iptables']);
    if (nf.stdout.trim()) assert.equal(nf.stdout.trim(), '0', 'bridged frames skip netfilter');
    else console.log('# this kernel has no br_netfilter: nothing to turn off in the fabric');
    // steering changed by hand is put back
    await run(['ip', 'netns', 'exec', `${prefix}-h1`, 'sh', '-c', 'echo 0 > /sys/class/net/u0/queues/rx-0/rps_cpus']);
    assert.equal((await ensureHost(prefix, 'h1', '100.64.0.11/16', hostCpu(0))).length, 1);
    assert.equal(await rps('h1'), cpuMask(hostCpu(0)));
  });

  test('instances talk: same subnet on one host, across subnets, across hosts, full 1500-byte packets', async () => {
    const reports = await applyAll();
    for (const h of hosts) assert.ok(reports[h.name]!.changes > 0, `${h.name} was set up`);
    assert.ok(await ping('ins-a0000001', '10.0.1.1'), 'gateway');
    assert.ok(await ping('ins-a0000001', '10.0.1.12'), 'same subnet, same host');
    assert.ok(await ping('ins-a0000001', '10.0.2.15'), 'across subnets, same host');
    assert.ok(await ping('ins-a0000001', '10.0.2.13'), 'across subnets and hosts');
    assert.ok(await ping('ins-a0000002', '10.0.1.14'), 'same subnet across hosts');
    assert.ok(await ping('ins-a0000004', '10.0.2.13'), 'h3 to h2');
    assert.ok(await ping('ins-a0000001', '10.0.1.14', ['-M', 'do', '-s', '1472']), 'a 1500-byte packet crosses the tunnel unfragmented');
    assert.ok(!(await ping('ins-a0000001', '10.0.1.99')), 'an address nobody has answers nothing');
    a3 = await serve('ins-a0000003', [22, 80, 443, 7000, 8005, 8011], [53, 6000]);
    a4 = await serve('ins-a0000004', [], [5353]);
    assert.ok(await tcp('ins-a0000001', '10.0.2.13', 80), 'tcp across hosts');
    assert.ok(await udp('ins-a0000001', '10.0.2.13', 53), 'udp across hosts');
    assert.equal(received(a3, 53, '10.0.1.11'), 1, 'the server saw the instance’s own address');
  });

  test('adoption: restarted drivers find the kernel matching and change nothing (every rule shape listed back as planned)', async () => {
    drivers = new Map(hosts.map((h) => [h.name, new LinuxDriver({ prefix, hostName: h.name })]));
    const reports = await applyAll();
    for (const h of hosts) assert.deepEqual(changesOf(reports[h.name]!), [], h.name);
  });

  test('the rule shapes also round-trip through this machine’s nft in a scratch namespace', async () => {
    const scratch = `${prefix}-scratch`;
    await run(['ip', 'netns', 'add', scratch]);
    try {
      const tables = desiredTables(richVpc());
      await nftApply(scratch, tables.map(renderTable).join('\n') + '\n');
      const listed = await listTables(scratch);
      assert.equal(planNft(tables, listed), undefined);
      // A replacement the kernel refuses half-way (here: a jump loop, which only the
      // kernel detects, after the old table was deleted in the same transaction) changes nothing.
      const vpc = richVpc();
      vpc.securityGroups['sg-b']!.ingress = [];
      const change = planNft(desiredTables(vpc), listed)!;
      const broken = change.text.replace('\tchain sg-b-ingress {\n', '\tchain sg-b-ingress {\n\t\tjump ingress-p00000002\n');
      await assert.rejects(nftApply(scratch, broken), /nft -f - failed.*Too many links/s);
      assert.equal(planNft(tables, await listTables(scratch)), undefined, 'the previous rules are in force');
      await nftApply(scratch, change.text);
      assert.equal(planNft(desiredTables(vpc), await listTables(scratch)), undefined);
    } finally {
      await run(['ip', 'netns', 'del', scratch]);
    }
  });

  test('a VPC the driver cannot apply fails alone: the others are applied and the error names it', async () => {
    const h2 = hosts[1]!;
    const doc = hostDocument(h2, hosts, [vpcA], ++revision);
    const bad = structuredClone(doc.vpcs[0]!);
    Object.assign(bad, { vpcId: 'vpc-bad00001', vni: 1999 });
    bad.ports = [];
    bad.subnets = [{ subnetId: 'subnet-x', cidr: '10.9.0.0/24', gateway: '10.9.0.300' }];
    doc.vpcs.unshift(bad);
    const failed = await drivers.get('h2')!.apply(doc).then(
      () => assert.fail('apply should fail'),
      (e: unknown) => e,
    );
    assert.ok(failed instanceof ApplyError);
    assert.deepEqual(failed.failures.map((f) => f.vpcId), ['vpc-bad00001']);
    assert.match(failed.message, /invalid gateway "10\.9\.0\.300"/);
    assert.deepEqual(failed.report.applied, [], 'nothing made for it, nothing changed for the good one');
    assert.ok(!(await listNamespaces(prefix)).includes(routerNs('h2', 'vpc-bad00001')));
  });

  test('two VPCs with the same CIDR on the same hosts are isolated from each other', async () => {
    vpcs = [vpcA, vpcB];
    await applyAll();
    const b4 = await serve('ins-b0000004', [], [5353]);
    assert.ok(await udp('ins-a0000001', '10.0.1.14', 5353), 'a1 reaches 10.0.1.14 in its VPC');
    assert.equal(received(a4, 5353, '10.0.1.11'), 1);
    assert.equal(received(b4, 5353, '10.0.1.11'), 0, 'and not the twin in the other VPC');
    assert.ok(await udp('ins-b0000001', '10.0.1.14', 5353), 'b1 reaches 10.0.1.14 in its VPC');
    assert.equal(received(b4, 5353, '10.0.1.11'), 1);
    assert.equal(received(a4, 5353, '10.0.1.11'), 1, 'a4 saw nothing more');
    assert.ok(await ping('ins-b0000001', '10.0.1.1'));
    assert.ok(!(await ping('ins-b0000001', '10.0.1.12')), 'a2 is not in VPC B');
    b4.child.kill('SIGKILL');
  });

  test('security groups: ingress and egress, allow and deny, port lists and ranges, CIDR and group peers', async () => {
    vpcA.groups['sg-web'] = {
      ingress: [
        allow('tcp', { cidr: '10.0.1.0/24' }, [[80, 80], [443, 443]]),
        allow('tcp', ANY, [[8000, 8010]]),
        allow('tcp', ANY, [[7000, 7000]]),
        allow('udp', { group: 'sg-client' }, [[53, 53]]),
        allow('icmp', ANY),
        deny('all', ANY),
      ],
      egress: [allow('all', ANY)],
    };
    vpcA.groups['sg-client'] = { ingress: [], egress: [] };
    vpcA.groups['sg-no443'] = { ingress: [], egress: [deny('tcp', { cidr: '10.0.2.13/32' }, [[443, 443]])] };
    setGroups('ins-a0000003', ['sg-web']);
    setGroups('ins-a0000001', ['sg-open', 'sg-client']);
    setGroups('ins-a0000002', ['sg-no443', 'sg-open']);
    await applyAll();
    const a1 = 'ins-a0000001';
    assert.ok(await tcp(a1, '10.0.2.13', 80), 'tcp 80 from the subnet');
    assert.ok(await tcp(a1, '10.0.2.13', 443), 'tcp 443 from the subnet');
    assert.ok(!(await tcp(a1, '10.0.2.13', 22)), 'tcp 22 is not listed');
    assert.ok(await tcp(a1, '10.0.2.13', 8005), 'inside the range 8000-8010');
    assert.ok(!(await tcp(a1, '10.0.2.13', 8011)), 'just outside the range');
    assert.ok(await ping(a1, '10.0.2.13'), 'icmp');
    assert.ok(await udp(a1, '10.0.2.13', 53), 'udp 53 from a member of sg-client');
    assert.ok(!(await udp('ins-a0000004', '10.0.2.13', 53)), 'udp 53 from a non-member');
    assert.ok(await tcp('ins-a0000004', '10.0.2.13', 80), 'a4 is in 10.0.1.0/24');
    assert.ok(!(await tcp('ins-a0000005', '10.0.2.13', 80)), 'a5 is not in 10.0.1.0/24');
    assert.ok(await tcp('ins-a0000005', '10.0.2.13', 8005), 'but the range is open to all');
    assert.ok(!(await tcp('ins-a0000002', '10.0.2.13', 443)), 'a2’s own egress policy denies 443 to a3');
    assert.ok(await tcp('ins-a0000002', '10.0.2.13', 80), 'and lets 80 through to the next group');
  });

  test('stateful: replies of allowed flows pass an egress policy that denies everything', async () => {
    vpcA.groups['sg-web']!.egress = [deny('all', ANY)];
    await applyAll();
    assert.ok(await tcp('ins-a0000001', '10.0.2.13', 80), 'the reply to an allowed connection leaves a3');
    assert.ok(await ping('ins-a0000001', '10.0.2.13'), 'the echo reply too');
    assert.ok(!(await ping('ins-a0000003', '10.0.1.11')), 'a3 cannot start anything');
    vpcA.groups['sg-web']!.egress = [allow('all', ANY)];
    await applyAll();
    assert.ok(await ping('ins-a0000003', '10.0.1.11'));
  });

  test('the first matching policy across groups decides, in bound order', async () => {
    vpcA.groups['sg-x'] = { ingress: [deny('tcp', ANY, [[80, 80]])], egress: [] };
    setGroups('ins-a0000003', ['sg-x', 'sg-web']);
    await applyAll();
    assert.ok(!(await tcp('ins-a0000001', '10.0.2.13', 80)), 'sg-x denies 80 first');
    assert.ok(await tcp('ins-a0000001', '10.0.2.13', 443), 'sg-x says nothing about 443: sg-web allows it');
    setGroups('ins-a0000003', ['sg-web', 'sg-x']);
    await applyAll();
    assert.ok(await tcp('ins-a0000001', '10.0.2.13', 80), 'now sg-web allows 80 first');
  });

  test('group references: a membership change updates only the member set', async () => {
    setGroups('ins-a0000001', ['sg-open']);
    const left = await applyAll();
    assert.deepEqual(changesOf(left.h2!), [`nft ${routerNs('h2', 'vpc-a0000001')}: update set inet weft m_sg-client`]);
    assert.ok(!(await udp('ins-a0000001', '10.0.2.13', 53)), 'a1 left sg-client');
    setGroups('ins-a0000004', ['sg-open', 'sg-client']);
    const joined = await applyAll();
    assert.deepEqual(changesOf(joined.h2!), [`nft ${routerNs('h2', 'vpc-a0000001')}: update set inet weft m_sg-client`]);
    assert.ok(await udp('ins-a0000004', '10.0.2.13', 53), 'a4 joined sg-client');
  });

  test('an established flow survives the removal of the policy that allowed it; new flows do not', async () => {
    const client = spawn('ip', ['netns', 'exec', ns('ins-a0000001'), process.execPath, PROBE, 'hold', '10.0.2.13', '7000'], { stdio: ['pipe', 'pipe', 'inherit'] });
    servers.push(client);
    let out = '';
    client.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually('the connection', () => out.includes('connected\n'));
    client.stdin!.write('one\n');
    await eventually('the first echo', () => out.includes('one\n'));
    vpcA.groups['sg-web']!.ingress = vpcA.groups['sg-web']!.ingress.filter((r) => !(r.ports[0]?.[0] === 7000));
    await applyAll();
    client.stdin!.write('two\n');
    await eventually('the echo after the policy went', () => out.includes('two\n'));
    assert.ok(!(await tcp('ins-a0000001', '10.0.2.13', 7000)), 'a new connection is refused');
    client.kill('SIGKILL');
  });

  test('anti-spoofing: packets with a foreign source IP or MAC and ARP claiming a foreign IP are dropped at the port', async () => {
    const a1 = 'ins-a0000001';
    setGroups('ins-a0000003', ['sg-open']);
    await applyAll();
    const a2 = await serve('ins-a0000002', [], [6000]);
    const gwMac = await routerPortMac(a1);
    const inA1 = (argv: string[]) => run(['ip', '-n', ns(a1), ...argv]);
    // Resolve the peer and the gateway once, so no ARP hides what happens to the IP packets.
    await inA1(['neigh', 'replace', '10.0.1.12', 'lladdr', gwMac, 'dev', 'eth0', 'nud', 'permanent']);
    await inA1(['neigh', 'replace', '10.0.1.1', 'lladdr', gwMac, 'dev', 'eth0', 'nud', 'permanent']);
    await sendUdp(a1, '10.0.1.12', 6000);
    await sendUdp(a1, '10.0.2.13', 6000);
    await eventually('the genuine datagrams', () => received(a2, 6000, '10.0.1.11') === 1 && received(a3, 6000, '10.0.1.11') === 1);

    await inA1(['addr', 'add', '10.0.1.99/24', 'dev', 'eth0']);
    await sendUdp(a1, '10.0.1.12', 6000, '10.0.1.99');
    await sendUdp(a1, '10.0.2.13', 6000, '10.0.1.99');
    await inA1(['link', 'set', 'eth0', 'address', '0a:de:ad:be:ef:01']);
    await sendUdp(a1, '10.0.1.12', 6000);
    await sendUdp(a1, '10.0.2.13', 6000);
    await sleep(500);
    assert.equal(received(a2, 6000, '10.0.1.99') + received(a3, 6000, '10.0.1.99'), 0, 'foreign source IP dropped');
    assert.equal(received(a2, 6000, '10.0.1.11') + received(a3, 6000, '10.0.1.11'), 2, 'foreign source MAC dropped');

    await inA1(['link', 'set', 'eth0', 'address', instanceMac(a1)]);
    await sendUdp(a1, '10.0.1.12', 6000);
    await eventually('a datagram once the MAC is back', () => received(a2, 6000, '10.0.1.11') === 2);

    // ARP: a request claiming 10.0.1.99 gets no answer (the kernel would answer it: the gateway is local).
    await run(['ip', 'netns', 'exec', ns(a1), 'sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_announce=0', 'net.ipv4.conf.eth0.arp_announce=0']);
    await inA1(['neigh', 'flush', 'dev', 'eth0', 'nud', 'all']);
    assert.ok(!(await ping(a1, '10.0.1.1', ['-I', '10.0.1.99'])));
    const [gw] = await ipJson<{ state: string[] }>(ns(a1), ['neigh', 'show', '10.0.1.1', 'dev', 'eth0']);
    assert.ok(!gw?.state.includes('REACHABLE'), `no ARP answer for a foreign sender (${JSON.stringify(gw)})`);
    await inA1(['addr', 'del', '10.0.1.99/24', 'dev', 'eth0']);
    await inA1(['neigh', 'flush', 'dev', 'eth0', 'nud', 'all']);
    assert.ok(await ping(a1, '10.0.1.1'), 'its own address resolves and reaches the gateway');
    a2.child.kill('SIGKILL');
  });

  test('drift: a route, a neighbour, an nft rule and a veth deleted by hand come back on the next audit, and nothing else changes', async () => {
    const R = routerNs('h1', 'vpc-a0000001');
    await run(['ip', '-n', R, 'route', 'del', '10.0.2.13/32']);
    await run(['ip', '-n', R, 'neigh', 'del', '10.0.1.12', 'dev', ifnameOf('ins-a0000002')]);
    await run(['ip', '-n', R, 'link', 'del', ifnameOf('ins-a0000005')]);
    const egress = (await nftJson(R, ['-a', 'list', 'chain', 'inet', 'weft', 'egress'])) as { rule?: { handle: number } }[];
    const handle = egress.find((e) => e.rule)!.rule!.handle;
    await run(['ip', 'netns', 'exec', R, 'nft', 'delete', 'rule', 'inet', 'weft', 'egress', 'handle', String(handle)]);
    assert.ok(!(await ping('ins-a0000001', '10.0.2.13')), 'the route is gone');
    assert.ok(!(await ping('ins-a0000001', '10.0.2.15')), 'the port is gone');
    // A normal apply trusts what it applied: only the audit reads the kernel back.
    const trusting = await applyAll();
    for (const h of hosts) assert.deepEqual(changesOf(trusting[h.name]!), [], `${h.name}: a normal apply of an unchanged document reads nothing`);

    const reports = await applyAll(true);
    assert.deepEqual(changesOf(reports.h2!), []);
    assert.deepEqual(changesOf(reports.h3!), []);
    const h1 = reports.h1!.applied;
    const lines = h1.flatMap((c) => c.lines);
    assert.deepEqual(
      h1.map((c) => [c.kind, c.ns]),
      [
        ['nft', R],
        ['ip', R],
        ['sysctl', R],
        ['ip', ns('ins-a0000005')],
      ],
    );
    for (const l of ['route replace 10.0.2.13/32 via 10.0.2.13 dev vx1001 onlink', `neigh replace 10.0.1.12 lladdr 0a:e9:0a:00:01:0c dev ${ifnameOf('ins-a0000002')} nud permanent`])
      assert.ok(lines.includes(l), l);
    assert.ok(lines.some((l) => l.startsWith(`link add ${ifnameOf('ins-a0000005')} `)));
    assert.ok(await ping('ins-a0000001', '10.0.2.13'));
    assert.ok(await ping('ins-a0000001', '10.0.2.15'));
    assert.ok(await ping('ins-a0000001', '10.0.1.12'));
    const again = await applyAll(true);
    for (const h of hosts) assert.deepEqual(changesOf(again[h.name]!), [], `${h.name} converged`);
  });

  test('a document without a VPC removes its router and instance namespaces; a port gone removes its instance', async () => {
    vpcA.instances = vpcA.instances.filter((i) => i.id !== 'ins-a0000005');
    vpcs = [vpcA];
    const reports = await applyAll();
    assert.ok(reports.h1!.applied.some((c) => c.kind === 'netns-del' && c.lines.includes(routerNs('h1', 'vpc-b0000001'))));
    assert.deepEqual(await listNamespaces(prefix), [
      `${prefix}-fab`,
      `${prefix}-h1`,
      `${prefix}-h1-vpc-a0000001`,
      `${prefix}-h2`,
      `${prefix}-h2-vpc-a0000001`,
      `${prefix}-h3`,
      `${prefix}-h3-vpc-a0000001`,
      ns('ins-a0000001'),
      ns('ins-a0000002'),
      ns('ins-a0000003'),
      ns('ins-a0000004'),
    ]);
    assert.ok(await ping('ins-a0000001', '10.0.1.14'), 'VPC A still works');
    const again = await applyAll(true);
    for (const h of hosts) assert.deepEqual(changesOf(again[h.name]!), [], `${h.name} converged`);
  });

  test('an instance moved to another host is re-plugged there; the old host lets go without removing it', async () => {
    instance('ins-a0000004').host = 'h2';
    const reports = await applyAll();
    assert.ok(reports.h2!.applied.some((c) => c.kind === 'instance-reset' && c.lines.includes(`${ns('ins-a0000004')} eth0`)), 'h2 took the instance over');
    assert.ok(reports.h3!.applied.some((c) => c.kind === 'netns-del' && c.lines.includes(routerNs('h3', 'vpc-a0000001'))), 'h3 has nothing of VPC A left');
    assert.ok(!reports.h3!.applied.some((c) => c.kind === 'instance-gc'), 'and does not remove the instance h2 now holds');
    assert.ok((await listNamespaces(prefix)).includes(ns('ins-a0000004')));
    assert.ok(await ping('ins-a0000001', '10.0.1.14'), 'reachable at its new place');
    assert.ok(await udp('ins-a0000003', '10.0.1.14', 5353), 'its server kept running through the move');
    const again = await applyAll(true);
    for (const h of hosts) assert.deepEqual(changesOf(again[h.name]!), [], `${h.name} converged`);
  });
});

function instanceMac(id: string): string {
  const i = instance(id);
  const vpc = vpcs.find((v) => v.instances.includes(i))!;
  return hostDocument(hosts.find((h) => h.name === i.host)!, hosts, [vpc], 0).vpcs[0]!.ports.find((p) => p.instanceId === id)!.mac;
}
