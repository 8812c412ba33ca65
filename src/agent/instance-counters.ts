/**
 * The agent's counter reports: every `periodMs` (default 10 s, the finest
 * period GetMonitorData serves) it reads its instances' kernel counters
 * through `read` (dataplane/linux/instance-counters.ts) and posts them to the
 * controller (POST /v1/hosts/{id}/counters). The counters are cumulative, so
 * a lost report loses nothing but its timestamp's resolution.
 */
import type { HostDocument } from '../contract/host-document.js';
import type { InstanceCounterReport } from '../contract/agent-report.js';
import { sendCounters, type LinkOptions } from './controller-link.js';

export type CounterReader = (doc: HostDocument) => Promise<InstanceCounterReport>;

export function startInstanceCounters(o: LinkOptions, read: CounterReader, document: () => HostDocument | undefined, log: (m: string) => void, periodMs = 10_000) {
  let busy = false;
  const timer = setInterval(() => {
    const doc = document();
    if (busy || !doc) return;
    busy = true;
    void (async () => {
      const report = await read(doc);
      if (report.instances.length || report.conntrack.length || report.eips?.length) await sendCounters(o, report);
    })()
      .catch((e: unknown) => log(`counter report failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (busy = false));
  }, periodMs);
  return { stop: () => clearInterval(timer) };
}
