import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AclRule } from '../../../src/contract/host-document.js';
import { aclBoxes, aclVerdict, entryBoxes, exactPrefix, type AclBox } from '../../../src/dataplane/linux/acl-set.js';
import { formatIp, parseIp } from '../../../src/core/cidr.js';
import { desiredTables, type NftTable } from '../../../src/dataplane/linux/nft-ruleset.js';
import { richVpc } from './fixtures.js';

const rule = (protocol: AclRule['protocol'], cidr: string, action: AclRule['action'], ports: [number, number][] = []): AclRule => ({ protocol, ports, cidr, action });
const member = (boxes: AclBox[], addr: number, proto: number, port: number) =>
  boxes.filter((b) => addr >= b.addr[0] && addr <= b.addr[1] && proto >= b.proto[0] && proto <= b.proto[1] && port >= b.port[0] && port <= b.port[1]).length;

test('an entry is a box: protocol all spans 0-255 and every port; ports only for tcp/udp', () => {
  assert.deepEqual(entryBoxes(rule('all', '10.0.0.0/8', 'accept', [[80, 80]])), [{ addr: [parseIp('10.0.0.0')!, parseIp('10.255.255.255')!], proto: [0, 255], port: [0, 65535] }]);
  assert.deepEqual(entryBoxes(rule('icmp', '0.0.0.0/0', 'drop')), [{ addr: [0, 0xffffffff], proto: [1, 1], port: [0, 65535] }]);
  assert.deepEqual(entryBoxes(rule('tcp', '10.0.0.1/32', 'accept', [[90, 80], [22, 22]])).map((b) => b.port), [[80, 90], [22, 22]]);
  assert.throws(() => entryBoxes(rule('tcp', '10.0.0.0/33', 'accept')), /invalid CIDR/);
  assert.throws(() => entryBoxes(rule('tcp', '10.0.0.0/8', 'accept', [[0, 70000]])), /invalid port range/);
  assert.throws(() => entryBoxes({ ...rule('all', '10.0.0.0/8', 'accept'), protocol: 'gre' as 'all' }), /unknown protocol/);
});

test('the first matching entry decides: a later accept does not reopen what an earlier drop closed', () => {
  const rules = [rule('tcp', '10.0.1.0/24', 'drop', [[22, 22]]), rule('all', '10.0.0.0/16', 'accept')];
  const boxes = aclBoxes(rules);
  const ip = (s: string) => parseIp(s)!;
  assert.equal(member(boxes, ip('10.0.1.7'), 6, 22), 0);
  assert.equal(member(boxes, ip('10.0.1.7'), 6, 23), 1);
  assert.equal(member(boxes, ip('10.0.1.7'), 17, 22), 1);
  assert.equal(member(boxes, ip('10.0.2.7'), 6, 22), 1);
  assert.equal(member(boxes, ip('10.1.0.1'), 1, 0), 0, 'nothing matching drops');
  assert.deepEqual(aclBoxes([]), []);
  assert.deepEqual(aclBoxes([rule('all', '0.0.0.0/0', 'accept')]), [{ addr: [0, 0xffffffff], proto: [0, 255], port: [0, 65535] }], 'one box when one is enough');
});

test('exact prefixes are recognised, other ranges are not', () => {
  assert.deepEqual(exactPrefix([parseIp('10.0.0.0')!, parseIp('10.0.255.255')!]), { base: parseIp('10.0.0.0')!, len: 16 });
  assert.deepEqual(exactPrefix([0, 0xffffffff]), { base: 0, len: 0 });
  assert.equal(exactPrefix([parseIp('10.0.0.0')!, parseIp('10.0.2.255')!]), undefined);
  assert.equal(exactPrefix([parseIp('10.0.1.0')!, parseIp('10.0.2.255')!]), undefined);
});

// Addresses from a small universe so that random entries overlap often.
const cidrArb = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 8, 16, 22, 23, 24, 25, 30, 32))
  .map(([b, c, len]) => {
    const n = ((10 << 24) | (b << 16) | (c << 8) | ((c * 7) & 255)) >>> 0;
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return `${formatIp((n & mask) >>> 0)}/${len}`;
  });
const portArb = fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })).map(([a, b]) => [a, b] as [number, number]);
const ruleArb: fc.Arbitrary<AclRule> = fc.record({
  protocol: fc.constantFrom<AclRule['protocol']>('tcp', 'udp', 'icmp', 'all'),
  ports: fc.oneof(fc.constant([] as [number, number][]), fc.array(portArb, { minLength: 1, maxLength: 3 })),
  cidr: cidrArb,
  action: fc.constantFrom<AclRule['action']>('accept', 'drop'),
});
const packetArb = fc.tuple(
  fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffff })).map(([b, low]) => ((10 << 24) | (b << 16) | low) >>> 0)),
  fc.constantFrom(0, 1, 2, 6, 17, 47, 255),
  fc.oneof(fc.integer({ min: 0, max: 101 }), fc.integer({ min: 0, max: 65535 })),
);

test('property: a packet is in exactly one element when the ordered entries accept it, in none when they drop it', () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { maxLength: 8 }), fc.array(packetArb, { minLength: 20, maxLength: 40 }), (rules, packets) => {
      const boxes = aclBoxes(rules);
      for (const [addr, proto, port] of packets) {
        const want = aclVerdict(rules, addr, proto, port) === 'accept' ? 1 : 0;
        assert.equal(member(boxes, addr, proto, port), want, `${formatIp(addr)} proto ${proto} port ${port}`);
      }
      // Packets on every edge, where an off-by-one would show.
      for (const r of rules)
        for (const b of entryBoxes(r))
          for (const addr of [b.addr[0], b.addr[1], b.addr[0] - 1, b.addr[1] + 1].filter((a) => a >= 0 && a <= 0xffffffff))
            for (const port of [b.port[0], b.port[1], b.port[0] - 1, b.port[1] + 1].filter((p) => p >= 0 && p <= 65535))
              for (const proto of [b.proto[0], b.proto[1]]) {
                const want = aclVerdict(rules, addr, proto, port) === 'accept' ? 1 : 0;
                assert.equal(member(boxes, addr, proto, port), want, `edge ${formatIp(addr)} proto ${proto} port ${port}`);
              }
    }),
    { numRuns: 300 },
  );
});

test('property: elements never overlap (nft would refuse the set) and are sorted', () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { maxLength: 8 }), (rules) => {
      const boxes = aclBoxes(rules);
      const meets = (a: [number, number], b: [number, number]) => a[0] <= b[1] && b[0] <= a[1];
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++) {
          const [x, y] = [boxes[i]!, boxes[j]!];
          assert.ok(!(meets(x.addr, y.addr) && meets(x.proto, y.proto) && meets(x.port, y.port)), `${JSON.stringify(x)} overlaps ${JSON.stringify(y)}`);
        }
    }),
    { numRuns: 300 },
  );
});

test('the ACL sets of a VPC hold the decomposition, addresses as prefixes where exact, protocols as numbers', () => {
  const inet = desiredTables(richVpc()).find((t) => t.family === 'inet') as NftTable;
  const egress = inet.sets.find((s) => s.name === 'acl-web_egress')!;
  assert.deepEqual(egress.flags, ['interval']);
  assert.deepEqual(egress.elem, [
    { concat: [{ range: ['0.0.0.0', '10.0.0.4'] }, { range: [0, 255] }, { range: [0, 65535] }] },
    { concat: ['10.0.0.5', { range: [0, 16] }, { range: [0, 65535] }] },
    { concat: ['10.0.0.5', 17, { range: [0, 52] }] },
    { concat: ['10.0.0.5', 17, { range: [54, 65535] }] },
    { concat: ['10.0.0.5', { range: [18, 255] }, { range: [0, 65535] }] },
    { concat: [{ range: ['10.0.0.6', '255.255.255.255'] }, { range: [0, 255] }, { range: [0, 65535] }] },
  ]);
  const ingress = inet.sets.find((s) => s.name === 'acl-web_ingress')!;
  assert.deepEqual(ingress.elem[5], { concat: [{ prefix: { addr: '10.0.2.0', len: 24 } }, { range: [0, 255] }, { range: [0, 65535] }] });
  const vpc = richVpc();
  vpc.subnets[1]!.networkAclId = 'acl-missing';
  assert.throws(() => desiredTables(vpc), /subnet-b: network ACL acl-missing is not in the document/);
  const bad = richVpc();
  bad.networkAcls!['acl-web']!.ingress.push(rule('tcp', '10.0.0.0/40', 'accept'));
  assert.throws(() => desiredTables(bad), /acl-web ingress: ACL entry 4: invalid CIDR/);
});
