import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostDocument, NatContext } from '../../../src/contract/host-document.js';
import { ANNOUNCE_TABLE, NAT_TABLE_BASE, digestOf, natTableText, parseTableComment, planGatewayNat, type GatewayNsState } from '../../../src/dataplane/linux/nat-gateway.js';

const link = (vni: number) => `x${vni}`;
const nat: NatContext = {
  zone: 101,
  rank: 1,
  gateways: [
    {
      natGatewayId: 'nat-a',
      publicIps: ['198.51.100.7', '198.51.100.8'],
      snat: [
        { natGatewaySnatId: 'snat-eni', source: '10.0.1.12/32', publicIps: ['198.51.100.8'] },
        { natGatewaySnatId: 'snat-subnet', source: '10.0.1.0/24', publicIps: ['198.51.100.7', '198.51.100.8'] },
      ],
      dnat: [{ protocol: 'tcp', publicIp: '198.51.100.7', publicPort: 8080, privateIp: '10.0.1.11', privatePort: 80 }],
    },
  ],
};
const doc = (n?: NatContext): HostDocument => ({
  hostId: 'gw1',
  revision: 1,
  underlay: '100.64.1.11',
  role: 'gateway',
  vpcs: [{ vpcId: 'vpc-a', vni: 100, routerMac: '0a:00:00:00:00:02', subnets: [], ports: [], remotes: [], securityGroups: {}, groupMembers: {}, eips: [], ...(n ? { nat: n } : {}) }],
});
const empty: GatewayNsState = { rules: [], tableRoutes: [] };

describe('gateway namespace: NAT plan', () => {
  it('renders zones, marks, DNAT and SNAT (most specific source first, a hash over several EIPs)', () => {
    const text = natTableText([{ vni: 100, link: 'x100', nat }]);
    assert.match(text, /"x100" : 101/);
    assert.match(text, /198\.51\.100\.7 : 101, 198\.51\.100\.8 : 101/);
    assert.match(text, /198\.51\.100\.7 \. tcp \. 8080 : 10\.0\.1\.11 \. 80/);
    const snat = text.split('\n').filter((l) => l.includes(' snat '));
    assert.deepEqual(snat, [
      '    oifname "i0" ct zone 101 ip saddr 10.0.1.12/32 snat ip to 198.51.100.8',
      '    oifname "i0" ct zone 101 ip saddr 10.0.1.0/24 snat ip to jhash ip saddr mod 2 map { 0 : 198.51.100.7, 1 : 198.51.100.8 }',
    ]);
  });

  it('makes a fresh namespace hold the table, a reply table per zone and the EIPs to announce with the rank as metric', () => {
    const plan = planGatewayNat(doc(nat), empty, link);
    assert.match(plan.nft, /^table ip weftnat\ndelete table ip weftnat\ntable ip weftnat \{\n {2}comment "weft [0-9a-f]{16}"/);
    assert.deepEqual(plan.ip, [
      `rule add priority 30000 iif i0 fwmark 101 lookup ${NAT_TABLE_BASE + 101}`,
      `route replace default via 169.254.0.2 dev x100 onlink table ${NAT_TABLE_BASE + 101}`,
      `route replace blackhole 198.51.100.7/32 proto static metric 1 table ${ANNOUNCE_TABLE}`,
      `route replace blackhole 198.51.100.8/32 proto static metric 1 table ${ANNOUNCE_TABLE}`,
    ]);
  });

  it('plans nothing for a namespace that already matches', () => {
    const comment = `weft ${digestOf(natTableText([{ vni: 100, link: 'x100', nat }]))}`;
    const table = String(NAT_TABLE_BASE + 101);
    const actual: GatewayNsState = {
      natTableComment: parseTableComment(`table ip weftnat {\n\tcomment "${comment}"\n}`),
      rules: [{ priority: 30000, src: 'all', iif: 'i0', table }],
      tableRoutes: [
        { dst: '0.0.0.0/0', type: 'unicast', gateway: '169.254.0.2', dev: 'x100', onlink: true, table },
        { dst: '198.51.100.7/32', type: 'blackhole', onlink: false, table: String(ANNOUNCE_TABLE), metric: 1 },
        { dst: '198.51.100.8/32', type: 'blackhole', onlink: false, table: String(ANNOUNCE_TABLE), metric: 1 },
      ],
    };
    assert.deepEqual(planGatewayNat(doc(nat), actual, link), { nft: '', ip: [] });
    // A new rank: the announcement is deleted and added again (the metric is part of the route's key).
    const ranked = planGatewayNat(doc({ ...nat, rank: 0 }), actual, link);
    assert.deepEqual(ranked.ip, [
      `route del blackhole 198.51.100.7/32 table ${ANNOUNCE_TABLE} metric 1`,
      `route del blackhole 198.51.100.8/32 table ${ANNOUNCE_TABLE} metric 1`,
      `route replace blackhole 198.51.100.7/32 proto static metric 0 table ${ANNOUNCE_TABLE}`,
      `route replace blackhole 198.51.100.8/32 proto static metric 0 table ${ANNOUNCE_TABLE}`,
    ]);
    // The last NAT gateway gone: table, rule and routes go.
    const gone = planGatewayNat(doc(), actual, link);
    assert.equal(gone.nft, 'delete table ip weftnat\n');
    assert.equal(gone.ip.length, 4);
  });

  it('refuses a document it cannot express', () => {
    assert.throws(() => planGatewayNat(doc({ ...nat, zone: 0 }), empty, link), /zone/);
    const bad = { ...nat, gateways: [{ ...nat.gateways[0]!, dnat: [{ ...nat.gateways[0]!.dnat[0]!, publicIp: '203.0.113.1' }] }] };
    assert.throws(() => planGatewayNat(doc(bad), empty, link), /invalid DNAT rule/);
  });
});
