import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostDocument } from '../../../src/contract/host-document.js';
import { countSessions, flowSamples, parseCounterSet } from '../../../src/dataplane/linux/nat-flows.js';

const doc = (monitor: boolean): HostDocument => ({
  hostId: 'gw1',
  revision: 1,
  underlay: '100.64.1.11',
  role: 'gateway',
  vpcs: [
    {
      vpcId: 'vpc-a',
      vni: 100,
      routerMac: '0a:00:00:00:00:02',
      subnets: [],
      ports: [],
      remotes: [],
      securityGroups: {},
      groupMembers: {},
      nat: {
        zone: 101,
        rank: 0,
        gateways: [
          { natGatewayId: 'nat-a', publicIps: ['198.51.100.7'], snat: [{ natGatewaySnatId: 'snat-1', source: '10.0.1.0/24', publicIps: ['198.51.100.7'] }], dnat: [], ...(monitor ? { flowMonitor: true } : {}) },
          { natGatewayId: 'nat-b', publicIps: ['198.51.100.8'], snat: [{ natGatewaySnatId: 'snat-2', source: '10.0.1.9/32', publicIps: ['198.51.100.8'] }], dnat: [{ protocol: 'tcp', publicIp: '198.51.100.8', publicPort: 80, privateIp: '10.0.2.4', privatePort: 80 }], flowMonitor: true },
        ],
      },
    },
  ],
});

describe('gateway flow monitor figures', () => {
  it('reads counters of a dynamic set keyed by zone and address', () => {
    const json = [{ metainfo: {} }, { set: { elem: [{ elem: { val: { concat: [101, '10.0.1.2'] }, counter: { packets: 70, bytes: 1003648 } } }, { elem: { val: '10.0.0.1' } }] } }];
    assert.deepEqual([...parseCounterSet(json)], [['101 10.0.1.2', { bytes: 1003648, packets: 70 }]]);
  });

  it('counts sessions per zone and private end: the source of SNAT, the reply source of a port forwarding', () => {
    const text = [
      'tcp      6 431999 ESTABLISHED src=10.0.1.2 dst=198.18.0.10 sport=40000 dport=9000 src=198.18.0.10 dst=198.51.100.7 sport=9000 dport=40000 [ASSURED] mark=0 zone=101 use=1',
      'tcp      6 431999 ESTABLISHED src=198.18.0.10 dst=198.51.100.8 sport=5000 dport=80 src=10.0.2.4 dst=198.18.0.10 sport=80 dport=5000 [ASSURED] mark=0 zone=101 use=1',
      'udp      17 29 src=100.64.1.11 dst=225.0.0.50 sport=1 dport=3780 [UNREPLIED] src=225.0.0.50 dst=100.64.1.11 sport=3780 dport=1 mark=0 use=1',
    ].join('\n');
    assert.deepEqual([...countSessions(text)], [['101 10.0.1.2', 1], ['101 10.0.2.4', 1]]);
  });

  it("reports each address under the gateway whose rule holds it, only the monitored gateways'", () => {
    const counters = {
      out: new Map([
        ['101 10.0.1.2', { bytes: 100, packets: 2 }],
        ['101 10.0.1.9', { bytes: 50, packets: 1 }],
        ['102 10.0.1.2', { bytes: 7, packets: 1 }],
      ]),
      in: new Map([['101 10.0.2.4', { bytes: 40, packets: 1 }]]),
      new: new Map([['101 10.0.1.2', { bytes: 60, packets: 1 }]]),
      sessions: new Map([['101 10.0.1.2', 3]]),
    };
    const all = flowSamples(doc(true), 'T', counters);
    assert.deepEqual(
      all.map((s) => [s.natGatewayId, s.privateIp, s.outBytes, s.inBytes, s.connections, s.newConnections]),
      [
        ['nat-a', '10.0.1.2', 100, 0, 3, 1],
        ['nat-b', '10.0.1.9', 50, 0, 0, 0],
        ['nat-b', '10.0.2.4', 0, 40, 0, 0],
      ],
    );
    assert.deepEqual(flowSamples(doc(false), 'T', counters).map((s) => s.natGatewayId), ['nat-b', 'nat-b'], 'nat-a is not monitored');
  });
});
