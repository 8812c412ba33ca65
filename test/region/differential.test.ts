/**
 * Differential test: the packet tracer against the kernel. A random scenario
 * (two VPCs with the same CIDR and overlapping addresses, subnets in two
 * zones, instances over three hosts, security groups with random policies —
 * references, port lists and ranges, ICMP, ALL, DROP — bound in random order,
 * some instances with none) is built through the API in a Linux region in a
 * box; VPC a also has a route table on one subnet sending 192.168.10.0/24 to
 * one or two of its instances (ECMP; they hold 192.168.10.1 on lo), maybe a
 * stateless network ACL with random entries on its other subnet, and a
 * peering with a third VPC c (10.1.0.0/16) with random routes on either side.
 * Then, for every source instance and every destination address (every
 * instance address of the VPCs, the subnet gateway, an unused address, the
 * routed 192.168.10.1), the
 * tracer's verdict (TraceVpcFlow with Reply, through the API) is compared
 * with real probes: ping, a TCP connect (nc -z) and a UDP request/echo.
 *
 * As root only. WEFT_DIFF_SCENARIOS=N runs N scenarios (default 1);
 * WEFT_DIFF_SEED=S replays one. A disagreement prints the seed, the scenario
 * and the trace, to be kept as a regression test.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { isRoot, startBox, type Box } from '../helpers/box.js';
import { ROOT, vpcCommonClient, type Creds } from '../helpers/region.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PROBE = join(ROOT, 'dist/test/dataplane/linux/probe.js');
const TCP_PORTS = [22, 80, 8050, 8080];
const UDP_PORTS = [53, 5000, 9999];

/** mulberry32: a small seeded PRNG, so a scenario can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]) => xs[int(xs.length)]!, chance: (p: number) => next() < p };
}

interface Scenario {
  seed: number;
  groups: { name: string; ingress: Any[]; egress: Any[] }[];
  instances: { name: string; vpc: 'a' | 'b' | 'c'; zone: 'local-1' | 'local-2'; ip: string; groups: string[] }[];
  /** Instances of VPC a that are the next hops of 192.168.10.0/24 in the table of a's local-1 subnet. */
  nextHops: string[];
  /** Entries of a network ACL on a's local-2 subnet, if any. */
  acl?: { ingress: Any[]; egress: Any[] };
  /** Which PEERCONNECTION routes exist: a's main table, a's routed table, c's main table. */
  peerRoutes: { aMain: boolean; aTable: boolean; c: boolean };
  tcpPort: number;
  udpPort: number;
}

/** The address the next hops answer for (on their lo), inside the routed 192.168.10.0/24. */
const ROUTED = '192.168.10.1';

function generate(seed: number): Scenario {
  const r = rng(seed);
  const addresses = (zone: string) => [10, 11, 12, 13, 14].map((h) => `10.0.${zone === 'local-1' ? 1 : 2}.${h}`);
  const instances: Scenario['instances'] = [];
  const taken = new Set<string>();
  const place = (vpc: 'a' | 'b', n: number, prefer?: string[]) => {
    for (let i = 0; i < n; i++) {
      const zone = r.pick(['local-1', 'local-2'] as const);
      const free = (prefer?.filter((x) => x.startsWith(`10.0.${zone === 'local-1' ? 1 : 2}.`)) ?? addresses(zone)).filter((ip) => !taken.has(`${vpc}/${ip}`));
      if (!free.length) continue;
      const ip = r.pick(free);
      taken.add(`${vpc}/${ip}`);
      instances.push({ name: `${vpc}${instances.length}`, vpc, zone, ip, groups: [] });
    }
  };
  place('a', 5);
  // vpc b reuses vpc a's addresses (overlap), where it can.
  place('b', 2, instances.map((i) => i.ip));
  place('b', 1);
  const names = ['g0', 'g1', 'g2'];
  const peers = () => (r.chance(0.3) ? { SecurityGroupId: r.pick(names) } : { CidrBlock: r.pick(['0.0.0.0/0', '10.0.0.0/16', '10.0.1.0/24', '10.0.2.0/24', r.pick(instances).ip, '192.168.0.0/16']) });
  const policy = (): Any => {
    const protocol = r.pick(['TCP', 'TCP', 'UDP', 'UDP', 'ICMP', 'ALL']);
    const port = protocol === 'TCP' || protocol === 'UDP' ? { Port: r.pick(['ALL', '22', '80', '22,80', '8000-8100', '53', '5000-5001', '1-1024']) } : {};
    return { Protocol: protocol, ...port, ...peers(), Action: r.chance(0.7) ? 'ACCEPT' : 'DROP' };
  };
  const list = (n: number) => {
    const seen = new Set<string>();
    return Array.from({ length: n }, policy).filter((p) => {
      const k = JSON.stringify(p);
      return !seen.has(k) && seen.add(k);
    });
  };
  const groups = names.map((name) => ({ name, ingress: list(1 + r.int(4)), egress: list(1 + r.int(3)) }));
  const cZone = r.pick(['local-1', 'local-2'] as const);
  instances.push({ name: 'c0', vpc: 'c', zone: cZone, ip: cZone === 'local-1' ? '10.1.1.10' : '10.1.2.10', groups: [] });
  for (const i of instances) {
    const k = r.chance(0.15) ? 0 : 1 + r.int(2);
    const pool = [...names];
    for (let j = 0; j < k; j++) i.groups.push(pool.splice(r.int(pool.length), 1)[0]!);
  }
  // One or two next hops; two share their groups, so every ECMP member answers alike (the kernel's pick is its own).
  const inA = instances.filter((i) => i.vpc === 'a');
  const nextHops = inA.slice(0, Math.min(inA.length, 1 + r.int(2))).map((i) => i.name);
  for (const n of nextHops.slice(1)) instances.find((i) => i.name === n)!.groups = [...instances.find((i) => i.name === nextHops[0])!.groups];
  const aclEntry = (): Any => {
    const protocol = r.pick(['TCP', 'UDP', 'ICMP', 'ALL']);
    const port = protocol === 'TCP' || protocol === 'UDP' ? { Port: r.pick(['ALL', '22', '80', '53', '1024-65535', '8000-8100', '1-1024']) } : {};
    return { Protocol: protocol, ...port, CidrBlock: r.pick(['0.0.0.0/0', '10.0.0.0/16', '10.0.1.0/24', '10.1.0.0/16', r.pick(instances).ip, '192.168.10.0/24']), Action: r.chance(0.7) ? 'ACCEPT' : 'DROP' };
  };
  const acl = r.chance(0.6) ? { ingress: Array.from({ length: 1 + r.int(4) }, aclEntry), egress: Array.from({ length: 1 + r.int(4) }, aclEntry) } : undefined;
  const peerRoutes = { aMain: r.chance(0.8), aTable: r.chance(0.6), c: r.chance(0.8) };
  return { seed, groups, instances, nextHops, acl, peerRoutes, tcpPort: r.pick(TCP_PORTS), udpPort: r.pick(UDP_PORTS) };
}

async function pool<T>(items: readonly T[], width: number, f: (x: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await f(items[next++]!);
  }));
}

const sqliteOnly = !!process.env.WEFT_TEST_DATABASE && 'the differential run compares data planes; the store engine does not change it (runs on SQLite only)';
const skip = !isRoot ? 'needs root (network namespaces): the differential run compares the tracer with the kernel' : sqliteOnly;

describe('differential: tracer vs kernel', { skip }, () => {
  let box: Box;
  let api: CommonClient;
  let dbFile = '';
  before(async () => {
    box = await startBox(3, { WEFT_AGENT_RESYNC_MS: '1000' });
    const creds = JSON.parse((await import('node:fs')).readFileSync(join(box.dataDir, 'credentials.json'), 'utf8')) as Creds;
    api = vpcCommonClient(creds.Endpoint, creds, 60);
    dbFile = join(box.dataDir, 'weft.db');
  });
  after(async () => box?.down());

  const call = (action: string, params: Any) => api.request(action, params) as Promise<Any>;

  interface Built {
    ids: Record<string, string>;
    vpcIds: string[];
    groupIds: string[];
    table: string;
    mainA: string;
    subnetA1: string;
    subnetA2: string;
    acl?: string;
    pcx: string;
  }

  /** Builds a scenario through the API; the instance IDs by name, and what to delete afterwards. */
  async function build(s: Scenario): Promise<Built> {
    const vpcs: Record<string, { id: string; subnets: Record<string, string> }> = {};
    for (const v of ['a', 'b', 'c']) {
      const net = v === 'c' ? '10.1' : '10.0';
      const id = (await box.vpc.CreateVpc({ VpcName: `diff-${s.seed}-${v}`, CidrBlock: `${net}.0.0/16` })).Vpc!.VpcId!;
      const subnets: Record<string, string> = {};
      for (const [zone, cidr] of [['local-1', `${net}.1.0/24`], ['local-2', `${net}.2.0/24`]])
        subnets[zone!] = (await box.vpc.CreateSubnet({ VpcId: id, SubnetName: zone!, CidrBlock: cidr!, Zone: zone! })).Subnet!.SubnetId!;
      vpcs[v] = { id, subnets };
    }
    const sg: Record<string, string> = {};
    for (const g of s.groups) sg[g.name] = (await box.vpc.CreateSecurityGroup({ GroupName: `diff-${g.name}`, GroupDescription: String(s.seed) })).SecurityGroup!.SecurityGroupId!;
    const resolve = (p: Any) => (p.SecurityGroupId ? { ...p, SecurityGroupId: sg[p.SecurityGroupId] } : p);
    for (const g of s.groups)
      await box.vpc.ModifySecurityGroupPolicies({ SecurityGroupId: sg[g.name]!, SecurityGroupPolicySet: { Ingress: g.ingress.map(resolve), Egress: g.egress.map(resolve) } });
    const ids: Record<string, string> = {};
    for (const i of s.instances) {
      const v = vpcs[i.vpc]!;
      const res = await box.cvm.RunInstances({
        Placement: { Zone: i.zone },
        VirtualPrivateCloud: { VpcId: v.id, SubnetId: v.subnets[i.zone]!, PrivateIpAddresses: [i.ip] },
        SecurityGroupIds: i.groups.map((g) => sg[g]!),
        InstanceName: i.name,
      });
      ids[i.name] = res.InstanceIdSet![0]!;
    }
    const a = vpcs.a!;
    const c = vpcs.c!;
    const mainOf = async (vpc: string) =>
      (await box.vpc.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [vpc] }, { Name: 'association.main', Values: ['true'] }] })).RouteTableSet![0]!.RouteTableId!;
    const table = (await box.vpc.CreateRouteTable({ VpcId: a.id, RouteTableName: `diff-${s.seed}` })).RouteTable!.RouteTableId!;
    await box.vpc.ReplaceRouteTableAssociation({ RouteTableId: table, SubnetId: a.subnets['local-1']! });
    const ipOf = (name: string) => s.instances.find((i) => i.name === name)!.ip;
    await box.vpc.CreateRoutes({ RouteTableId: table, Routes: s.nextHops.map((n) => ({ DestinationCidrBlock: '192.168.10.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ipOf(n) })) });
    let acl: string | undefined;
    if (s.acl) {
      acl = (await box.vpc.CreateNetworkAcl({ VpcId: a.id, NetworkAclName: `diff-${s.seed}` })).NetworkAcl!.NetworkAclId!;
      await box.vpc.ModifyNetworkAclEntries({ NetworkAclId: acl, NetworkAclEntrySet: { Ingress: s.acl.ingress, Egress: s.acl.egress } });
      await box.vpc.AssociateNetworkAclSubnets({ NetworkAclId: acl, SubnetIds: [a.subnets['local-2']!] });
    }
    const uin = (JSON.parse((await import('node:fs')).readFileSync(join(box.dataDir, 'credentials.json'), 'utf8')) as Creds).Uin;
    const pcx = (await box.vpc.CreateVpcPeeringConnection({ SourceVpcId: a.id, PeeringConnectionName: `diff-${s.seed}`, DestinationVpcId: c.id, DestinationUin: uin, DestinationRegion: 'local' })).PeeringConnectionId!;
    const peerRoute = (rtb: string, dst: string) => box.vpc.CreateRoutes({ RouteTableId: rtb, Routes: [{ DestinationCidrBlock: dst, GatewayType: 'PEERCONNECTION', GatewayId: pcx }] });
    if (s.peerRoutes.aMain) await peerRoute(await mainOf(a.id), '10.1.0.0/16');
    if (s.peerRoutes.aTable) await peerRoute(table, '10.1.0.0/16');
    if (s.peerRoutes.c) await peerRoute(await mainOf(c.id), '10.0.0.0/16');
    return { ids, vpcIds: Object.values(vpcs).map((v) => v.id), groupIds: Object.values(sg), table, mainA: await mainOf(a.id), subnetA1: a.subnets['local-1']!, subnetA2: a.subnets['local-2']!, acl, pcx };
  }

  /** Removes a scenario, so any number of them fit the account's quotas and the next one has its addresses. */
  async function teardown(built: Built) {
    await box.vpc.DeleteVpcPeeringConnection({ PeeringConnectionId: built.pcx });
    await box.vpc.ReplaceRouteTableAssociation({ RouteTableId: built.mainA, SubnetId: built.subnetA1 });
    await box.vpc.DeleteRouteTable({ RouteTableId: built.table });
    if (built.acl) {
      await box.vpc.DisassociateNetworkAclSubnets({ NetworkAclId: built.acl, SubnetIds: [built.subnetA2] });
      await box.vpc.DeleteNetworkAcl({ NetworkAclId: built.acl });
    }
    const instanceIds = Object.values(built.ids);
    await box.cvm.TerminateInstances({ InstanceIds: instanceIds });
    const end = Date.now() + 60_000;
    while ((await box.cvm.DescribeInstances({ InstanceIds: instanceIds, Limit: 100 })).TotalCount! > 0) {
      if (Date.now() > end) throw new Error(`instances of the scenario still listed a minute after TerminateInstances: ${instanceIds.join(', ')}`);
      await new Promise((ok) => setTimeout(ok, 300));
    }
    // Groups of a scenario reference each other: empty them all before deleting any.
    for (const id of built.groupIds) await box.vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '0' } });
    for (const id of built.groupIds) await box.vpc.DeleteSecurityGroup({ SecurityGroupId: id });
    for (const id of built.vpcIds) {
      const subnets = (await box.vpc.DescribeSubnets({ Filters: [{ Name: 'vpc-id', Values: [id] }] })).SubnetSet!;
      for (const sn of subnets) await box.vpc.DeleteSubnet({ SubnetId: sn.SubnetId! });
      await box.vpc.DeleteVpc({ VpcId: id });
    }
  }

  /** Every instance RUNNING, and every host has applied the documents of the last placement in its VPCs. */
  async function converged(ids: string[]) {
    const end = Date.now() + 90_000;
    for (;;) {
      const states = (await box.cvm.DescribeInstances({ InstanceIds: ids, Limit: 100 })).InstanceSet!.map((i) => i.InstanceState);
      if (states.every((x) => x === 'RUNNING')) {
        const db = new Database(dbFile, { readonly: true, fileMustExist: true });
        try {
          const behind = db
            .prepare(
              `select h.id from hosts h where h.applied_revision < (select coalesce(max(i2.placed_revision), 0) from instances i2
                 where i2.vpc_id in (select i.vpc_id from instances i where i.host_id = h.id))`,
            )
            .all();
          if (!behind.length) return;
        } finally {
          db.close();
        }
      }
      if (Date.now() > end) throw new Error(`region did not converge: ${states.join(',')}`);
      await new Promise((ok) => setTimeout(ok, 300));
    }
  }

  it('agrees with ping, TCP connect and UDP echo on every pair', { timeout: 30 * 60_000 }, async (t) => {
    const runs = Number(process.env.WEFT_DIFF_SCENARIOS ?? 1);
    const seeds = process.env.WEFT_DIFF_SEED ? [Number(process.env.WEFT_DIFF_SEED)] : Array.from({ length: runs }, () => Math.floor(Math.random() * 2 ** 31));
    let pairs = 0;
    let probes = 0;
    let reachable = 0;
    const disagreements: string[] = [];
    for (const seed of seeds) {
      const s = generate(seed);
      const built = await build(s);
      const ids = built.ids;
      await converged(Object.values(ids));
      for (const n of s.nextHops) {
        const r = await box.exec(ids[n]!, ['ip', 'addr', 'add', `${ROUTED}/32`, 'dev', 'lo']);
        assert.equal(r.code, 0, r.out);
      }
      const stops = s.instances.map((i) => box.spawnIn(ids[i.name]!, ['node', PROBE, 'serve', TCP_PORTS.join(','), UDP_PORTS.join(',')]));
      await new Promise((ok) => setTimeout(ok, 1500));
      const destinations = [...new Set([...s.instances.map((i) => i.ip), '10.0.1.1', '10.0.2.1', '10.0.1.99', ROUTED])];
      // A next hop holds the routed address on its own lo: traffic it sends there never leaves it (the tracer sees only routers).
      const flows = s.instances.flatMap((src) =>
        destinations.filter((dst) => !(dst === ROUTED && s.nextHops.includes(src.name))).flatMap((dst) => [
          { src, dst, proto: 'ICMP' as const },
          { src, dst, proto: 'TCP' as const, port: s.tcpPort },
          { src, dst, proto: 'UDP' as const, port: s.udpPort },
        ]),
      );
      const probe = async (f: (typeof flows)[number]) => {
        const id = ids[f.src.name]!;
        const cmd =
          f.proto === 'ICMP'
            ? ['ping', '-c1', '-W1', '-n', '-q', f.dst]
            : f.proto === 'TCP'
              ? ['nc', '-z', '-w1', f.dst, String(f.port)]
              : ['node', PROBE, 'udp', f.dst, String(f.port)];
        return (await box.exec(id, cmd, 5000)).code === 0;
      };
      await pool(flows, 12, async (f) => {
        const ask = () =>
          call('TraceVpcFlow', { SourceInstanceId: ids[f.src.name], DestinationIpAddress: f.dst, Protocol: f.proto, ...(f.port ? { Port: f.port } : {}), Reply: true });
        let traced = await ask();
        // Routes, ACLs and peering come after the instances: until every host of the trace has applied its document, the kernel lags the tracer.
        for (let wait = 0; traced.PendingHostSet?.length && wait < 60; wait++) {
          await new Promise((ok) => setTimeout(ok, 500));
          traced = await ask();
        }
        // Reachable: the request arrives and its reply comes back (a loopback trace has no separate reply),
        // or the router answers an echo for its own address.
        const predicted =
          traced.Code === 'loopback' ||
          (traced.Verdict === 'delivered' ? traced.Reply?.Verdict === 'delivered' : traced.Verdict === 'answered' && f.proto === 'ICMP' && traced.Reply?.Verdict !== 'dropped');
        let real = await probe(f);
        // A probe can lose a race with the kernel (ARP, a listener still starting): ask twice more before calling it a disagreement.
        for (let retry = 0; retry < 2 && real !== predicted; retry++) {
          await new Promise((ok) => setTimeout(ok, 1000));
          real = await probe(f);
        }
        probes++;
        if (predicted) reachable++;
        if (real !== predicted)
          disagreements.push(
            `seed ${seed}: ${f.src.name} (${f.src.ip}, vpc ${f.src.vpc}) → ${f.dst} ${f.proto}${f.port ? `/${f.port}` : ''}: tracer ${predicted ? 'reaches' : 'does not reach'}, kernel ${real ? 'reaches' : 'does not reach'}\n${traced.Text}`,
          );
      });
      pairs += flows.length / 3;
      for (const stop of stops) stop();
      if (disagreements.length) console.log(`scenario of seed ${seed}:\n${JSON.stringify(s, null, 2)}`);
      await teardown(built);
    }
    const summary = `differential: ${seeds.length} scenario(s) (seeds ${seeds.join(', ')}), ${pairs} source × destination pairs, ${probes} probes (${reachable} reachable, ${probes - reachable} not), ${disagreements.length} disagreement(s)`;
    console.log(summary);
    t.diagnostic(summary);
    assert.deepEqual(disagreements, []);
  });
});
