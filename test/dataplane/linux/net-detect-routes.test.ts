/** The forced paths of NetDetect probes in a router namespace, and what the compiler gives the hosts (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { netDetectProbes, placeNetDetects, sourceEndpoints } from '../../../src/compile/net-detects.js';
import type { NetDetectProbe, VpcContext } from '../../../src/contract/host-document.js';
import { NETDETECT_RULE_PRIORITY, NETDETECT_TABLE_RULE_PRIORITY, netDetectRouting, netDetectTable } from '../../../src/dataplane/linux/net-detect-routes.js';
import { PORT_RULE_PRIORITY, routingWant, TABLE_BASE, TUNNEL_RULE_PRIORITY } from '../../../src/dataplane/linux/route-tables.js';

const vpc = (netDetects: VpcContext['netDetects'], over: Partial<VpcContext> = {}): VpcContext => ({
  vpcId: 'vpc-a',
  vni: 100,
  routerMac: '02:00:00:00:00:01',
  cidr: '10.0.0.0/16',
  subnets: [
    { subnetId: 'subnet-a', cidr: '10.0.1.0/24', gateway: '10.0.1.1', routeTableId: 'rtb-aaaaaaaa' },
    { subnetId: 'subnet-b', cidr: '10.0.2.0/24', gateway: '10.0.2.1', routeTableId: 'rtb-aaaaaaaa' },
  ],
  ports: [{ instanceId: 'ins-n', ifname: 'pn', ip: '10.0.1.3', mac: '02:00:00:00:00:03', subnetId: 'subnet-a', prefix: 24, gateway: '10.0.1.1', securityGroups: [] }],
  remotes: [{ ip: '10.0.2.7', instanceId: 'ins-r', hostId: 'h2', underlay: '100.64.0.12', routerMac: '02:00:00:00:00:02' }],
  securityGroups: {},
  groupMembers: {},
  routeTables: [{ routeTableId: 'rtb-aaaaaaaa', main: true, subnets: [], routes: [] }],
  peerings: [{ peeringId: 'pcx-aaaaaaaa', peerVpcId: 'vpc-b', ifname: 'pcaaaa', mac: '02:00:00:00:00:0a', peerMac: '02:00:00:00:00:0b' }],
  netDetects,
  ...over,
});

const d = (id: string, subnetId: string, destinations: string[], nextHop: NetDetectProbe['nextHop'], sources = [`10.0.1.${10 + Number(id.slice(-1))}`]): NetDetectProbe => ({
  netDetectId: id,
  subnetId,
  sources,
  local: sources,
  destinations,
  nextHop,
});

describe('NetDetect forced paths', () => {
  it('routes each destination through its next hop, from the detection sources only, after main', () => {
    const detections = [
      d('netd-1', 'subnet-a', ['192.168.0.1'], { type: 'NORMAL_CVM', ip: '10.0.1.3' }, ['10.0.1.11', '10.0.1.21']),
      d('netd-2', 'subnet-a', ['192.168.0.2'], { type: 'NORMAL_CVM', ip: '10.0.2.7' }),
      d('netd-3', 'subnet-a', ['192.168.0.3'], { type: 'NORMAL_CVM', ip: '10.0.1.99' }),
      d('netd-4', 'subnet-a', ['10.1.0.5'], { type: 'PEERCONNECTION', peeringId: 'pcx-aaaaaaaa' }),
      d('netd-5', 'subnet-a', ['8.8.8.8'], { type: 'NAT', natGatewayId: 'nat-aaaaaaaa' }),
      d('netd-6', 'subnet-b', ['192.168.9.9'], { type: 'NONEXTHOP' }),
    ];
    const want = routingWant(vpc(detections), { portUsable: () => true, deferredLinks: new Set() });
    const routes = Object.fromEntries([...want.routes].filter(([k]) => Number(k.split(' ')[0]) < TABLE_BASE - 0x1000));
    const t = (i: number) => netDetectTable(TABLE_BASE, i);
    assert.deepEqual(routes, {
      [`${t(0)} 192.168.0.1/32`]: { gateway: '10.0.1.3', dev: 'pn' },
      [`${t(1)} 192.168.0.2/32`]: { gateway: '10.0.2.7', dev: 'vx100' },
      [`${t(2)} 192.168.0.3/32`]: { blackhole: true }, // the next hop is not up
      [`${t(3)} 10.1.0.5/32`]: { gateway: '169.254.0.1', dev: 'pcaaaa' },
      [`${t(4)} 8.8.8.8/32`]: { blackhole: true }, // no owner node in the document
    });
    const mine = want.rules.filter((r) => r.priority === NETDETECT_RULE_PRIORITY || r.priority === NETDETECT_TABLE_RULE_PRIORITY);
    const out = want.rules.find((r) => r.iif === 'pn')!.table;
    assert.deepEqual(mine, [
      { priority: NETDETECT_RULE_PRIORITY, src: '10.0.1.11/32', table: String(t(0)) },
      { priority: NETDETECT_RULE_PRIORITY, src: '10.0.1.21/32', table: String(t(0)) },
      { priority: NETDETECT_RULE_PRIORITY, src: '10.0.1.12/32', table: String(t(1)) },
      { priority: NETDETECT_RULE_PRIORITY, src: '10.0.1.13/32', table: String(t(2)) },
      { priority: NETDETECT_RULE_PRIORITY, src: '10.0.1.14/32', table: String(t(3)) },
      { priority: NETDETECT_RULE_PRIORITY, src: '10.0.1.15/32', table: String(t(4)) },
      // NONEXTHOP: where the subnet's own route table sends it.
      { priority: NETDETECT_TABLE_RULE_PRIORITY, src: '10.0.1.16/32', table: out },
    ]);
    assert.ok(NETDETECT_RULE_PRIORITY > 32766, 'after main: instance /32s win, as for the subnet traffic');
    assert.ok(NETDETECT_TABLE_RULE_PRIORITY < PORT_RULE_PRIORITY && NETDETECT_RULE_PRIORITY < TUNNEL_RULE_PRIORITY, 'before the tunnel rule: a probe arriving at its next hop host is forced there too');
  });
  it('holds nothing without detections, and leaves a deferred peering link to its plan', () => {
    const o = { tableBase: TABLE_BASE, hop: () => undefined, outTable: () => 7, peeringGateway: '169.254.0.1', ownerGateway: '169.254.255.2', vxlan: 'vx100', deferredLinks: new Set<string>() };
    assert.deepEqual(netDetectRouting(vpc(undefined), o), { rules: [], routes: [] });
    const deferred = netDetectRouting(vpc([d('netd-4', 'subnet-a', ['10.1.0.5'], { type: 'PEERCONNECTION', peeringId: 'pcx-aaaaaaaa' })]), { ...o, deferredLinks: new Set(['pcaaaa']) });
    assert.deepEqual(deferred, { rules: [], routes: [] });
  });
  it('refuses a document address that is not one', () => {
    const o = { tableBase: TABLE_BASE, hop: () => undefined, outTable: () => 7, peeringGateway: '169.254.0.1', ownerGateway: '169.254.255.2', vxlan: 'vx100', deferredLinks: new Set<string>() };
    assert.throws(() => netDetectRouting(vpc([d('netd-1', 'subnet-a', ['1.2.3.4; reboot'], { type: 'NONEXTHOP' })]), o), /invalid address/);
    assert.throws(() => netDetectRouting(vpc([d('netd-1', 'subnet-a', ['1.2.3.4'], { type: 'NONEXTHOP' }, ['x'])]), o), /invalid address/);
  });
});

describe('NetDetect in host documents', () => {
  const row = (id: string, subnet: string, type: string, dest: string, ips: string[], sources = ['10.0.1.8', '10.0.1.9']) => ({ id, vpc_id: 'vpc-a', subnet_id: subnet, destinations: JSON.stringify(ips), next_hop_type: type, next_hop_destination: dest, sources });
  const rows = [row('netd-b', 'subnet-a', 'NAT', 'nat-1', ['9.9.9.9', '1.1.1.1'], ['10.0.1.6', '10.0.1.7']), row('netd-a', 'subnet-a', 'NONEXTHOP', '', ['2.2.2.2']), row('netd-c', 'subnet-z', 'NORMAL_CVM', '10.0.0.9', ['3.3.3.3'], ['10.0.9.8', '10.0.9.9'])];
  it('places the two sources on two hosts of the subnet, one host holds both when it is alone, none when no host has it', () => {
    const two = placeNetDetects(rows, 'vpc-a', new Map([['subnet-a', ['h1', 'h2', 'h3']], ['subnet-z', ['h4']]]));
    assert.deepEqual(two.map((p) => p.row.id), ['netd-a', 'netd-b', 'netd-c']);
    for (const p of two.slice(0, 2)) assert.equal(new Set(p.hosts.values()).size, 2, `${p.row.id}: two hosts`);
    assert.deepEqual([...two[2]!.hosts], [['10.0.9.8', 'h4'], ['10.0.9.9', 'h4']]);
    assert.deepEqual(placeNetDetects(rows, 'vpc-b', new Map([['subnet-a', ['h1']]])), []);
    assert.equal(placeNetDetects(rows, 'vpc-a', new Map()).every((p) => p.hosts.size === 0), true);
  });
  it('moves only the sources of a host that leaves (rendezvous)', () => {
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h5'];
    const many = Array.from({ length: 40 }, (_, i) => row(`netd-${String(i).padStart(8, '0')}`, 'subnet-a', 'NONEXTHOP', '', ['2.2.2.2']));
    const before = placeNetDetects(many, 'vpc-a', new Map([['subnet-a', hosts]]));
    const after = placeNetDetects(many, 'vpc-a', new Map([['subnet-a', hosts.filter((h) => h !== 'h3')]]));
    before.forEach((p, i) => {
      if (![...p.hosts.values()].includes('h3')) assert.deepEqual([...after[i]!.hosts], [...p.hosts], p.row.id);
    });
  });
  it('gives the probing hosts and the next hop host the detection; remote endpoints elsewhere', () => {
    const placed = placeNetDetects(rows, 'vpc-a', new Map([['subnet-a', ['h1']], ['subnet-z', ['h4']]]));
    assert.deepEqual(netDetectProbes(placed, 'h1', new Set()), [
      { netDetectId: 'netd-a', subnetId: 'subnet-a', sources: ['10.0.1.8', '10.0.1.9'], local: ['10.0.1.8', '10.0.1.9'], destinations: ['2.2.2.2'], nextHop: { type: 'NONEXTHOP' } },
      { netDetectId: 'netd-b', subnetId: 'subnet-a', sources: ['10.0.1.6', '10.0.1.7'], local: ['10.0.1.6', '10.0.1.7'], destinations: ['1.1.1.1', '9.9.9.9'], nextHop: { type: 'NAT', natGatewayId: 'nat-1' } },
    ]);
    // h2 holds the NORMAL_CVM next hop of netd-c: it forwards the probes, it does not probe.
    assert.deepEqual(netDetectProbes(placed, 'h2', new Set(['10.0.0.9'])), [
      { netDetectId: 'netd-c', subnetId: 'subnet-z', sources: ['10.0.9.8', '10.0.9.9'], local: [], destinations: ['3.3.3.3'], nextHop: { type: 'NORMAL_CVM', ip: '10.0.0.9' } },
    ]);
    assert.deepEqual(netDetectProbes(placed, 'h9', new Set()), []);
    const at = (hostId: string) => (hostId === 'h1' ? { hostId, underlay: '100.64.0.11', routerMac: '02:00:00:00:00:11' } : undefined);
    assert.deepEqual(sourceEndpoints(placed, at), [
      { ip: '10.0.1.8', instanceId: 'netd-a', hostId: 'h1', underlay: '100.64.0.11', routerMac: '02:00:00:00:00:11' },
      { ip: '10.0.1.9', instanceId: 'netd-a', hostId: 'h1', underlay: '100.64.0.11', routerMac: '02:00:00:00:00:11' },
      { ip: '10.0.1.6', instanceId: 'netd-b', hostId: 'h1', underlay: '100.64.0.11', routerMac: '02:00:00:00:00:11' },
      { ip: '10.0.1.7', instanceId: 'netd-b', hostId: 'h1', underlay: '100.64.0.11', routerMac: '02:00:00:00:00:11' },
    ]);
  });
});
