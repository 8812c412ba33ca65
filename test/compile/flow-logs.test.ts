import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flowLogCaptures, type FlowLogSpanRow } from '../../src/compile/flow-logs.js';
import type { Port } from '../../src/contract/host-document.js';
import { desiredTables, renderTable } from '../../src/dataplane/linux/nft-ruleset.js';

const port = (instanceId: string, ip: string, subnetId: string): Port => ({ instanceId, ifname: `p${instanceId.slice(4)}`, ip, mac: '52:54:00:00:00:01', subnetId, prefix: 24, gateway: '10.0.1.1', securityGroups: ['sg-aaaaaaaa'] });
const ports = [port('ins-bbbbbbbb', '10.0.2.9', 'subnet-b'), port('ins-aaaaaaaa', '10.0.1.9', 'subnet-a')];
const eniOf = new Map([
  ['ins-aaaaaaaa', 'eni-aaaaaaaa'],
  ['ins-bbbbbbbb', 'eni-bbbbbbbb'],
]);
const row = (id: string, resource_type: string, resource_id: string, traffic_type = 'ALL', vpc_id = 'vpc-1'): FlowLogSpanRow => ({ id, account: '100001', vpc_id, resource_type, resource_id, traffic_type });

test('flowLogCaptures: each covering log with the covered local ports (sorted by address), nothing for logs that cover none here', () => {
  const out = flowLogCaptures(
    [
      row('fl-3', 'NETWORKINTERFACE', 'eni-bbbbbbbb', 'REJECT'),
      row('fl-1', 'VPC', 'vpc-1'),
      row('fl-2', 'SUBNET', 'subnet-a', 'ACCEPT'),
      row('fl-4', 'SUBNET', 'subnet-elsewhere'),
      row('fl-5', 'NETWORKINTERFACE', 'eni-gone'),
      row('fl-6', 'VPC', 'vpc-2', 'ALL', 'vpc-2'),
    ],
    'vpc-1',
    ports,
    eniOf,
  );
  assert.deepEqual(out, [
    { flowLogId: 'fl-1', accountId: '100001', trafficType: 'ALL', interfaces: [{ ip: '10.0.1.9', eniId: 'eni-aaaaaaaa' }, { ip: '10.0.2.9', eniId: 'eni-bbbbbbbb' }] },
    { flowLogId: 'fl-2', accountId: '100001', trafficType: 'ACCEPT', interfaces: [{ ip: '10.0.1.9', eniId: 'eni-aaaaaaaa' }] },
    { flowLogId: 'fl-3', accountId: '100001', trafficType: 'REJECT', interfaces: [{ ip: '10.0.2.9', eniId: 'eni-bbbbbbbb' }] },
  ]);
});

test('the router logs its security-group drops to NFLOG only while a REJECT or ALL log covers the VPC, with the side that dropped', () => {
  const vpc = (flowLogs?: { trafficType: 'ACCEPT' | 'REJECT' | 'ALL' }[]) => ({
    vpcId: 'vpc-1',
    vni: 1,
    routerMac: '52:54:00:00:00:02',
    subnets: [],
    ports: [ports[1]!],
    remotes: [],
    securityGroups: { 'sg-aaaaaaaa': { ingress: [{ protocol: 'tcp' as const, ports: [[22, 22]] as [number, number][], cidr: '10.0.0.0/8', action: 'drop' as const }], egress: [] } },
    groupMembers: {},
    ...(flowLogs ? { flowLogs: flowLogs.map((f, i) => ({ flowLogId: `fl-${i}`, accountId: '1', trafficType: f.trafficType, interfaces: [] })) } : {}),
  });
  const text = (v: ReturnType<typeof vpc>) => desiredTables(v).map(renderTable).join('\n');
  for (const v of [vpc(), vpc([{ trafficType: 'ACCEPT' }])]) assert.ok(!text(v).includes('log '), 'no log statement without a REJECT/ALL log');
  const logged = text(vpc([{ trafficType: 'ACCEPT' }, { trafficType: 'REJECT' }]));
  assert.match(logged, /tcp dport 22 log prefix "in" group 7 drop/);
  assert.match(logged, /jump sg-aaaaaaaa-egress\n?\s*log prefix "out" group 7 drop/);
  assert.match(logged, /jump sg-aaaaaaaa-ingress\n?\s*log prefix "in" group 7 drop/);
});
