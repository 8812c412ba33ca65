import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  checkCounterReport,
  checkEipSamples,
  countedPorts,
  delta,
  eipCounters,
  eipTableScript,
  linkStats,
  monitorTableScript,
  portDrops,
  spread,
  totalsOf,
  TOTAL_FIELDS,
  type Totals,
} from '../../src/core/instance-counters.js';

const zero: Totals = { inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, sgDropPackets: 0, aclDropPackets: 0 };

/** `nft -j list table inet weftmon` as nft 1.0.6 prints it, with the packets per set and port given. */
function listing(packets: Record<string, Record<string, number>>) {
  const sets = ['out_pre', 'in_pre', 'out_acl', 'in_acl', 'out_sge', 'in_sge', 'out_sgi', 'in_sgi'];
  const ports = Object.keys(packets);
  return {
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { table: { family: 'inet', name: 'weftmon', handle: 1 } },
      ...sets.map((name) => ({
        set: {
          family: 'inet',
          name,
          table: 'weftmon',
          type: 'ifname',
          elem: ports.map((p) => ({ elem: { val: p, counter: { packets: packets[p]![name] ?? 0, bytes: 0 } } })),
          stmt: [{ counter: null }],
        },
      })),
    ],
  };
}

test('portDrops: ACL drops are what the ACL stage lost, SG drops what egress lost leaving and ingress lost arriving', () => {
  const l = listing({
    pa: { out_pre: 100, out_acl: 90, out_sge: 80, out_sgi: 70, in_pre: 50, in_acl: 45, in_sge: 45, in_sgi: 40 },
    pb: { out_pre: 5, out_acl: 5, out_sge: 5, out_sgi: 5, in_pre: 7, in_acl: 7, in_sge: 7, in_sgi: 2 },
  });
  const d = portDrops(l);
  // pa: ACL 10 out + 5 in; SG 10 egress + 5 ingress (the 10 between sge and sgi going out are another port's ingress drops).
  assert.deepEqual(d.get('pa'), { aclDropPackets: 15, sgDropPackets: 15 });
  assert.deepEqual(d.get('pb'), { aclDropPackets: 0, sgDropPackets: 5 });
  assert.deepEqual(countedPorts(l), ['pa', 'pb']);
  assert.deepEqual(countedPorts(l.nftables), ['pa', 'pb'], 'the nftables array alone too');
});

test('portDrops: a packet between two stages while listing never shows as a negative drop', () => {
  const d = portDrops(listing({ pa: { out_pre: 10, out_acl: 11, out_sge: 11, out_sgi: 11 } }));
  assert.deepEqual(d.get('pa'), { aclDropPackets: 0, sgDropPackets: 0 });
});

test('countedPorts: no table, no ports', () => {
  assert.deepEqual(countedPorts([]), []);
  assert.deepEqual(countedPorts({}), []);
});

test('monitorTableScript: replaces the table whole, one counting set per direction and stage, chains around the driver priorities', () => {
  const s = monitorTableScript(['pb', 'pa']);
  assert.match(s, /^add table inet weftmon\ndelete table inet weftmon\ntable inet weftmon \{/);
  assert.equal((s.match(/type ifname; counter; elements = \{ "pa", "pb" \}/g) ?? []).length, 8);
  for (const prio of [-20, -5, 5, 15]) assert.match(s, new RegExp(`type filter hook forward priority ${prio}; policy accept;`));
  assert.doesNotMatch(s, /\b(drop|reject|jump|goto)\b/, 'counts only: no verdict');
  assert.doesNotMatch(monitorTableScript([]), /elements/, 'no ports: empty sets');
});

test('linkStats and totalsOf: the router end receives what the instance sends', () => {
  const links = linkStats([
    { ifname: 'lo', stats64: { rx: { bytes: 1, packets: 1 }, tx: { bytes: 1, packets: 1 } } },
    { ifname: 'pa', stats64: { rx: { bytes: 1000, packets: 10 }, tx: { bytes: 300, packets: 3 } } },
    { ifname: 'nostats' },
  ]);
  assert.deepEqual([...links.keys()], ['lo', 'pa']);
  assert.deepEqual(totalsOf(links.get('pa')!, { sgDropPackets: 2, aclDropPackets: 1 }), { outBytes: 1000, outPackets: 10, inBytes: 300, inPackets: 3, sgDropPackets: 2, aclDropPackets: 1 });
  assert.deepEqual(totalsOf(links.get('pa')!, undefined).sgDropPackets, 0);
});

test('delta: field by field, a counter that went down started again from 0', () => {
  assert.equal(delta(undefined, zero), undefined, 'the first reading is a base');
  const d = delta({ ...zero, inBytes: 100, sgDropPackets: 50 }, { ...zero, inBytes: 150, sgDropPackets: 4 })!;
  assert.equal(d.inBytes, 50);
  assert.equal(d.sgDropPackets, 4, 'the counting table was rewritten');
});

test('spread: whole units, one bucket per 10 s touched, summing to the delta exactly', () => {
  const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
  const count = fc.integer({ min: 0, max: 2 ** 40 });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 1, max: 600_000 }), fc.record(Object.fromEntries(TOTAL_FIELDS.map((f) => [f, count])) as Record<keyof Totals, fc.Arbitrary<number>>), (off, len, d) => {
      const out = spread(T0 + off, T0 + off + len, d, 10_000);
      for (const f of TOTAL_FIELDS) assert.equal(out.reduce((n, b) => n + b.totals[f], 0), d[f]);
      assert.ok(out.every((b) => TOTAL_FIELDS.every((f) => Number.isInteger(b.totals[f]) && b.totals[f] >= 0)));
      assert.equal(out[0]!.bucket, Math.floor((T0 + off) / 10_000) * 10_000);
      for (let i = 1; i < out.length; i++) assert.equal(out[i]!.bucket - out[i - 1]!.bucket, 10_000);
    }),
  );
  // 5 s in the first bucket, 10 s in the next: one third, two thirds.
  assert.deepEqual(
    spread(T0 + 5000, T0 + 20_000, { ...zero, outBytes: 300 }, 10_000).map((b) => [b.bucket - T0, b.totals.outBytes]),
    [
      [0, 100],
      [10_000, 200],
    ],
  );
});

test('checkCounterReport: takes a well-formed report, names what is wrong in a bad one', () => {
  const now = Date.UTC(2026, 11, 3, 10, 0, 0);
  const good = { instanceId: 'ins-abcd1234', at: new Date(now).toISOString(), ...zero, inBytes: 5 };
  const ok = checkCounterReport({ instances: [good], conntrack: [{ vpcId: 'vpc-abcd1234', entries: 3 }] }, now);
  assert.ok(ok.ok);
  assert.equal(ok.samples[0]!.atMs, now);
  assert.equal(ok.samples[0]!.inBytes, 5);
  const bad = checkCounterReport(
    {
      instances: [
        { ...good, instanceId: 'vm-1' },
        { ...good, at: new Date(now + 120_000).toISOString() },
        { ...good, outBytes: -1 },
        { ...good, inPackets: 1.5 },
      ],
      conntrack: [{ vpcId: 'vpc-abcd1234', entries: 'many' }],
    },
    now,
  );
  assert.ok(!bad.ok);
  assert.equal(bad.errors.length, 5, bad.errors.join('; '));
  assert.match(bad.errors.join('; '), /instances\.0\.instanceId.*instances\.1\.at.*instances\.2.*instances\.3.*conntrack\.0/);
  assert.ok(!checkCounterReport(null, now).ok);
  assert.ok(!checkCounterReport({ instances: [] }, now).ok);
});

test('eipCounters: in and out per EIP from the gateway counting table; eipTableScript counts around the translation', () => {
  const listing = [
    { table: { family: 'ip', name: 'weftmon' } },
    { set: { family: 'ip', name: 'eip_in', table: 'weftmon', elem: [{ elem: { val: '203.0.113.5', counter: { packets: 3, bytes: 300 } } }] } },
    { set: { family: 'ip', name: 'eip_out', table: 'weftmon', elem: [{ elem: { val: '203.0.113.5', counter: { packets: 7, bytes: 7000 } } }] } },
    { set: { family: 'ip', name: 'eip_out', table: 'weft', elem: [{ elem: { val: '198.51.100.1', counter: { packets: 1, bytes: 1 } } }] } },
  ];
  assert.deepEqual([...eipCounters(listing)], [['203.0.113.5', { inBytes: 300, inPackets: 3, outBytes: 7000, outPackets: 7 }]]);
  const s = eipTableScript(42, ['203.0.113.5']);
  assert.match(s, /priority -310;[^}]*iifname "pub0" ip daddr @eip_in/);
  assert.match(s, /priority -290;[^}]*iifname \{ "vx42", "nat0" \} ip saddr @eip_out/);
});

test('checkEipSamples: none is fine, a bad one is named', () => {
  const now = Date.UTC(2026, 11, 3, 10, 0, 0);
  assert.deepEqual(checkEipSamples(undefined, now), { ok: true, samples: [] });
  const ok = checkEipSamples([{ publicIp: '203.0.113.5', at: new Date(now).toISOString(), inBytes: 1, outBytes: 2, inPackets: 1, outPackets: 1 }], now);
  assert.ok(ok.ok && ok.samples[0]!.outBytes === 2 && ok.samples[0]!.sgDropPackets === 0);
  const bad = checkEipSamples([{ publicIp: 'x', at: '', inBytes: 1, outBytes: 2, inPackets: 1, outPackets: 1 }], now);
  assert.ok(!bad.ok && /eips\.0\.publicIp/.test(bad.errors[0]!));
});
