import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostDocument } from '../../../src/contract/host-document.js';
import { limitClasses, parseHtbRoot, parseTcClasses, planLimits, qosTableText } from '../../../src/dataplane/linux/eip-limits.js';
import { digestOf } from '../../../src/dataplane/linux/nat-gateway.js';

const doc: HostDocument = {
  hostId: 'gw1',
  revision: 1,
  underlay: '100.64.1.11',
  role: 'gateway',
  gatewayNodes: 4,
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
      eips: [
        { publicIp: '198.51.100.2', privateIp: '10.0.1.2', instanceId: 'ins-a', bandwidthMbps: 100 },
        { publicIp: '198.51.100.3', privateIp: '10.0.1.3', instanceId: 'ins-b', bandwidthMbps: 2, pinned: true },
      ],
    },
  ],
};

describe('gateway EIP limits', () => {
  it('splits a limit evenly over the nodes until shares are known, and gives a pinned EIP all of it', () => {
    const even = limitClasses(doc, new Map());
    assert.deepEqual(even.map((c) => [c.publicIp, c.rateBps, c.limitBps]), [
      ['198.51.100.2', 25_000_000, 100_000_000],
      ['198.51.100.3', 2_000_000, 2_000_000],
    ]);
    const shared = limitClasses(doc, new Map([['198.51.100.2', { limitBps: 100e6, bps: 61e6 }], ['198.51.100.3', { limitBps: 2e6, bps: 1 }]]));
    assert.equal(shared[0]!.rateBps, 61_000_000);
    const stale = limitClasses(doc, new Map([['198.51.100.2', { limitBps: 40e6, bps: 30e6 }]]));
    assert.equal(stale[0]!.rateBps, 25_000_000, 'a share of an old limit: the even split of the new one');
    assert.equal(shared[1]!.rateBps, 2_000_000, 'a pinned EIP ignores shares');
    assert.notEqual(shared[0]!.minor, shared[1]!.minor);
  });

  it('makes the HTB root, a class per EIP with SSH/RDP first, and the classifying table', () => {
    const classes = limitClasses(doc, new Map());
    const plan = planLimits(classes, { htbRoot: false, classes: [] });
    const m = classes[0]!.minor.toString(16);
    assert.equal(plan.tc[0], 'qdisc replace dev i0 root handle 1: htb');
    assert.ok(plan.tc.includes(`class replace dev i0 parent 1: classid 1:${m} htb rate 25000000bit ceil 25000000bit burst 15625 cburst 15625 quantum 1514`));
    assert.ok(plan.tc.some((l) => l.startsWith(`class replace dev i0 parent 1:${m} classid 1:${(classes[0]!.minor + 1).toString(16)} htb rate 25000000bit`) && l.endsWith('prio 0')));
    assert.ok(plan.tc.some((l) => l.includes(`classid 1:${(classes[0]!.minor + 2).toString(16)} htb rate 8000bit ceil 25000000bit`) && l.endsWith('prio 1')));
    assert.match(plan.nft, /comment "weft [0-9a-f]{16}"/);
    assert.match(qosTableText(classes), /tcp sport \{ 22, 3389 \} meta priority < 1:8000 meta priority set ip saddr map @first_class_of/);
  });

  it('reads classes as tc prints them, and plans nothing when they match (rates within 1 %)', () => {
    const classes = limitClasses(doc, new Map());
    const h = (n: number) => n.toString(16);
    const text = classes
      .flatMap((c) => {
        const r = `${c.rateBps / 1000}Kbit`;
        return [
          `class htb 1:${h(c.minor)} root rate ${r} ceil ${r} burst 15625b cburst 15625b \n Sent 1000 bytes 3 pkt (dropped 0, overlimits 7 requeues 0) \n backlog 0b 0p requeues 0`,
          `class htb 1:${h(c.minor + 1)} parent 1:${h(c.minor)} prio 0 rate ${r} ceil ${r} burst 15625b cburst 15625b `,
          `class htb 1:${h(c.minor + 2)} parent 1:${h(c.minor)} leaf 8002: prio 1 rate 8Kbit ceil ${r} burst 15625b cburst 15625b `,
        ];
      })
      .join('\n');
    const parsed = parseTcClasses(text);
    assert.equal(parsed.length, 6);
    assert.deepEqual(parsed[0], { minor: classes[0]!.minor, rateBps: 25e6, ceilBps: 25e6, bytes: 1000, dropped: 0, overlimits: 7 });
    assert.equal(parsed[2]!.prio, 1);
    const qosComment = `weft ${digestOf(qosTableText(classes))}`;
    assert.deepEqual(planLimits(classes, { htbRoot: parseHtbRoot('qdisc htb 1: root refcnt 2 r2q 10 default 0'), classes: parsed, qosComment }), { tc: [], nft: '' });
    // No EIP left: the root qdisc and the table go.
    assert.deepEqual(planLimits([], { htbRoot: true, classes: parsed, qosComment }).nft, 'delete table ip weftqos\n');
    assert.ok(planLimits([], { htbRoot: true, classes: parsed, qosComment }).tc.includes('qdisc del dev i0 root'));
  });
});
