/**
 * The agent's reconcile loop with a fake driver and transport (the loop is
 * pure of I/O): documents that arrive while an apply runs are coalesced into
 * one more apply of the newest; a failed apply is tried again; audits run on
 * their period only over an applied document and their drift reaches the
 * controller even when reports fail for a while; a refused report is not
 * sent forever.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReconcileLoop, jittered, ReportRefused, type AuditOutcome } from '../../src/agent/reconcile-loop.js';
import type { AgentReport } from '../../src/contract/agent-report.js';
import type { HostDocument } from '../../src/contract/host-document.js';

const doc = (revision: number): HostDocument => ({ hostId: 'h1', revision, underlay: '192.0.2.1', vpcs: [] }) as unknown as HostDocument;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** A driver whose applies wait until released, recording what they were given. */
function slowDriver() {
  const applied: number[] = [];
  const audited: number[] = [];
  let release: (() => void) | undefined;
  let fail = 0;
  let drift: AuditOutcome['repairs'] = [];
  return {
    applied,
    audited,
    failNext(n: number) {
      fail = n;
    },
    driftNext(d: AuditOutcome['repairs']) {
      drift = d;
    },
    release: () => release?.(),
    driver: {
      async apply(d: HostDocument) {
        applied.push(d.revision);
        await new Promise<void>((ok) => (release = ok));
        release = undefined;
        if (fail > 0) {
          fail--;
          throw new Error('nft: boom');
        }
        return { changes: 1 };
      },
      async audit(d: HostDocument): Promise<AuditOutcome> {
        audited.push(d.revision);
        const repairs = drift;
        drift = [];
        return { changes: repairs.length, repairs };
      },
    },
  };
}

describe('reconcile loop', () => {
  it('runs one apply at a time and applies only the newest of the documents that came meanwhile', async () => {
    const d = slowDriver();
    const reports: AgentReport[] = [];
    const loop = createReconcileLoop({ driver: d.driver, send: async (r) => void reports.push(r), log: () => {}, auditMs: 0 });
    loop.set(doc(1), 'aa01');
    await until(() => d.applied.length === 1);
    for (let r = 2; r <= 10; r++) loop.set(doc(r), `aa${String(r).padStart(2, '0')}`);
    await sleep(20);
    assert.deepEqual(d.applied, [1], 'a second apply started while one was in flight');
    d.release();
    await until(() => d.applied.length === 2);
    assert.deepEqual(d.applied, [1, 10], 'the backlog is one apply of the newest document');
    d.release();
    await loop.idle();
    await until(() => reports.length > 0 && reports.at(-1)!.revision === 10);
    assert.deepEqual({ ...reports.at(-1)! }, { revision: 10, digest: 'aa10', ok: true, changes: 1 });
    await loop.stop();
  });

  it('tries a failed apply again and reports the failure meanwhile', async () => {
    const d = slowDriver();
    const reports: AgentReport[] = [];
    const loop = createReconcileLoop({ driver: d.driver, send: async (r) => void reports.push(r), log: () => {}, auditMs: 0, retryMs: 30 });
    d.failNext(1);
    loop.set(doc(3), 'bb03');
    await until(() => d.applied.length === 1);
    d.release();
    await until(() => reports.some((r) => !r.ok));
    assert.match(reports.find((r) => !r.ok)!.error!, /boom/);
    await until(() => d.applied.length === 2);
    d.release();
    await until(() => reports.at(-1)?.ok === true);
    assert.equal(reports.at(-1)!.revision, 3);
    await loop.stop();
  });

  it('audits on its period, only an applied document, and keeps drift until a report is taken', async () => {
    const d = slowDriver();
    const taken: AgentReport[] = [];
    let down = true;
    const loop = createReconcileLoop({
      driver: d.driver,
      send: async (r) => {
        if (down) throw new Error('connect ECONNREFUSED');
        taken.push(r);
      },
      log: () => {},
      auditMs: 40,
      retryMs: 20,
      random: () => 0.5,
    });
    await sleep(100);
    assert.equal(d.audited.length, 0, 'an audit ran with no document');
    loop.set(doc(5), 'cc05');
    await until(() => d.applied.length === 1);
    d.driftNext([{ vpcId: 'vpc-1', ns: 'w-h1-vpc-1', kind: 'nft', what: 'add table inet weft', repaired: true }]);
    d.release();
    await until(() => d.audited.length >= 2);
    assert.ok(d.audited.every((r) => r === 5));
    assert.equal(loop.pendingDrift, 1, 'drift was dropped while the controller was unreachable');
    down = false;
    await until(() => taken.some((r) => r.drift?.length));
    const r = taken.find((x) => x.drift?.length)!;
    assert.equal(r.drift![0]!.what, 'add table inet weft');
    assert.equal(r.drift![0]!.revision, 5);
    assert.ok(r.audit && r.audit.ok);
    assert.deepEqual([r.audit.revision, r.audit.digest], [5, 'cc05'], 'the audit says which document the kernel was read back against');
    await until(() => loop.pendingDrift === 0);
    await loop.stop();
  });

  it('drops what the controller refuses instead of sending it forever', async () => {
    const d = slowDriver();
    let sent = 0;
    const loop = createReconcileLoop({
      driver: d.driver,
      send: async () => {
        sent++;
        throw new ReportRefused(400, 'revision ahead');
      },
      log: () => {},
      auditMs: 0,
      retryMs: 10,
    });
    loop.set(doc(1), 'dd01');
    await until(() => d.applied.length === 1);
    d.release();
    await until(() => sent === 1);
    await sleep(80);
    assert.equal(sent, 1);
    await loop.stop();
  });

  it('spreads audits between ¾ and 1¼ of the period', () => {
    assert.equal(jittered(8000, () => 0), 6000);
    assert.equal(jittered(8000, () => 0.999999), 10000);
  });
});
