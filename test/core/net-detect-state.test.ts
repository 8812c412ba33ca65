/** Tencent's NetDetect states from the tracer's verdict and the probe figures; the check of agents' probe reports (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mergeProbes, netDetectIpState } from '../../src/core/net-detect-state.js';
import { checkProbeReport } from '../../src/core/probe-report.js';

describe('NetDetect states', () => {
  const reaches = { reaches: true, code: 'delivered' };
  it('takes the code from the tracer when the configuration drops the traffic', () => {
    for (const [code, state] of [
      ['no-route', -1],
      ['blackhole', -1],
      ['acl-egress', -2],
      ['acl-ingress', -3],
      ['ingress-default', -4],
      ['anti-spoofing', -4],
    ] as const)
      // Probes that came back do not overrule it: they leave from the router, which no ACL or group filters.
      assert.deepEqual(netDetectIpState({ reaches: false, code }, { sent: 5, received: 5, rttMs: 0.1 }), { State: state, Delay: 0, PacketLossRate: 100 }, code);
  });
  it('takes the figures from the probes when the configuration lets it through', () => {
    assert.deepEqual(netDetectIpState(reaches, { sent: 5, received: 4, rttMs: 2.4 }), { State: 0, Delay: 2, PacketLossRate: 20 });
    assert.deepEqual(netDetectIpState(reaches, { sent: 5, received: 5, rttMs: 0.05 }), { State: 0, Delay: 1, PacketLossRate: 0 }, 'sub-millisecond is 1 ms, not 0');
    assert.deepEqual(netDetectIpState(reaches, { sent: 5, received: 0 }), { State: -4, Delay: 0, PacketLossRate: 100 }, 'all lost: something outside the configuration');
  });
  it('says only what a witness said', () => {
    assert.deepEqual(netDetectIpState(reaches, undefined), { State: 0 }, 'the tracer alone: no figures made up');
    assert.deepEqual(netDetectIpState(undefined, undefined), { State: -4 });
    assert.deepEqual(netDetectIpState(undefined, { sent: 5, received: 5, rttMs: 3 }), { State: 0, Delay: 3, PacketLossRate: 0 });
  });
  it('keeps loss within 0-100 and State 0 only with an answer (property)', () => {
    fc.assert(
      fc.property(fc.nat(50), fc.nat(60), fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: undefined }), (sent, received, rttMs) => {
        const s = netDetectIpState(reaches, { sent, received, rttMs });
        assert.ok(s.PacketLossRate! >= 0 && s.PacketLossRate! <= 100);
        assert.equal(s.State === 0, Math.min(sent, received) > 0);
      }),
    );
  });
  it('merges hosts: echoes summed, round trip weighted by answers', () => {
    assert.deepEqual(mergeProbes([{ sent: 5, received: 5, rttMs: 1 }, { sent: 5, received: 0 }, { sent: 5, received: 1, rttMs: 7 }]), { sent: 15, received: 6, rttMs: 2 });
    assert.equal(mergeProbes([]), undefined);
  });
});

describe('probe reports', () => {
  const good = { at: '2026-12-03T10:19:14.335Z', netDetects: [{ netDetectId: 'netd-abcdefgh', ip: '192.168.0.1', sent: 5, received: 4, rttMs: 0.2 }], underlay: [{ underlay: '100.64.0.12', sent: 5, received: 0 }] };
  it('accepts a well-formed report', () => assert.deepEqual(checkProbeReport(good), { ok: true, report: good }));
  it('refuses a malformed one whole, saying what is wrong', () => {
    for (const [bad, expect] of [
      [null, /not an object/],
      [{ ...good, at: 'yesterday' }, /`at`/],
      [{ ...good, underlay: 'x' }, /`underlay` is not an array/],
      [{ ...good, netDetects: [{ ...good.netDetects[0], netDetectId: 'vpc-1' }] }, /netDetects\.0 does not name a detection/],
      [{ ...good, netDetects: [{ ...good.netDetects[0], received: 6 }] }, /netDetects\.0\.received/],
      [{ ...good, underlay: [{ underlay: '100.64.0.12', sent: 5, received: 1, rttMs: -1 }] }, /underlay\.0\.rttMs/],
      [{ ...good, underlay: [{ underlay: 'h2', sent: 5, received: 1 }] }, /underlay\.0 does not name a peer/],
    ] as const) {
      const r = checkProbeReport(bad);
      assert.equal(r.ok, false, JSON.stringify(bad));
      assert.match((r as { errors: string[] }).errors.join('; '), expect);
    }
  });
});
