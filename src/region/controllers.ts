/**
 * The controller replicas of a region in a box (`weft up --controllers N`,
 * N ≥ 2, on PostgreSQL). Each is a `weft server` process of its own — so a
 * failure drill can kill one as a crash would — with its own data dir
 * (DATA_DIR/controllers/ctlK) and API port, serving agents over TLS on a port
 * of its own; all share the database and the region's master key (passed as
 * WEFT_MASTER_KEY), so a replica's data dir joining the store gets the admin's
 * credentials (accounts.ts existingCredentials). `weft node fail ctlK` kills
 * it with SIGKILL; `weft node recover ctlK` starts it again with the same
 * arguments, ports included, so its endpoints stay what agents and clients
 * were given. Processes are detached with their output in DATA_DIR/logs, so
 * they outlive the command that started them (`weft node recover`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitHostPort } from '../controller/listen.js';
import { paths } from './layout.js';
import { alive } from './processes.js';
import type { Store } from '../store/store.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '../../cli/main.js');

export interface ReplicaProcess {
  name: string;
  pid: number;
  /** API endpoint (host:port). */
  endpoint: string;
  /** Where it serves agents (host:port, TLS). */
  agentEndpoint: string;
  dataDir: string;
  /** The `weft server` arguments, to start it again as it was. */
  args: string[];
}

/** A port free on `host` now (the kernel's pick). */
export function freePort(host: string): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail).listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** The replicas' names, data dirs and ports: API ports from `listen`'s on (each its own when it is 0), agent ports the kernel's. */
export async function planReplicas(dataDir: string, n: number, listen: string, serverArgs: string[]): Promise<Omit<ReplicaProcess, 'pid'>[]> {
  const [host, port] = splitHostPort(listen);
  const out: Omit<ReplicaProcess, 'pid'>[] = [];
  for (let k = 1; k <= n; k++) {
    const name = `ctl${k}`;
    const endpoint = `${host}:${port ? port + k - 1 : await freePort(host)}`;
    const agentEndpoint = `${host}:${await freePort(host)}`;
    const dir = join(resolve(dataDir), 'controllers', name);
    out.push({ name, endpoint, agentEndpoint, dataDir: dir, args: ['server', '--data-dir', dir, '--listen', endpoint, '--agent-listen', agentEndpoint, '--name', name, ...serverArgs] });
  }
  return out;
}

/**
 * Starts replica `r` (detached) and waits until it has joined the replicas
 * (its row in the store names its process: it serves the API and agents, and
 * its credentials are written); `masterKey` is the region's (base64).
 */
export async function startReplica(store: Store, regionDir: string, r: Omit<ReplicaProcess, 'pid'>, masterKey: string, timeoutMs = 30_000): Promise<ReplicaProcess> {
  mkdirSync(r.dataDir, { recursive: true, mode: 0o700 });
  const logs = paths(regionDir).logs;
  mkdirSync(logs, { recursive: true });
  const log = openSync(join(logs, `controller-${r.name}.log`), 'a');
  const child = spawn(process.execPath, [MAIN, ...r.args], { detached: true, stdio: ['ignore', log, log], env: { ...process.env, WEFT_MASTER_KEY: masterKey } });
  closeSync(log);
  child.unref();
  const pid = child.pid!;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive(pid)) throw new Error(`controller ${r.name} exited while starting; see ${join(logs, `controller-${r.name}.log`)}`);
    const row = await store.db.selectFrom('controllers').select('pid').where('id', '=', r.name).executeTakeFirst();
    if (row?.pid === pid) return { ...r, pid };
    if (Date.now() > deadline) throw new Error(`controller ${r.name} did not start within ${timeoutMs / 1000} s; see ${join(logs, `controller-${r.name}.log`)}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

interface RunFile {
  pid: number;
  dataplane: string;
  agents: Record<string, number>;
  controllers?: ReplicaProcess[];
}

export const readRun = (dataDir: string): RunFile | undefined => {
  const f = paths(dataDir).run;
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RunFile) : undefined;
};

/** Records replica `r`'s new process in the region's run file. */
export function recordReplica(dataDir: string, r: ReplicaProcess) {
  const run = readRun(dataDir);
  if (!run) throw new Error(`no region running in ${dataDir}`);
  run.controllers = (run.controllers ?? []).map((c) => (c.name === r.name ? r : c));
  writeFileSync(paths(dataDir).run, JSON.stringify(run) + '\n');
}
