import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost, natOwner, natZone, ownerMac, type HostSpan } from '../../src/compile/compile.js';
import { gatewayNodeAddress } from '../../src/core/region.js';

const A = 'vpc-aaaaaaaa';
const ins = (id: string, ip: string, host: string) => ({ id, vpc_id: A, subnet_id: 'subnet-a', private_ip: ip, mac: `52:54:00:00:00:${id.slice(-2)}`, host_id: host, state: 'RUNNING' });

/** VPC A with a NAT gateway: an SNAT rule for its subnet and one for an interface, a DNAT rule, 0.0.0.0/0 → NAT. */
const span = (host: HostSpan['host']): HostSpan => ({
  host,
  revision: 3,
  underlays: { h1: '100.64.0.11' },
  vpcs: [{ id: A, vni: 100, cidr: '10.0.0.0/16' }],
  instances: [ins('ins-a1', '10.0.1.11', 'h1'), ins('ins-a2', '10.0.1.12', 'h1')],
  subnets: [{ id: 'subnet-a', vpc_id: A, cidr: '10.0.1.0/24', route_table_id: 'rtb-a' }],
  bindings: [],
  policies: [],
  routeTables: [{ id: 'rtb-a', vpc_id: A, is_main: 1 }],
  routes: [{ id: 'rti-1', route_table_id: 'rtb-a', destination: '0.0.0.0/0', gateway_type: 'NAT', gateway_id: 'nat-a' }],
  natGateways: [{ id: 'nat-a', vpc_id: A }],
  gatewayNodes: ['gw1', 'gw2', 'gw3'],
  gatewayAddress: '100.64.255.1',
  natAddresses: [
    { ip: '198.51.100.8', nat_gateway_id: 'nat-a' },
    { ip: '198.51.100.7', nat_gateway_id: 'nat-a' },
  ],
  snatRules: [
    { id: 'snat-subnet', nat_gateway_id: 'nat-a', private_ip: '10.0.1.0/24', public_ips: JSON.stringify(['198.51.100.8', '198.51.100.7']) },
    { id: 'snat-eni', nat_gateway_id: 'nat-a', private_ip: '10.0.1.12', public_ips: JSON.stringify(['198.51.100.8']) },
  ],
  dnatRules: [{ nat_gateway_id: 'nat-a', protocol: 'TCP', public_ip: '198.51.100.7', public_port: 8080, private_ip: '10.0.1.11', private_port: 80 }],
});

describe('compiler: NAT gateways', () => {
  it("routes a host's NAT route to the tunnel address of the node that carries the VPC's NAT traffic", () => {
    const doc = compileHost(span({ id: 'h1', underlay: '100.64.0.11' }));
    const vpc = doc.vpcs[0]!;
    assert.deepEqual(vpc.routeTables![0]!.routes, [{ destination: '0.0.0.0/0', kind: 'nat', natGatewayId: 'nat-a', routeIds: ['rti-1'] }]);
    const owner = natOwner(A, 3);
    assert.deepEqual(vpc.ownerGateway, { underlay: gatewayNodeAddress('100.64.255.1', owner + 1), routerMac: ownerMac(100) });
    assert.equal(vpc.nat, undefined, 'a host translates nothing');
  });

  it('routes a destination of GatewayType EIP to the gateway cluster, by the sender\'s public IP', () => {
    const doc = compileHost({ ...span({ id: 'h1', underlay: '100.64.0.11' }), routes: [{ id: 'rti-2', route_table_id: 'rtb-a', destination: '198.18.0.0/24', gateway_type: 'EIP', gateway_id: '0' }] });
    const vpc = doc.vpcs[0]!;
    assert.deepEqual(vpc.routeTables![0]!.routes, [{ destination: '198.18.0.0/24', kind: 'eip', routeIds: ['rti-2'] }]);
    assert.equal(vpc.publicGateway?.underlay, '100.64.255.1', 'the host reaches the cluster though no port here has an EIP');
  });

  it('leaves a route to a NAT gateway that does not exist out, and no NAT path without gateway nodes', () => {
    const gone = compileHost({ ...span({ id: 'h1', underlay: '100.64.0.11' }), natGateways: [] });
    assert.deepEqual(gone.vpcs[0]!.routeTables![0]!.routes, []);
    assert.equal(gone.vpcs[0]!.ownerGateway, undefined);
    const noNodes = compileHost({ ...span({ id: 'h1', underlay: '100.64.0.11' }), gatewayNodes: [] });
    assert.equal(noNodes.vpcs[0]!.ownerGateway, undefined);
  });

  it('gives every gateway node the same rules and zone, each its own rank: the owner 0, the next 1 …', () => {
    const docs = ['gw1', 'gw2', 'gw3'].map((id, i) => compileHost(span({ id, underlay: `100.64.1.1${i + 1}`, role: 'gateway' })));
    const nats = docs.map((d) => d.vpcs[0]!.nat!);
    assert.deepEqual(nats.map((n) => n.rank).sort(), [0, 1, 2]);
    const owner = natOwner(A, 3);
    assert.equal(nats[owner]!.rank, 0);
    assert.equal(nats[(owner + 1) % 3]!.rank, 1);
    for (const n of nats) {
      assert.equal(n.zone, natZone(100));
      assert.deepEqual(n.gateways, nats[0]!.gateways);
    }
    assert.deepEqual(nats[0]!.gateways, [
      {
        natGatewayId: 'nat-a',
        publicIps: ['198.51.100.7', '198.51.100.8'],
        snat: [
          { natGatewaySnatId: 'snat-eni', source: '10.0.1.12/32', publicIps: ['198.51.100.8'] },
          { natGatewaySnatId: 'snat-subnet', source: '10.0.1.0/24', publicIps: ['198.51.100.7', '198.51.100.8'] },
        ],
        dnat: [{ protocol: 'tcp', publicIp: '198.51.100.7', publicPort: 8080, privateIp: '10.0.1.11', privatePort: 80 }],
      },
    ]);
    assert.deepEqual(docs[0]!.vpcs[0]!.eips, [], 'a NAT-only VPC has no EIP pairs');
    for (const d of docs) assert.equal(d.vpcs[0]!.ownerMac, ownerMac(100), 'every node answers the owner MAC');
  });

  it('pins an EIP with a small limit to the owner node: the port says so, the host gets the owner path, every node enforces all of it', () => {
    const withEips = (host: HostSpan['host']): HostSpan => ({
      ...span(host),
      routes: [],
      addresses: [
        { ip: '203.0.113.5', private_ip: '10.0.1.11', instance_id: 'ins-a1', bandwidth: 5 },
        { ip: '203.0.113.6', private_ip: '10.0.1.12', instance_id: 'ins-a2', bandwidth: 100 },
      ],
    });
    const host = compileHost(withEips({ id: 'h1', underlay: '100.64.0.11' })).vpcs[0]!;
    assert.deepEqual(host.ports.map((p) => [p.publicIp, p.publicPinned]), [['203.0.113.5', true], ['203.0.113.6', undefined]]);
    assert.equal(host.ownerGateway?.underlay, gatewayNodeAddress('100.64.255.1', natOwner(A, 3) + 1));
    const gw = compileHost(withEips({ id: 'gw2', underlay: '100.64.1.12', role: 'gateway' }));
    assert.equal(gw.gatewayNodes, 3);
    assert.deepEqual(gw.vpcs[0]!.eips, [
      { publicIp: '203.0.113.5', privateIp: '10.0.1.11', instanceId: 'ins-a1', bandwidthMbps: 5, pinned: true },
      { publicIp: '203.0.113.6', privateIp: '10.0.1.12', instanceId: 'ins-a2', bandwidthMbps: 100 },
    ]);
  });

  it("gives a gateway node its NAT EIPs' own limits", () => {
    const withLimits = { ...span({ id: 'gw1', underlay: '100.64.1.11', role: 'gateway' }) };
    withLimits.natAddresses = [
      { ip: '198.51.100.7', nat_gateway_id: 'nat-a', bandwidth: 50 },
      { ip: '198.51.100.8', nat_gateway_id: 'nat-a', bandwidth: 0 },
    ];
    assert.deepEqual(compileHost(withLimits).vpcs[0]!.nat!.gateways[0]!.eipBandwidthMbps, { '198.51.100.7': 50 });
  });

  it('keeps zones within 1–65535 and spreads VPCs over the nodes', () => {
    assert.equal(natZone(65535), 1);
    assert.equal(natZone(100), 101);
    const owners = new Set(Array.from({ length: 50 }, (_, i) => natOwner(`vpc-${i.toString(36).padStart(8, '0')}`, 4)));
    assert.equal(owners.size, 4);
  });
});
