/**
 * Many lightweight host agents in one process, for the sim scale bench: each
 * long-polls its host's document over the controller's agents socket with its
 * host token, applies it to an in-memory SimDriver and reports the revision,
 * as src/agent/agent.ts does (without the resync timer: nothing drifts in
 * memory). Bounded: every loop ends after `seconds`, or when stdin closes.
 *
 *   node dist/bench/lib/sim-agents.js CONFIG.json
 *   CONFIG: {"socket": "/…/agents.sock", "seconds": 600, "startPerSecond": 2000,
 *            "hosts": [{"id": "h1", "token": "…"}, …]}
 *
 * Prints one JSON line per event on stdout: {"e":"applied","h":id,"r":revision}
 * after a report was accepted, {"e":"error","h":id,"m":message} (rate-limited
 * per host by the backoff), {"e":"started","n":count} when every loop runs.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fetchDocument, sendReport, type LinkOptions } from '../../src/agent/controller-link.js';
import { SimDriver } from '../../src/dataplane/sim/driver.js';
import type { HostDocument } from '../../src/contract/host-document.js';

interface Config {
  socket: string;
  seconds: number;
  startPerSecond: number;
  hosts: { id: string; token: string }[];
}

// The agent link uses the global agent: keep every host's connection for its next request
// (the default keeps 256 idle ones, so 10,000 agents woken at once would all reconnect).
http.globalAgent = new http.Agent({ keepAlive: true, maxFreeSockets: 1 << 16 });

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Config;
const deadline = Date.now() + config.seconds * 1000;
let stopped = false;
process.stdin.on('end', () => (stopped = true));
process.stdin.on('close', () => (stopped = true));
process.stdin.resume();
// Exit through process.exit, so a --cpu-prof profile (bench --profile) is written.
process.on('SIGTERM', () => process.exit(0));

const emit = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function agent(h: { id: string; token: string }) {
  const link: LinkOptions = { controller: `unix:${config.socket}`, hostId: h.id, token: h.token };
  const driver = new SimDriver();
  let digest = '';
  let held: { document: HostDocument; digest: string } | undefined;
  let backoff = 250;
  let unreported: { revision: number; digest: string } | undefined; // applied, report not accepted yet: retried before the next poll
  while (!stopped && Date.now() < deadline) {
    try {
      if (unreported !== undefined) {
        await sendReport(link, { ...unreported, ok: true, changes: 1 });
        emit({ e: 'applied', h: h.id, r: unreported.revision });
        unreported = undefined;
      }
      const wait = Math.max(1, Math.min(25, Math.floor((deadline - Date.now()) / 1000)));
      // As the agent polls (agent.ts): with the document held, so a change comes as a delta and a failover resumes.
      const next = await fetchDocument(link, digest, wait, held ?? null);
      backoff = 250;
      if (!next) continue;
      digest = next.digest;
      held = { document: next.document, digest: next.digest };
      await driver.apply(next.document);
      unreported = { revision: next.document.revision, digest: next.digest };
    } catch (e) {
      if (stopped) break;
      emit({ e: 'error', h: h.id, m: e instanceof Error ? e.message : String(e) });
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 5000);
    }
  }
}

const loops: Promise<void>[] = [];
const batch = Math.max(1, Math.round(config.startPerSecond / 20));
for (let i = 0; i < config.hosts.length && !stopped; i += batch) {
  for (const h of config.hosts.slice(i, i + batch)) loops.push(agent(h));
  await sleep(50);
}
emit({ e: 'started', n: loops.length });
await Promise.all(loops);
process.exit(0);
