/**
 * Agent status reports through the distribution endpoint, against a real
 * store (SQLite, or PostgreSQL when WEFT_TEST_DATABASE is set): a report of
 * the document the controller gave out moves the host's applied revision; one
 * with another digest, a revision ahead or a bad shape is refused (the agent
 * link's ReportRefused) and changes nothing; drift is stored with bounded
 * retention and counted (driftRepairCounts, regionStatus).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fetchDocument, sendReport } from '../../src/agent/controller-link.js';
import { ReportRefused } from '../../src/agent/reconcile-loop.js';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { DRIFT_RETENTION_MS, MAX_DRIFT_ROWS_PER_HOST, driftRepairCounts, recordReport } from '../../src/controller/agent-reports.js';
import { createDistribution } from '../../src/controller/distribution.js';
import { regionStatus } from '../../src/controller/region-status.js';
import { openStore, type Store } from '../../src/store/store.js';
import type { DriftRecord } from '../../src/contract/agent-report.js';
import { engineName, freshDatabase } from '../helpers/region.js';

describe(`agent status reports (${engineName()})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-agent-status-'));
  const socket = join(dir, 'agents.sock');
  let store: Store;
  let server: Server;
  let dist: ReturnType<typeof createDistribution>;
  let drop: (() => Promise<void>) | undefined;
  let link: { controller: string; hostId: string; token: string };

  before(async () => {
    const db = await freshDatabase();
    drop = db?.drop;
    store = await openStore(db?.url ?? join(dir, 'weft.db'));
    const token = await registerHost(store, { id: 'h1', zone: 'local-1', underlay: '100.64.0.11' });
    await registerHost(store, { id: 'h2', zone: 'local-2', underlay: '100.64.0.12' });
    dist = createDistribution(store, { pollMs: 100 });
    server = dist.serve();
    await new Promise<void>((ok) => server.listen(socket, ok));
    link = { controller: `unix:${socket}`, hostId: 'h1', token };
  });
  after(async () => {
    await new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    });
    dist.close();
    await store.close();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const applied = async (id = 'h1') => (await store.db.selectFrom('hosts').select(['applied_revision', 'applied_digest']).where('id', '=', id).executeTakeFirstOrThrow());

  it('takes a report of the document given out, and refuses one it did not give out', async () => {
    const got = (await fetchDocument(link, '', 1))!;
    const { revision } = got.document;
    await assert.rejects(sendReport(link, { revision, digest: 'f'.repeat(64), ok: true }), (e) => e instanceof ReportRefused && e.status === 400 && /digest/.test(e.message));
    await assert.rejects(sendReport(link, { revision: revision + 1, digest: got.digest, ok: true }), (e) => e instanceof ReportRefused && /ahead/.test(e.message));
    await assert.rejects(sendReport(link, { revision, ok: true } as never), (e) => e instanceof ReportRefused && /digest/.test(e.message));
    assert.equal(Number((await applied()).applied_revision), 0, 'refused reports changed nothing');
    await sendReport(link, { revision, digest: got.digest, ok: false, error: 'nft: boom' });
    assert.equal(Number((await applied()).applied_revision), 0, 'a failed apply does not count');
    await sendReport(link, { revision, digest: got.digest, ok: true, changes: 3 });
    assert.deepEqual({ ...(await applied()) }, { applied_revision: revision, applied_digest: got.digest });
  });

  it('stores drift with bounded retention and counts it', async () => {
    const got = (await fetchDocument(link, '', 1))!;
    const now = Date.now();
    const rec = (i: number, at: number, repaired = true): DriftRecord => ({
      at: new Date(at).toISOString(),
      revision: got.document.revision,
      vpcId: 'vpc-00000001',
      ns: 'w-h1-vpc-00000001',
      kind: 'ip',
      what: `route replace 10.0.0.${i % 250}/32 dev p1`,
      repaired,
    });
    const audit = { at: new Date(now).toISOString(), ms: 12, ok: true, repairs: 2 };
    await sendReport(link, { revision: got.document.revision, digest: got.digest, ok: true, audit, drift: [rec(1, now), rec(2, now, false)] });
    assert.deepEqual(driftRepairCountsOf(await driftRepairCounts(store)), { h1: { found: 2, repaired: 1 }, h2: { found: 0, repaired: 0 } });
    // More than a host keeps: only the newest stay.
    for (let batch = 0; batch < 6; batch++)
      await recordReport(store, 'h1', { revision: got.document.revision, digest: got.digest, ok: true, drift: Array.from({ length: 200 }, (_, i) => rec(i, now)) }, true, new Date(now + (batch + 1) * 1000));
    const rows = await store.db.selectFrom('drift_events').select((eb) => eb.fn.countAll<number>().as('n')).where('host_id', '=', 'h1').executeTakeFirstOrThrow();
    assert.ok(Number(rows.n) <= MAX_DRIFT_ROWS_PER_HOST && Number(rows.n) >= MAX_DRIFT_ROWS_PER_HOST - 200, `${rows.n} rows kept`);
    // And nothing older than the retention period.
    await recordReport(store, 'h2', { revision: 0, digest: 'ab'.repeat(32), ok: true, drift: [rec(1, now)] }, false, new Date(now + DRIFT_RETENTION_MS + 10_000));
    const left = await store.db.selectFrom('drift_events').select('host_id').execute();
    assert.deepEqual(left.map((r) => r.host_id), ['h2'], 'old rows expired');
    const status = await regionStatus(store, { controller: { up: true, pid: process.pid, address: null }, connected: dist.connected });
    const h1 = status.hosts.find((h) => h.name === 'h1')!;
    assert.equal(h1.driftFound, 2 + 1200);
    assert.equal(h1.driftRepairs, 1 + 1200);
    assert.equal(h1.lastAudit, audit.at);
    assert.equal(h1.revision, got.document.revision);
    assert.equal(status.hosts.find((h) => h.name === 'h2')!.appliedRevision, 0, 'a report that does not count moves nothing');
  });
});

const driftRepairCountsOf = (m: Map<string, { found: number; repaired: number }>) => Object.fromEntries([...m].sort());
