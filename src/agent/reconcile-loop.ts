/**
 * The agent's reconcile loop, in two tiers (docs/reconcile.md):
 *
 * - apply: the cheap tier, run when a new document arrives. The driver works
 *   from what it applied before (kept in memory) and touches only what the
 *   document changed. One apply is in flight at a time; documents that
 *   arrive meanwhile set a dirty flag, and the next apply takes the newest
 *   (a backlog of ten changes is one more apply, not ten). A failed apply is
 *   tried again after a back-off.
 * - audit: the thorough tier, every `auditMs` (jittered, so a region's hosts
 *   spread their audits over time): the driver reads the whole data plane
 *   back, compares it with the document last applied and repairs what
 *   differs. What it had to change is drift, recorded and reported.
 *
 * Reports: after each apply and audit the latest state goes to the
 * controller with the drift not yet delivered. A report that fails is kept
 * and sent again (with back-off) until the controller takes it or refuses it
 * for good (a 4xx: sending it again would not change the answer). Drift
 * waiting to be sent is bounded: the oldest records go first.
 *
 * Pure of I/O: the driver and the transport are given, so the loop logic is
 * tested with fakes (test/agent/reconcile-loop.test.ts).
 */
import { performance } from 'node:perf_hooks';
import type { HostDocument } from '../contract/host-document.js';
import { MAX_DRIFT_PER_REPORT, type AgentReport, type AuditSummary, type DriftRecord } from '../contract/agent-report.js';

/** A change an audit made (or failed to make): a DriftRecord without when and which revision. */
export type Repair = Omit<DriftRecord, 'at' | 'revision'>;

export interface AuditOutcome {
  changes: number;
  repairs: Repair[];
  /** Set when some repairs failed (they are among `repairs`, repaired: false). */
  error?: string;
}

export interface LoopDriver {
  apply(doc: HostDocument): Promise<{ changes: number; timings?: Record<string, number> }>;
  /** A full read of the data plane against `doc` (already applied), repairing what differs. Absent: a plain apply stands in. */
  audit?(doc: HostDocument): Promise<AuditOutcome>;
}

/** A report the controller answered with 4xx: it will not take it however often it is sent. */
export class ReportRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface LoopOptions {
  driver: LoopDriver;
  send(report: AgentReport): Promise<void>;
  /** A line of the agent's log; `fields` go beside it (the request IDs an apply carried out). */
  log(msg: string, fields?: Record<string, unknown>): void;
  /** After every apply (the LB node's health checks follow the document). */
  afterApply?(doc: HostDocument): void;
  /** Mean time between audits; 0: none. */
  auditMs: number;
  /** First retry of a failed apply or report; doubles up to 30 s. */
  retryMs?: number;
  random?: () => number;
  now?: () => Date;
}

/** `read 12, plan 3, ip 40 ms`: the phases that took any time, slowest first. */
export const formatTimings = (t: Record<string, number>) =>
  Object.entries(t)
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, ms]) => `${k} ${ms}`)
    .join(', ') + ' ms';

/** The next audit: between ¾ and 1¼ of the period, so hosts started together drift apart. */
export const jittered = (periodMs: number, random: () => number) => Math.round(periodMs * (0.75 + 0.5 * random()));

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function createReconcileLoop(o: LoopOptions) {
  const random = o.random ?? Math.random;
  const now = o.now ?? (() => new Date());
  const retryBase = o.retryMs ?? 1000;
  let stopped = false;
  let doc: HostDocument | undefined;
  let digest = '';
  /** The API requests whose changes the documents set since the last successful apply carry (core/log.ts). */
  let requests = new Set<string>();
  let dirty = false;
  let auditDue = false;
  let running = false;
  let busy: Promise<void> = Promise.resolve();
  /** The digest of the document the last apply succeeded with ('' until one has). */
  let appliedDigest = '';
  let last: Omit<AgentReport, 'audit' | 'drift'> | undefined;
  let audit: AuditSummary | undefined;
  const drift: DriftRecord[] = [];
  let droppedDrift = 0;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, f: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) f();
    }, ms);
    timers.add(t);
    return t;
  };
  let applyRetryMs = retryBase;
  let applyRetry: NodeJS.Timeout | undefined;
  let auditTimer: NodeJS.Timeout | undefined;
  const counts = { applies: 0, audits: 0, reports: 0 };

  function kick() {
    if (running || stopped || !doc) return;
    running = true;
    busy = run();
  }

  async function run() {
    try {
      while (!stopped && doc && (dirty || auditDue)) {
        if (dirty) {
          dirty = false;
          await applyOnce(doc, digest);
        } else {
          auditDue = false;
          // Audits compare the kernel with what was applied: a document not applied yet is applied first.
          if (appliedDigest !== digest) dirty = true;
          else await auditOnce(doc, digest);
        }
      }
    } finally {
      // No await between the loop's last test and this: a document set meanwhile finds running false and starts a run.
      running = false;
    }
  }

  async function applyOnce(current: HostDocument, currentDigest: string) {
    counts.applies++;
    if (applyRetry) {
      clearTimeout(applyRetry);
      timers.delete(applyRetry);
      applyRetry = undefined;
    }
    const t0 = performance.now();
    const carried = requests;
    requests = new Set();
    try {
      const { changes, timings } = await o.driver.apply(current);
      const ms = Math.round(performance.now() - t0);
      const requestIds = [...carried];
      if (changes || ms >= 1000 || requestIds.length)
        o.log(`applied revision ${current.revision}: ${changes} change(s) in ${ms} ms${timings ? ` (${formatTimings(timings)})` : ''}`, {
          revision: current.revision,
          changes,
          ms,
          ...(requestIds.length ? { requestIds } : {}),
        });
      appliedDigest = currentDigest;
      applyRetryMs = retryBase;
      last = { revision: current.revision, digest: currentDigest, ok: true, changes };
    } catch (e) {
      o.log(`apply of revision ${current.revision} failed: ${message(e)}; trying again in ${applyRetryMs} ms`, { revision: current.revision, failed: true });
      for (const r of carried) requests.add(r); // carried out by the retry
      appliedDigest = '';
      last = { revision: current.revision, digest: currentDigest, ok: false, error: message(e).slice(0, 2000) };
      applyRetry = later(applyRetryMs, () => {
        applyRetry = undefined;
        dirty = true;
        kick();
      });
      applyRetryMs = Math.min(applyRetryMs * 2, 30_000);
    }
    o.afterApply?.(current);
    report();
  }

  async function auditOnce(current: HostDocument, currentDigest: string) {
    counts.audits++;
    const t0 = performance.now();
    let outcome: AuditOutcome;
    try {
      outcome = o.driver.audit ? await o.driver.audit(current) : { changes: (await o.driver.apply(current)).changes, repairs: [] };
    } catch (e) {
      outcome = { changes: 0, repairs: [], error: message(e) };
    }
    const at = now().toISOString();
    const ms = Math.round(performance.now() - t0);
    audit = { at, revision: current.revision, digest: currentDigest, ms, ok: !outcome.error, repairs: outcome.repairs.filter((r) => r.repaired).length, ...(outcome.error ? { error: outcome.error.slice(0, 2000) } : {}) };
    for (const r of outcome.repairs) drift.push({ at, revision: current.revision, ...r, what: r.what.slice(0, 500) });
    if (drift.length > MAX_DRIFT_PER_REPORT) droppedDrift += drift.splice(0, drift.length - MAX_DRIFT_PER_REPORT).length;
    if (outcome.repairs.length || outcome.error)
      o.log(`audit of revision ${current.revision}: ${outcome.repairs.length} drift(s) in ${ms} ms${outcome.error ? `; failed: ${outcome.error}` : ''}`);
    // An audit that could not repair leaves the kernel unknown: the next document change reads it whole too.
    if (outcome.error && appliedDigest === currentDigest) appliedDigest = '';
    report();
    scheduleAudit();
  }

  function scheduleAudit(first = false) {
    if (!o.auditMs || stopped) return;
    if (auditTimer) {
      clearTimeout(auditTimer);
      timers.delete(auditTimer);
    }
    // The first audit anywhere in one period: hosts started together do not audit together.
    auditTimer = later(first ? Math.round(o.auditMs * random()) : jittered(o.auditMs, random), () => {
      auditTimer = undefined;
      auditDue = true;
      kick();
      // An audit that found the loop busy runs after it; one that could not run (no document yet) is tried next period.
      if (!doc) scheduleAudit();
    });
  }

  // ---- reports ----
  let sending = false;
  let again = false;
  let reportRetryMs = retryBase;
  let reportRetry: NodeJS.Timeout | undefined;

  function report() {
    if (!last || stopped) return;
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    const batch = drift.slice();
    const body: AgentReport = { ...last, ...(audit ? { audit } : {}), ...(batch.length ? { drift: batch } : {}) };
    o.send(body).then(
      () => {
        counts.reports++;
        // Delivered: those records are the controller's now (newer ones may have come in meanwhile).
        drift.splice(0, batch.length);
        reportRetryMs = retryBase;
        done();
      },
      (e: unknown) => {
        if (e instanceof ReportRefused) {
          o.log(`status report refused (${e.status}): ${e.message}; its ${batch.length} drift record(s) are dropped`);
          drift.splice(0, batch.length);
          return done();
        }
        o.log(`status report failed (${message(e)}); sending again in ${reportRetryMs} ms`);
        if (!reportRetry)
          reportRetry = later(reportRetryMs, () => {
            reportRetry = undefined;
            report();
          });
        reportRetryMs = Math.min(reportRetryMs * 2, 30_000);
        sending = false;
      },
    );
    function done() {
      sending = false;
      if (again) {
        again = false;
        report();
      }
    }
  }

  scheduleAudit(true);

  return {
    /** A new document (the controller's digest of it): applied as soon as the loop is free. */
    set(next: HostDocument, nextDigest: string, requestIds: readonly string[] = []) {
      doc = next;
      digest = nextDigest;
      for (const r of requestIds) requests.add(r);
      dirty = true;
      kick();
    },
    /** Asks for an audit now (tests, `kill -USR1`). */
    auditNow() {
      auditDue = true;
      kick();
    },
    /** Resolves when no apply or audit is running. */
    idle: () => busy,
    /** What the loop has done (tests). */
    counts,
    get droppedDrift() {
      return droppedDrift;
    },
    get pendingDrift() {
      return drift.length;
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await busy;
    },
  };
}
