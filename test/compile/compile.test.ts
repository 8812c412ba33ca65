import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost, documentDigest, serialiseDocument, portName, portRanges, routerMac, type HostSpan } from '../../src/compile/compile.js';

const span = (over: Partial<HostSpan> = {}): HostSpan => ({
  host: { id: 'h1', underlay: '100.64.0.11' },
  revision: 7,
  underlays: { h1: '100.64.0.11', h2: '100.64.0.12' },
  vpcs: [
    { id: 'vpc-aaaaaaaa', vni: 100 },
    { id: 'vpc-bbbbbbbb', vni: 101 },
  ],
  instances: [
    { id: 'ins-a1', vpc_id: 'vpc-aaaaaaaa', subnet_id: 'subnet-1', private_ip: '10.0.1.2', mac: '52:54:00:00:00:01', host_id: 'h1' },
    { id: 'ins-a2', vpc_id: 'vpc-aaaaaaaa', subnet_id: 'subnet-2', private_ip: '10.0.2.2', mac: '52:54:00:00:00:02', host_id: 'h2' },
    { id: 'ins-a3', vpc_id: 'vpc-aaaaaaaa', subnet_id: 'subnet-2', private_ip: '10.0.2.3', mac: '52:54:00:00:00:03', host_id: null },
    { id: 'ins-b1', vpc_id: 'vpc-bbbbbbbb', subnet_id: 'subnet-9', private_ip: '10.0.1.2', mac: '52:54:00:00:00:09', host_id: 'h2' },
  ],
  subnets: [{ id: 'subnet-1', cidr: '10.0.1.0/24' }],
  bindings: [
    { instance_id: 'ins-a1', sg_id: 'sg-web', position: 1 },
    { instance_id: 'ins-a1', sg_id: 'sg-base', position: 0 },
    { instance_id: 'ins-a2', sg_id: 'sg-db', position: 0 },
  ],
  policies: [
    { sg_id: 'sg-web', direction: 'ingress', position: 1, protocol: 'TCP', port: '80,443', cidr: '0.0.0.0/0', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT' },
    { sg_id: 'sg-web', direction: 'ingress', position: 0, protocol: 'TCP', port: '22', cidr: '', ipv6_cidr: '', ref_sg_id: 'sg-db', action: 'DROP' },
    { sg_id: 'sg-base', direction: 'egress', position: 0, protocol: 'ALL', port: 'ALL', cidr: '0.0.0.0/0', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT' },
  ],
  ...over,
});

describe('compiler', () => {
  it('puts only the VPCs of local instances in a host document', () => {
    const doc = compileHost(span());
    assert.deepEqual(doc.vpcs.map((v) => v.vpcId), ['vpc-aaaaaaaa']);
    assert.equal(doc.revision, 7);
    assert.equal(doc.underlay, '100.64.0.11');
  });

  it('describes local ports with their subnet, gateway and groups in bound order', () => {
    const [vpc] = compileHost(span()).vpcs;
    assert.deepEqual(vpc!.ports, [
      { instanceId: 'ins-a1', ifname: 'pa1', ip: '10.0.1.2', mac: '52:54:00:00:00:01', subnetId: 'subnet-1', prefix: 24, gateway: '10.0.1.1', securityGroups: ['sg-base', 'sg-web'] },
    ]);
    assert.deepEqual(vpc!.subnets, [{ subnetId: 'subnet-1', cidr: '10.0.1.0/24', gateway: '10.0.1.1' }]);
  });

  it('lists placed remote instances with their host and its tunnel MAC, not unplaced ones', () => {
    const [vpc] = compileHost(span()).vpcs;
    assert.deepEqual(vpc!.remotes, [
      { ip: '10.0.2.2', instanceId: 'ins-a2', hostId: 'h2', underlay: '100.64.0.12', routerMac: routerMac('h2', 100) },
    ]);
  });

  it('orders policies by index and resolves references to member addresses', () => {
    const [vpc] = compileHost(span()).vpcs;
    assert.deepEqual(vpc!.securityGroups['sg-web']!.ingress, [
      { protocol: 'tcp', ports: [[22, 22]], group: 'sg-db', action: 'drop' },
      { protocol: 'tcp', ports: [[80, 80], [443, 443]], cidr: '0.0.0.0/0', action: 'accept' },
    ]);
    assert.deepEqual(vpc!.securityGroups['sg-base']!.egress, [{ protocol: 'all', ports: [], cidr: '0.0.0.0/0', action: 'accept' }]);
    assert.deepEqual(vpc!.groupMembers, { 'sg-db': ['10.0.2.2'] });
  });

  it('is deterministic: input order does not change the document', () => {
    const s = span();
    const shuffled = span({ instances: [...s.instances].reverse(), bindings: [...s.bindings].reverse(), policies: [...s.policies].reverse(), vpcs: [...s.vpcs].reverse() });
    assert.equal(JSON.stringify(compileHost(s)), JSON.stringify(compileHost(shuffled)));
    assert.equal(documentDigest(compileHost(s)), documentDigest(compileHost({ ...s, revision: 99 })), 'the digest ignores the revision');
    assert.notEqual(documentDigest(compileHost(s)), documentDigest(compileHost({ ...s, host: { ...s.host, underlay: '100.64.9.9' } })), 'and covers the rest');
  });

  it('serialises a document once into its JSON (with its revision) and the digest of its content', () => {
    const doc = compileHost({ ...span(), revision: 1234 });
    const { json, digest } = serialiseDocument(doc);
    assert.deepEqual(JSON.parse(Buffer.concat(json).toString()), doc);
    assert.equal(digest, documentDigest({ ...doc, revision: 0 }));
  });

  it('derives stable, distinct tunnel MACs and short port names', () => {
    assert.equal(routerMac('h1', 100), routerMac('h1', 100));
    assert.notEqual(routerMac('h1', 100), routerMac('h2', 100));
    assert.match(routerMac('h1', 100), /^0a(:[0-9a-f]{2}){5}$/);
    assert.ok(portName('ins-abcd1234').length <= 15);
    assert.deepEqual(portRanges('ALL'), []);
    assert.deepEqual(portRanges('8000-8010'), [[8000, 8010]]);
  });
});
