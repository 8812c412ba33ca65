/** The ping summary parser and the probe targets a document gives (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lossPercent, parsePing } from '../../src/agent/ping.js';
import { probeTargets } from '../../src/agent/probes.js';
import type { HostDocument, VpcContext } from '../../src/contract/host-document.js';

describe('ping summaries', () => {
  it('reads sent, received and the mean round trip', () => {
    const out = 'PING 10.0.1.3 (10.0.1.3) from 10.0.1.1 : 56(84) bytes of data.\n\n--- 10.0.1.3 ping statistics ---\n5 packets transmitted, 4 received, 20% packet loss, time 812ms\nrtt min/avg/max/mdev = 0.035/0.050/0.071/0.012 ms\n';
    assert.deepEqual(parsePing(out), { sent: 5, received: 4, rttMs: 0.05 });
  });
  it('reads a run with errors and nothing answered (no round trip)', () => {
    const out = '--- 192.168.77.1 ping statistics ---\n5 packets transmitted, 0 received, +5 errors, 100% packet loss, time 820ms\n';
    assert.deepEqual(parsePing(out), { sent: 5, received: 0 });
  });
  it('has no figures when ping could not send at all', () => {
    assert.equal(parsePing('ping: connect: Network is unreachable\n'), undefined);
    assert.equal(parsePing(''), undefined);
  });
  it('gives loss as a percentage; nothing sent is everything lost', () => {
    assert.equal(lossPercent({ sent: 5, received: 4 }), 20);
    assert.equal(lossPercent({ sent: 3, received: 1 }), 67);
    assert.equal(lossPercent({ sent: 0, received: 0 }), 100);
    assert.equal(lossPercent({ sent: 5, received: 7 }), 0);
  });
});

describe('probe targets', () => {
  const vpc = (over: Partial<VpcContext>): VpcContext => ({ vpcId: 'vpc-a', vni: 100, routerMac: '02:00:00:00:00:01', subnets: [], ports: [], remotes: [], securityGroups: {}, groupMembers: {}, ...over });
  const remote = (ip: string, hostId: string, underlay: string) => ({ ip, instanceId: `ins-${ip.replace(/\./g, '')}`, hostId, underlay, routerMac: '02:00:00:00:00:02' });
  it('probes each destination of the detections it holds a source of, from that source, and each tunnel peer once', () => {
    const doc: HostDocument = {
      hostId: 'h1',
      revision: 3,
      underlay: '100.64.0.11',
      vpcs: [
        vpc({
          subnets: [{ subnetId: 'subnet-a', cidr: '10.0.1.0/24', gateway: '10.0.1.1', routeTableId: 'rtb-a' }],
          ports: [{ instanceId: 'ins-n', ifname: 'pn', ip: '10.0.1.3', mac: '02:00:00:00:00:03', subnetId: 'subnet-a', prefix: 24, gateway: '10.0.1.1', securityGroups: [] }],
          remotes: [remote('10.0.2.2', 'h2', '100.64.0.12'), remote('10.0.2.3', 'h2', '100.64.0.12'), remote('10.0.2.4', 'h3', '100.64.0.13')],
          routeTables: [
            {
              routeTableId: 'rtb-a',
              main: true,
              subnets: [],
              routes: [
                { destination: '192.168.0.0/16', kind: 'instance', nextHops: [{ ip: '10.0.2.2', instanceId: 'ins-r' }], routeIds: ['1'] },
                { destination: '192.168.0.0/24', kind: 'instance', nextHops: [{ ip: '10.0.1.3', instanceId: 'ins-n' }], routeIds: ['2'] },
              ],
            },
          ],
          netDetects: [
            // This host holds a source of these: it probes every destination from the first it holds, whatever the next hop.
            { netDetectId: 'netd-aaaaaaaa', subnetId: 'subnet-a', sources: ['10.0.1.5', '10.0.1.6'], local: ['10.0.1.6'], destinations: ['192.168.0.1', '192.168.1.1'], nextHop: { type: 'NONEXTHOP' } },
            { netDetectId: 'netd-cccccccc', subnetId: 'subnet-a', sources: ['10.0.1.7', '10.0.1.8'], local: ['10.0.1.7', '10.0.1.8'], destinations: ['172.16.0.2'], nextHop: { type: 'NORMAL_CVM', ip: '10.0.2.2' } },
            // Here only to hand probes arriving over the tunnel to its next hop port: not probed from here.
            { netDetectId: 'netd-dddddddd', subnetId: 'subnet-z', sources: ['10.0.9.5'], local: [], destinations: ['172.16.0.3'], nextHop: { type: 'NORMAL_CVM', ip: '10.0.1.3' } },
          ],
        }),
        vpc({ vpcId: 'vpc-b', remotes: [remote('10.9.0.2', 'h3', '100.64.0.13')], lbNodes: [{ node: 1, mac: '02:00:00:00:00:09', underlay: '100.64.2.11' }] }),
      ],
    };
    assert.deepEqual(probeTargets(doc), {
      netDetects: [
        { vpcId: 'vpc-a', netDetectId: 'netd-aaaaaaaa', source: '10.0.1.6', ip: '192.168.0.1' },
        { vpcId: 'vpc-a', netDetectId: 'netd-aaaaaaaa', source: '10.0.1.6', ip: '192.168.1.1' },
        { vpcId: 'vpc-a', netDetectId: 'netd-cccccccc', source: '10.0.1.7', ip: '172.16.0.2' },
      ],
      underlay: ['100.64.0.12', '100.64.0.13', '100.64.2.11'],
    });
  });
});
