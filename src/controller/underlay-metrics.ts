/**
 * Underlay full-link monitoring in Prometheus: per host pair, the loss and
 * round trip of the latest probes (store/net-detects.ts underlayLinks), read
 * from the store at each scrape, so every controller replica answers the
 * same. For the /metrics endpoint to register:
 *
 *   registerUnderlayMetrics(registry, store)
 *
 *   weft_underlay_loss_ratio{from="h1",to="h2"} 0
 *   weft_underlay_rtt_seconds{from="h1",to="h2"} 0.00009   (absent: nothing answered)
 *   weft_underlay_probe_age_seconds{from="h1",to="h2"} 1.2
 */
import { Gauge, type Registry } from 'prom-client';
import { underlayLinks } from '../store/net-detects.js';
import type { Store } from '../store/store.js';

export function registerUnderlayMetrics(registry: Registry, store: Pick<Store, 'db'>, now: () => number = Date.now) {
  const labelNames = ['from', 'to'] as const;
  // A scrape collects the gauges concurrently: they share one read of the store (the one in flight).
  let reading: Promise<void> | undefined;
  const refresh = () =>
    (reading ??= (async () => {
      try {
        const links = await underlayLinks(store);
        loss.reset();
        rtt.reset();
        age.reset();
        for (const l of links) {
          const labels = { from: l.from, to: l.to };
          loss.set(labels, l.lossRate);
          if (l.rttMs !== null) rtt.set(labels, l.rttMs / 1000);
          age.set(labels, Math.max(0, (now() - Date.parse(l.at)) / 1000));
        }
      } finally {
        reading = undefined;
      }
    })());
  const collect = async () => refresh();
  const loss = new Gauge({ name: 'weft_underlay_loss_ratio', help: 'Share of underlay probes (ICMP echoes) from one host to another lost in the latest round (0-1).', labelNames, registers: [registry], collect });
  const rtt = new Gauge({ name: 'weft_underlay_rtt_seconds', help: 'Mean round trip of the answered underlay probes from one host to another in the latest round.', labelNames, registers: [registry], collect });
  const age = new Gauge({
    name: 'weft_underlay_probe_age_seconds',
    help: 'Seconds since the latest underlay probe round from one host to another (a host whose agent stopped reporting grows old here).',
    labelNames,
    registers: [registry],
    collect,
  });
  return { loss, rtt, age };
}
