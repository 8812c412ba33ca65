/** The forced paths of NetDetect probes in a router namespace, and what the compiler gives the hosts (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { netDetectProbes } from '../../../src/compile/net-detects.js';
import type { VpcContext } from '../../../src/contract/host-document.js';
import { NETDETECT_RULE_PRIORITY, NETDETECT_TABLE_RULE_PRIORITY, netDetectRouting, netDetectTable } from '../../../src/dataplane/linux/net-detect-routes.js';
import { routingWant, TABLE_BASE } from '../../../src/dataplane/linux/route-tables.js';

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

describe('NetDetect forced paths', () => {
  it('routes each destination through its next hop, from the subnet gateway only, after main', () => {
    const want = routingWant(
      vpc([
        { netDetectId: 'netd-1', subnetId: 'subnet-a', destinations: ['192.168.0.1'], nextHop: { type: 'NORMAL_CVM', ip: '10.0.1.3' } },
        { netDetectId: 'netd-2', subnetId: 'subnet-a', destinations: ['192.168.0.2'], nextHop: { type: 'NORMAL_CVM', ip: '10.0.2.7' } },
        { netDetectId: 'netd-3', subnetId: 'subnet-a', destinations: ['192.168.0.3'], nextHop: { type: 'NORMAL_CVM', ip: '10.0.1.99' } },
        { netDetectId: 'netd-4', subnetId: 'subnet-a', destinations: ['10.1.0.5'], nextHop: { type: 'PEERCONNECTION', peeringId: 'pcx-aaaaaaaa' } },
        { netDetectId: 'netd-5', subnetId: 'subnet-a', destinations: ['8.8.8.8'], nextHop: { type: 'NAT', natGatewayId: 'nat-aaaaaaaa' } },
        { netDetectId: 'netd-6', subnetId: 'subnet-b', destinations: ['192.168.9.9'], nextHop: { type: 'NONEXTHOP' } },
      ]),
      { portUsable: () => true, deferredLinks: new Set() },
    );
    const t = netDetectTable(TABLE_BASE, 0);
    const routes = Object.fromEntries([...want.routes].filter(([k]) => k.startsWith(`${t} `)));
    assert.deepEqual(routes, {
      [`${t} 192.168.0.1/32`]: { gateway: '10.0.1.3', dev: 'pn' },
      [`${t} 192.168.0.2/32`]: { gateway: '10.0.2.7', dev: 'vx100' },
      [`${t} 192.168.0.3/32`]: { blackhole: true }, // the next hop is not up
      [`${t} 10.1.0.5/32`]: { gateway: '169.254.0.1', dev: 'pcaaaa' },
      [`${t} 8.8.8.8/32`]: { blackhole: true }, // no owner node in the document
    });
    const mine = want.rules.filter((r) => r.priority === NETDETECT_RULE_PRIORITY || r.priority === NETDETECT_TABLE_RULE_PRIORITY);
    const out = want.rules.find((r) => r.iif === 'pn')!.table;
    assert.deepEqual(mine, [
      { priority: NETDETECT_RULE_PRIORITY, src: '10.0.1.1/32', table: String(t) },
      // NONEXTHOP: where the subnet's own route table sends it.
      { priority: NETDETECT_TABLE_RULE_PRIORITY, src: '10.0.2.1/32', table: out },
    ]);
    assert.ok(NETDETECT_RULE_PRIORITY > 32766, 'after main: instance /32s win, as for the subnet traffic');
  });
  it('holds nothing without detections, and leaves a deferred peering link to its plan', () => {
    const o = { tableBase: TABLE_BASE, hop: () => undefined, outTable: () => 7, peeringGateway: '169.254.0.1', ownerGateway: '169.254.255.2', vxlan: 'vx100', deferredLinks: new Set<string>() };
    assert.deepEqual(netDetectRouting(vpc(undefined), o), { rules: [], routes: [] });
    const deferred = netDetectRouting(vpc([{ netDetectId: 'netd-4', subnetId: 'subnet-a', destinations: ['10.1.0.5'], nextHop: { type: 'PEERCONNECTION', peeringId: 'pcx-aaaaaaaa' } }]), { ...o, deferredLinks: new Set(['pcaaaa']) });
    assert.deepEqual(deferred, { rules: [], routes: [] });
  });
  it('refuses a document address that is not one', () => {
    const o = { tableBase: TABLE_BASE, hop: () => undefined, outTable: () => 7, peeringGateway: '169.254.0.1', ownerGateway: '169.254.255.2', vxlan: 'vx100', deferredLinks: new Set<string>() };
    assert.throws(() => netDetectRouting(vpc([{ netDetectId: 'netd-1', subnetId: 'subnet-a', destinations: ['1.2.3.4; reboot'], nextHop: { type: 'NONEXTHOP' } }]), o), /invalid destination/);
  });
});

describe('NetDetect in host documents', () => {
  const row = (id: string, subnet: string, type: string, dest: string, ips: string[]) => ({ id, vpc_id: 'vpc-a', subnet_id: subnet, destinations: JSON.stringify(ips), next_hop_type: type, next_hop_destination: dest });
  it('gives a host the detections of the subnets it carries, sorted', () => {
    const rows = [row('netd-b', 'subnet-a', 'NAT', 'nat-1', ['9.9.9.9', '1.1.1.1']), row('netd-a', 'subnet-a', 'NONEXTHOP', '', ['2.2.2.2']), row('netd-c', 'subnet-z', 'NORMAL_CVM', '10.0.0.9', ['3.3.3.3'])];
    assert.deepEqual(netDetectProbes(rows, 'vpc-a', ['subnet-a']), [
      { netDetectId: 'netd-a', subnetId: 'subnet-a', destinations: ['2.2.2.2'], nextHop: { type: 'NONEXTHOP' } },
      { netDetectId: 'netd-b', subnetId: 'subnet-a', destinations: ['1.1.1.1', '9.9.9.9'], nextHop: { type: 'NAT', natGatewayId: 'nat-1' } },
    ]);
    assert.deepEqual(netDetectProbes(rows, 'vpc-b', ['subnet-a']), []);
  });
});
