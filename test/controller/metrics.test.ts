/**
 * The metrics registry against what reads it: every metric the Grafana
 * dashboard queries and docs/operations.md lists exists in the controller's
 * registry, and each controller's registry holds only its own figures.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createMetrics } from '../../src/controller/metrics.js';
import { registerUnderlayMetrics } from '../../src/controller/underlay-metrics.js';
import { openStore } from '../../src/store/store.js';
import { ROOT } from '../helpers/region.js';

/** The names in a registry made as the controller makes it (controller.ts): its own metrics and the underlay's. */
const registered = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-metrics-'));
  const store = await openStore(join(dir, 'weft.db'));
  try {
    const m = createMetrics();
    registerUnderlayMetrics(m.registry, store);
    return new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
const base = (name: string) => name.replace(/_(bucket|count|sum)$/, '');

test('every metric the dashboard queries is registered', async () => {
  const names = await registered();
  const dashboard = readFileSync(join(ROOT, 'ops/grafana/weft.json'), 'utf8');
  const used = new Set([...dashboard.matchAll(/\bweft_[a-z_]+/g)].map((m) => base(m[0])));
  assert.ok(used.size >= 10, `the dashboard queries ${used.size} metrics`);
  for (const n of used) assert.ok(names.has(n), `${n} (in ops/grafana/weft.json) is not registered`);
});

test('docs/operations.md lists every registered metric, and only those', async () => {
  const names = await registered();
  const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
  const listed = new Set([...doc.matchAll(/^\|[^|]*`(weft_[a-z_]+)`/gm)].flatMap((m) => [...m[0].matchAll(/`(weft_[a-z_]+)`/g)].map((x) => x[1]!)));
  assert.deepEqual([...listed].sort(), [...names].sort());
});

test('two controllers in one process keep their own figures', async () => {
  const a = createMetrics();
  const b = createMetrics();
  a.observeApi('DescribeVpcs', 'OK', 0.01);
  a.recordDriftRepairs('h1', 2);
  a.addInstance('ins-abcd1234', 'h1', { inBytes: 10, outBytes: 20, inPackets: 1, outPackets: 2, sgDropPackets: 0, aclDropPackets: 3 });
  const ta = await a.render();
  const tb = await b.render();
  assert.match(ta, /^weft_api_requests_total\{action="DescribeVpcs",code="OK"\} 1$/m);
  assert.match(ta, /^weft_drift_repairs_total\{host="h1"\} 2$/m);
  assert.match(ta, /^weft_instance_acl_drop_packets_total\{instance="ins-abcd1234",host="h1"\} 3$/m);
  assert.doesNotMatch(tb, /DescribeVpcs|ins-abcd1234|host="h1"/);
});
