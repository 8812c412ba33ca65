import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost, gatewayMac, type HostSpan } from '../../src/compile/compile.js';

const A = 'vpc-aaaaaaaa';
const B = 'vpc-bbbbbbbb';
const ins = (id: string, vpc: string, ip: string, host: string, state = 'RUNNING') => ({ id, vpc_id: vpc, subnet_id: `subnet-${vpc.slice(-1)}`, private_ip: ip, mac: `52:54:00:00:00:${id.slice(-2)}`, host_id: host, state });

/** VPC A with an EIP on a running and on a stopped instance, VPC B peered with A and without EIPs. */
const span = (host: HostSpan['host']): HostSpan => ({
  host,
  revision: 9,
  underlays: { h1: '100.64.0.11', h2: '100.64.0.12' },
  vpcs: [
    { id: A, vni: 100, cidr: '10.0.0.0/16' },
    { id: B, vni: 101, cidr: '10.1.0.0/16' },
  ],
  instances: [ins('ins-a1', A, '10.0.1.11', 'h1'), ins('ins-a2', A, '10.0.1.12', 'h2'), ins('ins-a3', A, '10.0.1.13', 'h2', 'STOPPED'), ins('ins-b1', B, '10.1.1.11', 'h2')],
  subnets: [
    { id: 'subnet-a', vpc_id: A, cidr: '10.0.1.0/24' },
    { id: 'subnet-b', vpc_id: B, cidr: '10.1.1.0/24' },
  ],
  bindings: [],
  policies: [],
  peerings: [{ id: 'pcx-ab', vpc_id: A, peer_vpc_id: B }],
  addresses: [
    { ip: '203.0.113.7', private_ip: '10.0.1.12', instance_id: 'ins-a2' },
    { ip: '198.51.100.9', private_ip: '10.0.1.11', instance_id: 'ins-a1' },
    { ip: '198.51.100.3', private_ip: '10.0.1.13', instance_id: 'ins-a3' },
  ],
});

describe('compiler: gateways and elastic IPs', () => {
  it("gives a gateway the VPCs with bound EIPs, without ports or peers: every running instance as a remote, the running ones' EIPs", () => {
    const doc = compileHost(span({ id: 'gw1', underlay: '100.64.1.11', role: 'gateway' }));
    assert.equal(doc.role, 'gateway');
    assert.deepEqual(doc.vpcs.map((v) => v.vpcId), [A], 'B has no EIP: not on the gateway, though peered with A');
    const [a] = doc.vpcs;
    assert.deepEqual(a!.ports, []);
    assert.equal(a!.peerings, undefined);
    assert.deepEqual(a!.remotes.map((r) => r.instanceId), ['ins-a1', 'ins-a2'], 'the stopped instance has no port to reach');
    assert.deepEqual(a!.eips, [
      { publicIp: '198.51.100.9', privateIp: '10.0.1.11', instanceId: 'ins-a1', bandwidthMbps: 0 },
      { publicIp: '203.0.113.7', privateIp: '10.0.1.12', instanceId: 'ins-a2', bandwidthMbps: 0 },
    ]);
  });

  it('gives every gateway the same router MAC per VPC (any gateway may carry any packet)', () => {
    const mac = (id: string) => compileHost(span({ id, underlay: '100.64.1.1', role: 'gateway' })).vpcs[0]!.routerMac;
    assert.equal(mac('gw1'), gatewayMac(100));
    assert.equal(mac('gw2'), gatewayMac(100));
    assert.notEqual(gatewayMac(100), gatewayMac(101));
  });

  it("sends a host's EIP ports to the region's gateway cluster, when the region has one", () => {
    const withCluster = compileHost({ ...span({ id: 'h2', underlay: '100.64.0.12' }), gatewayAddress: '100.64.255.1' });
    assert.deepEqual(withCluster.vpcs.find((v) => v.vpcId === A)!.publicGateway, { underlay: '100.64.255.1', routerMac: gatewayMac(100) });
    assert.equal(withCluster.vpcs.find((v) => v.vpcId === B)!.publicGateway, undefined, 'no EIP port in B');
    assert.equal(compileHost(span({ id: 'h2', underlay: '100.64.0.12' })).vpcs.find((v) => v.vpcId === A)!.publicGateway, undefined);
  });

  it('marks the port of an instance with an EIP, and leaves a host without role or eips', () => {
    const doc = compileHost(span({ id: 'h2', underlay: '100.64.0.12' }));
    assert.equal(doc.role, undefined);
    const a = doc.vpcs.find((v) => v.vpcId === A)!;
    assert.deepEqual(a.ports.map((p) => [p.instanceId, p.publicIp]), [['ins-a2', '203.0.113.7']]);
    assert.equal(a.eips, undefined);
    const b = doc.vpcs.find((v) => v.vpcId === B)!;
    assert.equal(b.ports[0]!.publicIp, undefined);
  });

  it('gives a gateway nothing while no EIP is bound to a running instance', () => {
    const doc = compileHost({ ...span({ id: 'gw2', underlay: '100.64.1.12', role: 'gateway' }), addresses: [{ ip: '198.51.100.3', private_ip: '10.0.1.13', instance_id: 'ins-a3' }] });
    assert.deepEqual(doc.vpcs, []);
  });
});
