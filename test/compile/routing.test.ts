import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost, linkMac, type HostSpan, type SharedCompile } from '../../src/compile/compile.js';

const A = 'vpc-aaaaaaaa';
const B = 'vpc-bbbbbbbb';
const C = 'vpc-cccccccc';
const ins = (id: string, vpc: string, subnet: string, ip: string, host: string | null, state = 'RUNNING') => ({
  id,
  vpc_id: vpc,
  subnet_id: subnet,
  private_ip: ip,
  mac: `52:54:00:00:00:${id.slice(-2)}`,
  host_id: host,
  state,
});
const route = (id: string, table: string, destination: string, type: string, gateway: string) => ({ id, route_table_id: table, destination, gateway_type: type, gateway_id: gateway });

/** VPC A (10.0.0.0/16) with two subnets on h1/h2; B (10.1.0.0/16) peered with A; C (10.2.0.0/16) peered with B only. */
const span = (over: Partial<HostSpan> = {}): HostSpan => ({
  host: { id: 'h1', underlay: '100.64.0.11' },
  revision: 3,
  underlays: { h1: '100.64.0.11', h2: '100.64.0.12', h3: '100.64.0.13' },
  vpcs: [
    { id: A, vni: 100, cidr: '10.0.0.0/16' },
    { id: B, vni: 101, cidr: '10.1.0.0/16' },
    { id: C, vni: 102, cidr: '10.2.0.0/16' },
  ],
  instances: [
    ins('ins-a1', A, 'subnet-a1', '10.0.1.11', 'h1'),
    ins('ins-f1', A, 'subnet-a2', '10.0.2.21', 'h1'),
    ins('ins-f2', A, 'subnet-a2', '10.0.2.22', 'h2'),
    ins('ins-f3', A, 'subnet-a2', '10.0.2.23', 'h2', 'STOPPED'),
    ins('ins-b1', B, 'subnet-b1', '10.1.1.11', 'h2'),
    ins('ins-c1', C, 'subnet-c1', '10.2.1.11', 'h3'),
  ],
  subnets: [
    { id: 'subnet-a1', vpc_id: A, cidr: '10.0.1.0/24', route_table_id: 'rtb-a2', network_acl_id: 'acl-a1' },
    { id: 'subnet-a2', vpc_id: A, cidr: '10.0.2.0/24', route_table_id: '', network_acl_id: '' },
    { id: 'subnet-b1', vpc_id: B, cidr: '10.1.1.0/24', route_table_id: 'rtb-b1', network_acl_id: '' },
    { id: 'subnet-c1', vpc_id: C, cidr: '10.2.1.0/24', route_table_id: '', network_acl_id: '' },
  ],
  bindings: [],
  policies: [],
  routeTables: [
    { id: 'rtb-a1', vpc_id: A, is_main: 1 },
    { id: 'rtb-a2', vpc_id: A, is_main: 0 },
    { id: 'rtb-a3', vpc_id: A, is_main: 0 },
    { id: 'rtb-b1', vpc_id: B, is_main: 1 },
  ],
  routes: [
    route('rti-1', 'rtb-a2', '192.168.0.0/16', 'NORMAL_CVM', '10.0.2.22'),
    route('rti-2', 'rtb-a2', '192.168.0.0/16', 'NORMAL_CVM', '10.0.2.21'),
    route('rti-3', 'rtb-a2', '192.168.0.0/16', 'NORMAL_CVM', '10.0.2.23'),
    route('rti-4', 'rtb-a2', '172.16.0.0/12', 'NORMAL_CVM', '10.0.2.23'),
    route('rti-5', 'rtb-a2', '10.1.0.0/16', 'PEERCONNECTION', 'pcx-ab'),
    route('rti-6', 'rtb-a2', '10.2.0.0/16', 'PEERCONNECTION', 'pcx-bc'),
    route('rti-7', 'rtb-a3', '192.168.7.0/24', 'NORMAL_CVM', '10.0.2.21'),
    route('rti-8', 'rtb-a2', '0.0.0.0/0', 'NAT', 'nat-x'),
  ],
  aclEntries: [
    { acl_id: 'acl-a1', direction: 'ingress', position: 1, protocol: 'ALL', port: 'ALL', cidr: '10.9.0.1', ipv6_cidr: '', action: 'DROP' },
    { acl_id: 'acl-a1', direction: 'ingress', position: 0, protocol: 'TCP', port: '22,80-90', cidr: '10.0.0.0/8', ipv6_cidr: '', action: 'ACCEPT' },
    { acl_id: 'acl-a1', direction: 'egress', position: 0, protocol: 'TCP', port: '80', cidr: '', ipv6_cidr: '::/0', action: 'ACCEPT' },
  ],
  peerings: [
    { id: 'pcx-ab', vpc_id: A, peer_vpc_id: B },
    { id: 'pcx-bc', vpc_id: B, peer_vpc_id: C },
  ],
  ...over,
});

describe('compiler: route tables, ACLs, peering', () => {
  const doc = compileHost(span());
  const a = doc.vpcs.find((v) => v.vpcId === A)!;

  it('holds the routers of local VPCs and of the VPCs peered with them, not further', () => {
    assert.deepEqual(doc.vpcs.map((v) => v.vpcId), [A, B]);
    const b = doc.vpcs.find((v) => v.vpcId === B)!;
    assert.deepEqual(b.ports, []);
    assert.deepEqual(b.remotes.map((r) => r.instanceId), ['ins-b1']);
    // B–C is not a link on h1: C has no router here.
    assert.deepEqual(b.peerings, [{ peeringId: 'pcx-ab', peerVpcId: A, ifname: 'pcx-ab', mac: linkMac('pcx-ab', B), peerMac: linkMac('pcx-ab', A) }]);
    assert.deepEqual(a.peerings, [{ peeringId: 'pcx-ab', peerVpcId: B, ifname: 'pcx-ab', mac: linkMac('pcx-ab', A), peerMac: linkMac('pcx-ab', B) }]);
  });

  it('groups NORMAL_CVM routes to one destination into one ECMP route over the running next hops', () => {
    const t = a.routeTables!.find((t) => t.routeTableId === 'rtb-a2')!;
    assert.deepEqual(t.subnets, [{ subnetId: 'subnet-a1', cidr: '10.0.1.0/24' }]);
    assert.deepEqual(t.routes, [
      { destination: '10.1.0.0/16', kind: 'peering', peeringId: 'pcx-ab', peerVpcId: B, routeIds: ['rti-5'] },
      // every next hop down: a blackhole, not a fallback
      { destination: '172.16.0.0/12', kind: 'instance', nextHops: [], routeIds: ['rti-4'] },
      {
        destination: '192.168.0.0/16',
        kind: 'instance',
        nextHops: [
          { ip: '10.0.2.21', instanceId: 'ins-f1' },
          { ip: '10.0.2.22', instanceId: 'ins-f2' },
        ],
        routeIds: ['rti-1', 'rti-2', 'rti-3'],
      },
    ]);
  });

  it('leaves out tables no subnet uses, routes over links not here, and next-hop types the data plane lacks', () => {
    assert.deepEqual(a.routeTables!.map((t) => t.routeTableId), ['rtb-a1', 'rtb-a2']);
    const main = a.routeTables!.find((t) => t.main)!;
    assert.deepEqual(main.subnets, [{ subnetId: 'subnet-a2', cidr: '10.0.2.0/24' }], 'a subnet with no table is on the main one');
    assert.deepEqual(main.routes, []);
  });

  it("a host holds the tables of its ports' subnets and those routing to its ports, no others", () => {
    const h2 = compileHost(span({ host: { id: 'h2', underlay: '100.64.0.12' } })).vpcs.find((v) => v.vpcId === A)!;
    // f2 (subnet-a2, main table) is a next hop of rtb-a2; nothing on h2 uses or is routed to by another table.
    assert.deepEqual(h2.routeTables!.map((t) => t.routeTableId), ['rtb-a1', 'rtb-a2']);
    const h3 = compileHost(span({ host: { id: 'h3', underlay: '100.64.0.13' }, instances: [...span().instances, ins('ins-a9', A, 'subnet-a2', '10.0.2.99', 'h3')] })).vpcs.find((v) => v.vpcId === A)!;
    assert.deepEqual(h3.routeTables!.map((t) => t.routeTableId), ['rtb-a1']);
  });

  it('widens anti-spoofing of next hops by the destinations routed to them in any table', () => {
    const f1 = a.ports.find((p) => p.instanceId === 'ins-f1')!;
    assert.deepEqual(f1.routedCidrs, ['192.168.0.0/16'], '192.168.7.0/24 lies inside 192.168.0.0/16');
    assert.equal(a.ports.find((p) => p.instanceId === 'ins-a1')!.routedCidrs, undefined);
  });

  it('binds ACLs to local subnets with entries in order, addresses normalised, IPv6-only entries left out', () => {
    assert.deepEqual(a.subnets, [
      { subnetId: 'subnet-a1', cidr: '10.0.1.0/24', gateway: '10.0.1.1', routeTableId: 'rtb-a2', networkAclId: 'acl-a1' },
      { subnetId: 'subnet-a2', cidr: '10.0.2.0/24', gateway: '10.0.2.1', routeTableId: 'rtb-a1' },
    ]);
    assert.deepEqual(a.networkAcls, {
      'acl-a1': {
        ingress: [
          { protocol: 'tcp', ports: [[22, 22], [80, 90]], cidr: '10.0.0.0/8', action: 'accept' },
          { protocol: 'all', ports: [], cidr: '10.9.0.1/32', action: 'drop' },
        ],
        egress: [],
      },
    });
  });

  it('a stopped instance has no port and its VPC no router here unless it has another reason to', () => {
    const d = compileHost(span({ host: { id: 'h2', underlay: '100.64.0.12' } }));
    const av = d.vpcs.find((v) => v.vpcId === A)!;
    assert.deepEqual(av.ports.map((p) => p.instanceId), ['ins-f2']);
    assert.ok(!av.remotes.some((r) => r.instanceId === 'ins-f3'));
    const only = compileHost(span({ host: { id: 'h2', underlay: '100.64.0.12' }, instances: [ins('ins-f3', A, 'subnet-a2', '10.0.2.23', 'h2', 'STOPPED')], peerings: [] }));
    assert.deepEqual(only.vpcs, []);
  });

  it('a batch of hosts compiled from one snapshot, sharing what is the same on each, gets what each gets alone', () => {
    const hosts = ['h3', 'h2', 'h1', 'h2'].map((id) => ({ id, underlay: `100.64.0.1${id.slice(1)}` }));
    const shared: SharedCompile = new Map();
    const base = span();
    for (const host of hosts) assert.deepEqual(compileHost({ ...base, host }, shared), compileHost(span({ host })), host.id);
    assert.ok(shared.size > 0, 'the batch shared its route tables');
  });

  it('normalises security-group peers once: a bare address is a /32, host bits cleared', () => {
    const d = compileHost(
      span({
        bindings: [{ instance_id: 'ins-a1', sg_id: 'sg-1', position: 0 }],
        policies: [
          { sg_id: 'sg-1', direction: 'ingress', position: 0, protocol: 'TCP', port: '22', cidr: '10.9.8.7', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT' },
          { sg_id: 'sg-1', direction: 'ingress', position: 1, protocol: 'TCP', port: '22', cidr: '10.9.8.7/16', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT' },
        ],
      }),
    );
    const rules = d.vpcs.find((v) => v.vpcId === A)!.securityGroups['sg-1']!.ingress;
    assert.deepEqual(rules.map((r) => r.cidr), ['10.9.8.7/32', '10.9.0.0/16']);
  });
});
