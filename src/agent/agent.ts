/**
 * The host agent: a level-triggered reconcile loop. It holds the latest
 * document, applies it through its driver whenever it changes and again every
 * `resyncMs` (repairing drift: a link or rule deleted by hand comes back), and
 * reports the revision it applied. It keeps no state of its own: a restarted
 * agent fetches the whole document and the driver adopts what the kernel has.
 */
import type { HostDocument } from '../compile/host-document.js';
import { fetchDocument, sendReport, type LinkOptions } from './controller-link.js';

export interface Driver {
  /** Makes the data plane match the document; returns how many changes it made. */
  apply(doc: HostDocument): Promise<{ changes: number }>;
}

export interface AgentOptions extends LinkOptions {
  driver: Driver;
  resyncMs?: number;
  log?: (msg: string) => void;
}

export function runAgent(o: AgentOptions) {
  const log = o.log ?? ((m: string) => console.log(`[agent ${o.hostId}] ${m}`));
  let stopped = false;
  let doc: HostDocument | undefined;
  let digest = '';
  let applying: Promise<void> = Promise.resolve();

  const apply = () =>
    (applying = applying.then(async () => {
      if (!doc || stopped) return;
      const current = doc;
      try {
        const { changes } = await o.driver.apply(current);
        if (changes) log(`applied revision ${current.revision}: ${changes} change(s)`);
        await sendReport(o, { revision: current.revision, ok: true, changes });
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        log(`apply of revision ${current.revision} failed: ${error}`);
        await sendReport(o, { revision: current.revision, ok: false, error }).catch(() => {});
      }
    }));

  async function watch() {
    let backoff = 250;
    while (!stopped) {
      try {
        const next = await fetchDocument(o, digest);
        backoff = 250;
        if (next) {
          doc = next.document;
          digest = next.digest;
          await apply();
        }
      } catch (e) {
        if (stopped) break;
        log(`controller unreachable (${e instanceof Error ? e.message : String(e)}); retrying in ${backoff} ms`);
        await new Promise((ok) => setTimeout(ok, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  const resync = setInterval(() => void apply(), o.resyncMs ?? 10_000);
  const done = watch();
  return {
    done,
    async stop() {
      stopped = true;
      clearInterval(resync);
      await applying;
    },
  };
}
