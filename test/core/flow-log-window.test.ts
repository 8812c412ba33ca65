import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FlowLogCapture } from '../../src/contract/flow-logs.js';
import { parseConntrackLine, parseUlogdLine, windowRecords, type CtEntry, type CtCounters } from '../../src/core/flow-log-window.js';

// Lines as conntrack-tools 1.4.7 and ulogd 2.0.8 print them (captured on this machine).
const LIST = 'ipv4     2 tcp      6 118 TIME_WAIT src=10.0.1.4 dst=10.0.2.4 sport=43624 dport=7000 packets=5 bytes=10268 src=10.0.2.4 dst=10.0.1.4 sport=7000 dport=43624 packets=3 bytes=164 [ASSURED] mark=0 use=1 id=2255182359';
const EVENT = '[DESTROY] ipv4     2 tcp      6 117 SYN_SENT src=10.0.1.4 dst=10.0.2.4 sport=58336 dport=9999 packets=1 bytes=60 [UNREPLIED] src=10.0.2.4 dst=10.0.1.4 sport=9999 dport=58336 packets=0 bytes=0 id=3700075423 [USERSPACE] portid=4005423652';
const ICMP = 'ipv4     2 icmp     1 29 src=10.0.1.4 dst=10.0.2.4 type=8 code=0 id=41 packets=3 bytes=252 src=10.0.2.4 dst=10.0.1.4 type=0 code=0 id=41 packets=3 bytes=252 mark=0 use=1 id=1234567';
const ULOGD =
  '{"timestamp": "2026-12-03T10:06:48.231102", "dvc": "Netfilter", "raw.pktlen": 60, "raw.pktcount": 1, "oob.prefix": "in", "oob.time.sec": 1796292408, "ip.protocol": 17, "ip.totlen": 128, "src_port": 40000, "dest_port": 7002, "src_ip": "10.0.1.4", "dest_ip": "10.0.2.4"}';

const A = '10.0.1.4';
const B = '10.0.2.4';
const cap = (trafficType: FlowLogCapture['trafficType'], ips: string[] = [A, B]): FlowLogCapture => ({
  flowLogId: 'fl-aaaaaaaa',
  accountId: '100001',
  trafficType,
  interfaces: ips.map((ip) => ({ ip, eniId: `eni-${ip === A ? 'aaaaaaaa' : 'bbbbbbbb'}` })),
});
const entry = (id: string, op: number, ob: number, rp = 0, rb = 0, sport = 40000): CtEntry => ({
  id,
  protocol: 6,
  orig: { src: A, dst: B, sport, dport: 7000, packets: op, bytes: ob },
  reply: { src: B, dst: A, sport: 7000, dport: sport, packets: rp, bytes: rb },
});
const base = { start: 100, end: 103, prev: new Map<string, CtCounters>(), destroyed: [], live: [], rejected: [] };

test('parseConntrackLine: both directions, their counters and the conntrack ID (the last id=)', () => {
  assert.deepEqual(parseConntrackLine(LIST), {
    id: '2255182359',
    protocol: 6,
    orig: { src: A, dst: B, sport: 43624, dport: 7000, packets: 5, bytes: 10268 },
    reply: { src: B, dst: A, sport: 7000, dport: 43624, packets: 3, bytes: 164 },
  });
  assert.equal(parseConntrackLine(EVENT)?.id, '3700075423');
  const icmp = parseConntrackLine(ICMP)!;
  assert.equal(icmp.id, '1234567');
  assert.deepEqual([icmp.protocol, icmp.orig.sport, icmp.orig.bytes, icmp.reply.bytes], [1, 0, 252, 252]);
  // Accounting off: no counters, no entry (the capture turns accounting on first).
  assert.equal(parseConntrackLine(LIST.replace(/ packets=\d+ bytes=\d+/g, '')), undefined);
  assert.equal(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.'), undefined);
});

test('parseUlogdLine: the packet, its IP length and the side that dropped it', () => {
  assert.deepEqual(parseUlogdLine(ULOGD), { src: A, dst: B, sport: 40000, dport: 7002, protocol: 17, bytes: 128, side: 'in' });
  assert.equal(parseUlogdLine('{"src_ip": "2001:db8::1", "dest_ip": "2001:db8::2"}'), undefined);
  assert.equal(parseUlogdLine('not json'), undefined);
});

test('windowRecords: one record per direction, the difference from the last window, both ends on one host', () => {
  const w1 = windowRecords({ ...base, captures: [cap('ALL')], live: [entry('1', 5, 5000, 3, 200)] });
  // Two directions × two covered interfaces (both ports are on this host).
  assert.equal(w1.records.length, 4);
  const ab = w1.records.filter((r) => r['interface-id'] === 'eni-aaaaaaaa' && r.srcaddr === A);
  assert.deepEqual(ab.map((r) => [r.packets, r.bytes, r.action, r.start, r.end, r['log-status']]), [[5, 5000, 'ACCEPT', 100, 103, 'OK']]);
  const w2 = windowRecords({ ...base, start: 103, end: 106, captures: [cap('ALL', [B])], prev: w1.counters, live: [entry('1', 8, 9000, 3, 200)] });
  // Only the orig direction moved: 3 packets, 4000 bytes; the reply did not and has no record.
  assert.deepEqual(w2.records.map((r) => [r.srcaddr, r.packets, r.bytes, r['interface-id']]), [[A, 3, 4000, 'eni-bbbbbbbb']]);
});

test('windowRecords: a flow that ended in the window counts from its DESTROY counters; traffic types select', () => {
  const prev = new Map([['1', { op: 5, ob: 5000, rp: 3, rb: 200 }]]);
  const ended = windowRecords({ ...base, captures: [cap('ACCEPT', [A])], prev, destroyed: [entry('1', 6, 5100, 4, 260)], live: [] });
  assert.deepEqual(ended.records.map((r) => [r.srcaddr, r.packets, r.bytes]), [[A, 1, 100], [B, 1, 60]]);
  assert.equal(ended.counters.size, 0);
  const rejectOnly = windowRecords({ ...base, captures: [cap('REJECT')], live: [entry('2', 1, 60)] });
  assert.equal(rejectOnly.records.length, 0);
});

test('windowRecords: rejected packets are summed per 5-tuple and charged to the side that dropped them', () => {
  const pkt = parseUlogdLine(ULOGD)!;
  const r = windowRecords({ ...base, captures: [cap('ALL'), { ...cap('ACCEPT'), flowLogId: 'fl-bbbbbbbb' }], live: undefined, rejected: [pkt, pkt, pkt, { ...pkt, side: 'out' }] });
  assert.deepEqual(
    r.records.map((x) => [x.flowLogId, x['interface-id'], x.action, x.packets, x.bytes]),
    [
      ['fl-aaaaaaaa', 'eni-aaaaaaaa', 'REJECT', 1, 128],
      ['fl-aaaaaaaa', 'eni-bbbbbbbb', 'REJECT', 3, 384],
    ],
  );
  assert.equal(windowRecords({ ...base, captures: [cap('ALL')], live: undefined, rejected: [pkt], lossy: true }).records[0]!['log-status'], 'SKIPDATA');
});

test('windowRecords: an entry missing from both lists keeps its base one window (its DESTROY may be late), then goes', () => {
  const prev = new Map([['1', { op: 5, ob: 5000, rp: 0, rb: 0 }]]);
  const w1 = windowRecords({ ...base, captures: [cap('ALL')], prev, live: [] });
  assert.deepEqual(w1.counters.get('1'), { op: 5, ob: 5000, rp: 0, rb: 0, missed: 1 });
  const late = windowRecords({ ...base, captures: [cap('ALL', [A])], prev: w1.counters, destroyed: [entry('1', 6, 5100)], live: [] });
  assert.deepEqual(late.records.map((r) => [r.packets, r.bytes]), [[1, 100]]);
  assert.equal(windowRecords({ ...base, captures: [cap('ALL')], prev: w1.counters, live: [] }).counters.size, 0);
});

test('windowRecords: over any split of a flow into windows, the records sum to its final counters', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(1000), fc.nat(100_000)), { minLength: 1, maxLength: 8 }), fc.boolean(), (steps, endsWithDestroy) => {
      let prev = new Map<string, CtCounters>();
      let packets = 0;
      let bytes = 0;
      let recorded = { packets: 0, bytes: 0 };
      steps.forEach(([p, b], i) => {
        packets += p;
        bytes += b;
        const last = i === steps.length - 1 && endsWithDestroy;
        const e = entry('7', packets, bytes);
        const out = windowRecords({ ...base, captures: [cap('ACCEPT', [A])], prev, destroyed: last ? [e] : [], live: last ? [] : [e] });
        for (const r of out.records) recorded = { packets: recorded.packets + r.packets, bytes: recorded.bytes + r.bytes };
        prev = out.counters;
      });
      assert.deepEqual(recorded, { packets, bytes });
    }),
  );
});
