/**
 * VPCs compiled once for all their hosts (compile.ts SharedCompile, VpcForm)
 * give every host the bytes it got when it compiled each VPC itself
 * (compile-oracle.ts, the compiler before): on random regions, with the spans
 * built as load.ts builds them, hosts compiled in random order and batches
 * sharing one SharedCompile, against each host compiled alone by the oracle.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost, serialiseDocument, sharedCompile, type HostSpan } from '../../src/compile/compile.js';
import { compileHostOracle } from './compile-oracle.js';
import type { HostDocument } from '../../src/contract/host-document.js';
import { rng } from '../helpers/rng.js';


type Row<K extends keyof HostSpan> = NonNullable<HostSpan[K]> extends readonly (infer T)[] ? T : never;

interface Region {
  hosts: HostSpan['host'][];
  vpcs: Row<'vpcs'>[];
  instances: Row<'instances'>[];
  subnets: (Row<'subnets'> & { vpc_id: string })[];
  bindings: Row<'bindings'>[];
  policies: Row<'policies'>[];
  routeTables: Row<'routeTables'>[];
  routes: Row<'routes'>[];
  aclEntries: Row<'aclEntries'>[];
  peerings: Row<'peerings'>[];
  addresses: Row<'addresses'>[];
  natGateways: Row<'natGateways'>[];
  natAddresses: Row<'natAddresses'>[];
  snatRules: Row<'snatRules'>[];
  dnatRules: Row<'dnatRules'>[];
  netDetects: Row<'netDetects'>[];
  flowLogs: Row<'flowLogs'>[];
  gatewayAddress?: string;
}

function randomRegion(seed: number): Region {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => r() < p;
  const nHosts = 2 + int(7);
  const hosts: Region['hosts'] = Array.from({ length: nHosts }, (_, h) => ({ id: `h${h + 1}`, underlay: `100.64.0.${h + 1}` }));
  const gateways = Array.from({ length: int(3) }, (_, g) => ({ id: `gw${g + 1}`, underlay: `100.64.1.${g + 1}`, role: 'gateway' }));
  hosts.push(...gateways);
  const region: Region = {
    hosts, vpcs: [], instances: [], subnets: [], bindings: [], policies: [], routeTables: [], routes: [], aclEntries: [], peerings: [], addresses: [],
    natGateways: [], natAddresses: [], snatRules: [], dnatRules: [], netDetects: [], flowLogs: [],
  };
  if (chance(0.7)) region.gatewayAddress = '100.64.255.1';
  const nVpcs = 1 + int(4);
  const groups = Array.from({ length: 2 + int(5) }, (_, g) => `sg-${g}`);
  let ins = 0;
  let eip = 0;
  for (let v = 0; v < nVpcs; v++) {
    const vpcId = `vpc-${v}`;
    region.vpcs.push({ id: vpcId, vni: 100 + v, ...(chance(0.8) ? { cidr: '10.0.0.0/16' } : {}) });
    const tables = Array.from({ length: 1 + int(3) }, (_, t) => ({ id: `rtb-${v}-${t}`, vpc_id: vpcId, is_main: t === 0 ? 1 : 0 }));
    region.routeTables.push(...tables);
    const acls = Array.from({ length: int(3) }, (_, a) => `acl-${v}-${a}`);
    for (const acl of acls)
      for (let e = 0; e < int(4); e++)
        region.aclEntries.push({
          acl_id: acl, direction: pick(['ingress', 'egress'] as const), position: int(3), protocol: pick(['TCP', 'UDP', 'ALL', 'ICMP']), port: pick(['ALL', '22', '80,443', '8000-8010']),
          cidr: chance(0.2) ? '' : pick(['10.0.0.0/16', '0.0.0.0/0', '192.168.1.7']), ipv6_cidr: chance(0.2) ? '::/0' : '', action: pick(['ACCEPT', 'DROP']),
        });
    const subnets = Array.from({ length: 1 + int(4) }, (_, s) => ({
      id: `subnet-${v}-${s}`, vpc_id: vpcId, cidr: `10.0.${s}.0/24`, route_table_id: chance(0.5) ? pick(tables).id : '', network_acl_id: acls.length && chance(0.6) ? pick(acls) : '',
    }));
    region.subnets.push(...subnets);
    const ips: string[] = [];
    const vpcInstances: string[] = [];
    for (let i = 0; i < 1 + int(12); i++) {
      const subnet = pick(subnets);
      const ip = `10.0.${subnet.cidr.split('.')[2]}.${10 + i}`;
      const id = `ins-${String(ins++).padStart(4, '0')}`;
      const placed = chance(0.85) ? pick(hosts.filter((h) => !h.role)).id : null;
      region.instances.push({ id, vpc_id: vpcId, subnet_id: subnet.id, private_ip: ip, mac: `52:54:00:00:${v}:${i}`, host_id: placed, state: pick(['RUNNING', 'RUNNING', 'RUNNING', 'STOPPED', 'PENDING']), eni_id: `eni-${id}` });
      ips.push(ip);
      vpcInstances.push(id);
      const bound = new Set<string>();
      for (let b = 0; b < int(4); b++) {
        const sg = pick(groups);
        if (bound.has(sg)) continue;
        bound.add(sg);
        region.bindings.push({ instance_id: id, sg_id: sg, position: int(3) });
      }
      if (chance(0.2)) region.addresses.push({ ip: `198.51.100.${eip++}`, private_ip: ip, instance_id: id, ...(chance(0.5) ? { bandwidth: pick([0, 5, 100]) } : {}) });
    }
    const nats = chance(0.4) ? [`nat-${v}`] : [];
    for (const nat of nats) {
      region.natGateways.push({ id: nat, vpc_id: vpcId });
      const held = [`203.0.113.${v * 10}`, `203.0.113.${v * 10 + 1}`];
      for (const ip of held) region.natAddresses.push({ ip, nat_gateway_id: nat, ...(chance(0.5) ? { bandwidth: 50 } : {}) });
      region.snatRules.push({ id: `snat-${v}`, nat_gateway_id: nat, private_ip: subnets[0]!.cidr, public_ips: JSON.stringify(held) });
      region.dnatRules.push({ nat_gateway_id: nat, protocol: 'TCP', public_ip: held[0]!, public_port: 80, private_ip: ips[0]!, private_port: 8080 });
    }
    for (let k = 0; k < int(8); k++) {
      const table = pick(tables);
      const type = pick(['NORMAL_CVM', 'NORMAL_CVM', 'NORMAL_CVM', 'EIP', 'NAT', 'PEERCONNECTION', 'VPN']);
      const gatewayId = type === 'NORMAL_CVM' ? pick([...ips, '10.0.9.9']) : type === 'NAT' ? (nats[0] ?? 'nat-gone') : type === 'PEERCONNECTION' ? `pcx-${int(3)}` : '0';
      region.routes.push({ id: `rt-${v}-${k}`, route_table_id: table.id, destination: pick(['192.168.0.0/24', '192.168.1.0/24', '0.0.0.0/0', '172.16.0.0/12', 'bogus']), gateway_type: type, gateway_id: gatewayId });
    }
    if (chance(0.3)) {
      const s = pick(subnets);
      region.netDetects.push({ id: `netd-${v}`, vpc_id: vpcId, subnet_id: s.id, destinations: JSON.stringify([ips[0]]), next_hop_type: pick(['NORMAL_CVM', 'NONEXTHOP']), next_hop_destination: ips[ips.length - 1]!, sources: [`10.0.${s.cidr.split('.')[2]}.250`, `10.0.${s.cidr.split('.')[2]}.251`] });
    }
    if (chance(0.3)) region.flowLogs.push({ id: `fl-${v}`, account: '1', vpc_id: vpcId, resource_type: 'VPC', resource_id: vpcId, traffic_type: 'ALL' });
    if (chance(0.3)) region.flowLogs.push({ id: `fl-${v}-i`, account: '1', vpc_id: vpcId, resource_type: 'NETWORKINTERFACE', resource_id: `eni-${pick(vpcInstances)}`, traffic_type: 'ACCEPT' });
  }
  for (let p = 0; p < int(3); p++) {
    const a = `vpc-${int(nVpcs)}`;
    const b = `vpc-${int(nVpcs)}`;
    if (a !== b) region.peerings.push({ id: `pcx-${p}`, vpc_id: a, peer_vpc_id: b });
  }
  for (const sg of groups)
    for (let k = 0; k < int(5); k++)
      region.policies.push({
        sg_id: sg, direction: pick(['ingress', 'egress'] as const), position: int(4), protocol: pick(['TCP', 'UDP', 'ALL', 'ICMP']), port: pick(['ALL', '22', '80,443', '8000-8010']),
        cidr: pick(['', '10.0.0.0/16', '10.1.2.3']), ipv6_cidr: chance(0.1) ? '2001:db8::1' : '', ref_sg_id: chance(0.4) ? pick(groups) : '', action: pick(['ACCEPT', 'DROP']),
      });
  return region;
}

/** The spans load.ts reads for these hosts from this region (readSpans, as pure code over the rows). */
function spansOf(region: Region, revision: number): HostSpan[] {
  const byVpc = <T extends { vpc_id: string }>(rows: readonly T[], v: string) => rows.filter((x) => x.vpc_id === v);
  const gatewayOrder = region.hosts.filter((h) => h.role === 'gateway').map((h) => h.id).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const withEip = new Set(region.addresses.map((a) => region.instances.find((i) => i.id === a.instance_id)!.vpc_id));
  const placedVpcs = new Set(region.instances.filter((i) => i.host_id).map((i) => i.vpc_id));
  const underlay = new Map(region.hosts.map((h) => [h.id, h.underlay]));
  return region.hosts.map((host) => {
    const gateway = host.role === 'gateway';
    const home = gateway
      ? [...new Set([...withEip, ...region.natGateways.map((n) => n.vpc_id)])]
      : [...new Set(region.instances.filter((i) => i.host_id === host.id).map((i) => i.vpc_id))];
    const peered = gateway ? [] : home.flatMap((v) => region.peerings.flatMap((p) => (!placedVpcs.has(p.vpc_id) && !placedVpcs.has(p.peer_vpc_id) ? [] : p.vpc_id === v ? [p.peer_vpc_id] : p.peer_vpc_id === v ? [p.vpc_id] : [])));
    const present = [...new Set([...home, ...peered])].filter((v) => region.vpcs.some((x) => x.id === v));
    const presentSet = new Set(present);
    const across = <T extends { vpc_id: string }>(rows: readonly T[]) => present.flatMap((v) => byVpc(rows, v));
    const instances = across(region.instances);
    const instanceIds = new Set(instances.map((i) => i.id));
    const tables = across(region.routeTables);
    const tableIds = new Set(tables.map((t) => t.id));
    const mine = instances.filter((i) => i.host_id === host.id);
    const groups = [...new Set(mine.flatMap((i) => region.bindings.filter((b) => b.instance_id === i.id).map((b) => b.sg_id)))];
    const acls = [...new Set(mine.flatMap((i) => region.subnets.find((s) => s.id === i.subnet_id)?.network_acl_id || []))];
    const natGateways = across(region.natGateways);
    const mineNat = new Set(natGateways.map((n) => n.id));
    const span: HostSpan = {
      host,
      revision,
      underlays: Object.fromEntries(instances.flatMap((i) => (i.host_id && underlay.has(i.host_id) ? [[i.host_id, underlay.get(i.host_id)!]] : []))),
      vpcs: present.map((v) => region.vpcs.find((x) => x.id === v)!),
      instances,
      subnets: across(region.subnets),
      bindings: present.flatMap((v) => region.bindings.filter((b) => instanceIds.has(b.instance_id) && region.instances.find((i) => i.id === b.instance_id)!.vpc_id === v)),
      policies: groups.flatMap((g) => region.policies.filter((p) => p.sg_id === g)),
      routeTables: tables,
      routes: present.flatMap((v) => region.routes.filter((r) => tableIds.has(r.route_table_id) && region.routeTables.find((t) => t.id === r.route_table_id)!.vpc_id === v)),
      aclEntries: acls.flatMap((a) => region.aclEntries.filter((e) => e.acl_id === a)),
      peerings: region.peerings.filter((p) => presentSet.has(p.vpc_id) && presentSet.has(p.peer_vpc_id)),
      addresses: present.flatMap((v) => region.addresses.filter((a) => region.instances.find((i) => i.id === a.instance_id)!.vpc_id === v)),
      natGateways,
      gatewayNodes: gatewayOrder,
      loadBalancers: [],
      lbNodes: [],
      netDetects: across(region.netDetects),
      flowLogs: across(region.flowLogs),
    };
    if (region.gatewayAddress) span.gatewayAddress = region.gatewayAddress;
    if (gateway) {
      span.natAddresses = region.natAddresses.filter((a) => mineNat.has(a.nat_gateway_id));
      span.snatRules = region.snatRules.filter((x) => mineNat.has(x.nat_gateway_id));
      span.dnatRules = region.dnatRules.filter((x) => mineNat.has(x.nat_gateway_id));
      span.natFlows = new Map();
    }
    return span;
  });
}

const bytes = (doc: HostDocument) => Buffer.concat(serialiseDocument(doc).json).toString();

describe('compiling each VPC once for all its hosts', () => {
  it('gives every host of 300 random regions the bytes it gets compiled alone by the compiler before', () => {
    let documents = 0;
    let withVpcs = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const region = randomRegion(seed);
      const spans = spansOf(region, seed);
      const expected = new Map(spans.map((s) => [s.host.id, bytes(compileHostOracle(s))]));
      // Hosts in a random order, over two batches that share the snapshot's forms (as the document cache's batches do).
      const r = rng(seed * 7919);
      const order = [...spans].sort(() => r() - 0.5);
      const shared = sharedCompile();
      for (const span of order) {
        const got = bytes(compileHost(span, shared));
        assert.equal(got, expected.get(span.host.id), `seed ${seed}, host ${span.host.id}`);
        documents++;
        if (JSON.parse(got).vpcs.length) withVpcs++;
      }
      // Alone, too (nothing carried over).
      for (const span of spans) assert.equal(bytes(compileHost(span)), expected.get(span.host.id), `seed ${seed}, host ${span.host.id} alone`);
    }
    // The regions were not trivially empty.
    assert.ok(withVpcs > documents / 2, `${withVpcs} of ${documents} documents hold a VPC`);
  });

  it('refuses a span of another revision than the forms it is given', () => {
    const [a] = spansOf(randomRegion(3), 1);
    const shared = sharedCompile();
    compileHost(a!, shared);
    assert.throws(() => compileHost({ ...a!, revision: 2 }, shared), /revision 2 with forms of revision 1/);
  });
});
