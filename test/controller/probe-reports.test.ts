/**
 * Probe reports of agents against a real store (SQLite, or PostgreSQL when
 * WEFT_TEST_DATABASE is set): what is kept (the latest figures per host
 * pair, bounded), what is dropped (unknown peers, deleted detections,
 * malformed reports), and the readers other parts call: underlayLinks and
 * the Prometheus gauges.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { receiveProbes } from '../../src/controller/probe-reports.js';
import { registerUnderlayMetrics } from '../../src/controller/underlay-metrics.js';
import { underlayLinks } from '../../src/store/net-detects.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, freshDatabase } from '../helpers/region.js';

describe(`probe reports and underlay figures (${engineName()})`, () => {
  let store: Store;
  let drop: () => Promise<void>;
  before(async () => {
    const db = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'weft-probes-'));
    drop = async () => {
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    };
    store = await openStore(db?.url ?? join(dir, 'weft.db'));
    for (const [id, underlay] of [
      ['h1', '100.64.0.11'],
      ['h2', '100.64.0.12'],
      ['h3', '100.64.0.13'],
    ] as const)
      await registerHost(store, { id, zone: 'local-1', underlay });
  });
  after(async () => {
    await store?.close();
    await drop?.();
  });

  it('keeps the latest figures per host pair, naming peers by their underlay address', async () => {
    const at = '2026-12-03T10:00:00.000Z';
    const r = await receiveProbes(store, 'h1', {
      at,
      netDetects: [{ netDetectId: 'netd-00000000', ip: '1.1.1.1', sent: 5, received: 5, rttMs: 1 }],
      underlay: [
        { underlay: '100.64.0.12', sent: 5, received: 4, rttMs: 0.5 },
        { underlay: '100.64.0.13', sent: 5, received: 0 },
        { underlay: '100.64.9.9', sent: 5, received: 5, rttMs: 1 },
        { underlay: '100.64.0.11', sent: 5, received: 5, rttMs: 0.01 },
      ],
    });
    // The unknown detection, the unknown peer and the host itself are dropped.
    assert.deepEqual(r, { status: 200, answer: { accepted: 2 } });
    assert.deepEqual(await underlayLinks(store), [
      { from: 'h1', to: 'h2', lossRate: 0.2, rttMs: 0.5, at },
      { from: 'h1', to: 'h3', lossRate: 1, rttMs: null, at },
    ]);
    assert.equal((await store.db.selectFrom('net_detect_results').selectAll().execute()).length, 0);
    const later = '2026-12-03T10:00:10.000Z';
    await receiveProbes(store, 'h1', { at: later, netDetects: [], underlay: [{ underlay: '100.64.0.12', sent: 5, received: 5, rttMs: 0.25 }] });
    const links = await underlayLinks(store);
    assert.equal(links.length, 2, 'one row per pair: bounded');
    assert.deepEqual(links[0], { from: 'h1', to: 'h2', lossRate: 0, rttMs: 0.25, at: later });
  });

  it('refuses a malformed report whole', async () => {
    const before = await underlayLinks(store);
    const r = await receiveProbes(store, 'h2', { at: '2026-12-03T10:00:20.000Z', netDetects: [], underlay: [{ underlay: '100.64.0.11', sent: 5, received: 9 }] });
    assert.equal(r.status, 400);
    assert.match((r as { error: string }).error, /underlay\.0\.received/);
    assert.deepEqual(await underlayLinks(store), before);
  });

  it('exports the figures as Prometheus gauges, read at each scrape', async () => {
    const registry = new Registry();
    registerUnderlayMetrics(registry, store, () => Date.parse('2026-12-03T10:00:12.000Z'));
    const text = await registry.metrics();
    assert.match(text, /^weft_underlay_loss_ratio\{from="h1",to="h2"\} 0$/m);
    assert.match(text, /^weft_underlay_loss_ratio\{from="h1",to="h3"\} 1$/m);
    assert.match(text, /^weft_underlay_rtt_seconds\{from="h1",to="h2"\} 0\.00025$/m);
    assert.doesNotMatch(text, /weft_underlay_rtt_seconds\{from="h1",to="h3"\}/, 'nothing answered: no round trip');
    assert.match(text, /^weft_underlay_probe_age_seconds\{from="h1",to="h2"\} 2$/m);
    // A host that leaves the region leaves the figures at the next report.
    await store.db.deleteFrom('hosts').where('id', '=', 'h3').execute();
    await receiveProbes(store, 'h2', { at: '2026-12-03T10:00:30.000Z', netDetects: [], underlay: [{ underlay: '100.64.0.11', sent: 5, received: 5, rttMs: 0.1 }] });
    assert.doesNotMatch(await registry.metrics(), /to="h3"/);
    assert.match(await registry.metrics(), /^weft_underlay_loss_ratio\{from="h2",to="h1"\} 0$/m);
  });
});
