/**
 * `weft up`: a whole region on one machine — the controller, the agents'
 * endpoint and scheduler, a fabric and N hosts made of network namespaces,
 * and one agent process per host. `weft down` removes all of it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerHost } from '../controller/agents-endpoint.js';
import { startController } from '../controller/controller.js';
import { loadMasterKey } from '../accounts/secrets.js';
import { makeRegion } from '../core/region.js';
import { openStore } from '../store/store.js';
import { agentTlsDir, ensureAgentTls } from '../controller/agent-tls.js';
import { splitHostPort } from '../controller/listen.js';
import { planReplicas, readRun, startReplica, type ReplicaProcess } from './controllers.js';
import { checkTools, EDGE_TOOLS, missingTools } from '../dataplane/linux/preflight.js';
import { destroyRegion, ensureFabric, ensureHost, hostCpu, listNamespaces } from '../dataplane/linux/fabric.js';
import { alive, stopDaemons, stopProcess } from './processes.js';
import { upEdge } from './edge.js';
import { ensureLayout, paths, readLayout, UNDERLAY_PREFIX, writeToken } from './layout.js';
import { formatCidr } from '../core/cidr.js';

export type Dataplane = 'linux' | 'sim';

export interface UpOptions {
  dataDir: string;
  hosts: number;
  /** Gateway nodes (the internet edge); default 2. */
  gateways?: number;
  /** LB nodes (CLB); default 2, none without BIRD. */
  lbNodes?: number;
  listen: string;
  dataplane: Dataplane;
  database?: string;
  rateLimit?: number;
  /** Controller replicas (default 1, inside this process); more need PostgreSQL and run as processes of their own (controllers.ts). */
  controllers?: number;
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export const canUseLinux = () => process.platform === 'linux' && process.getuid?.() === 0;

/** The data dir's lock: the pid of the `weft up` that runs its region. */
export const lockFile = (dataDir: string) => join(dataDir, 'up.lock');

/** The pid of the live `weft up` holding the data dir's lock, if any (a lock of a dead pid is stale). */
export function lockHolder(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(lockFile(dataDir), 'utf8').trim());
  } catch {
    return undefined;
  }
  return pid > 0 && pid !== process.pid && alive(pid) && mayBeWeftUp(pid) ? pid : undefined;
}

/** False when the process is known to be something else than a `weft up` (its pid reused since, e.g. after a reboot). */
function mayBeWeftUp(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('up');
  } catch {
    return true; // no /proc: trust the pid
  }
}

export const alreadyRunning = (dataDir: string, pid: number) =>
  new Error(`a region is already running in ${dataDir} (weft up, pid ${pid}); stop it first with weft down --data-dir ${dataDir}`);

/**
 * Takes the data dir's lock for this process, or refuses while another live
 * `weft up` holds it: two controllers on one data dir rewrite each other's
 * credentials and host tokens and their agents fight. A dead holder's lock is
 * taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const f = lockFile(dataDir);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(f, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        // Only our own lock: a `weft down` may have removed it and another `weft up` taken it since.
        if (existsSync(f) && Number(readFileSync(f, 'utf8').trim()) === process.pid) rmSync(f, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
      const holder = lockHolder(dataDir);
      if (holder !== undefined) throw alreadyRunning(dataDir, holder);
      rmSync(f, { force: true }); // stale: its process is gone
    }
  }
}

export async function up(o: UpOptions) {
  if (o.dataplane === 'linux' && !canUseLinux()) throw new Error('the linux data plane needs root on Linux; use --dataplane sim');
  const unlock = lockDataDir(o.dataDir);
  try {
    return await start(o, unlock);
  } catch (e) {
    unlock();
    throw e;
  }
}

async function start(o: UpOptions, unlock: () => void) {
  // Asked for no number of gateways on a machine without BIRD: a region without an internet, said so.
  const gateways = o.gateways ?? (o.dataplane === 'linux' && missingTools(undefined, EDGE_TOOLS).length ? 0 : 2);
  if (o.gateways === undefined && gateways === 0)
    console.error(`weft up: no gateways or LB nodes (no internet, no load balancers): ${missingTools(undefined, EDGE_TOOLS).join(', ')} not installed (Debian/Ubuntu: apt-get install -y bird2 conntrackd conntrack)`);
  const lbNodes = o.lbNodes ?? (gateways > 0 || o.dataplane === 'sim' ? 2 : 0);
  if (o.dataplane === 'linux') checkTools(undefined, { gateways: gateways + lbNodes > 0 });
  const c = await startControllers(o);
  const p = paths(o.dataDir);
  const layout = ensureLayout(o.dataDir, o.hosts, c.region.zones.map((z) => z.name), gateways, lbNodes);
  mkdirSync(p.logs, { recursive: true });
  if (o.dataplane === 'linux') {
    await ensureFabric(layout.prefix);
    for (const [i, h] of layout.hosts.entries()) await ensureHost(layout.prefix, h.id, `${h.underlay}/${UNDERLAY_PREFIX}`, hostCpu(i));
    await upEdge(o.dataDir, layout, c.region.publicPools.map(formatCidr));
  }
  const agents = new Map<string, ChildProcess>();
  // Gateways and LB nodes run the same agent: their documents hold the VPCs whose public traffic or load balancers they carry.
  const nodes = [
    ...layout.hosts,
    ...(layout.gateways ?? []).map((g) => ({ id: g.id, zone: '', underlay: g.underlay, role: 'gateway' as const })),
    ...(layout.lbNodes ?? []).map((g) => ({ id: g.id, zone: '', underlay: g.underlay, role: 'lb' as const })),
  ];
  for (const h of nodes) {
    writeToken(o.dataDir, h.id, await registerHost(c.store, h));
    const log = createWriteStream(join(p.logs, `agent-${h.id}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [MAIN, 'agent', '--data-dir', o.dataDir, '--host-id', h.id, '--dataplane', o.dataplane, ...c.agentArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    agents.set(h.id, child);
  }
  writeFileSync(
    p.run,
    JSON.stringify({ pid: process.pid, dataplane: o.dataplane, agents: Object.fromEntries([...agents].map(([k, v]) => [k, v.pid])), ...(c.replicas ? { controllers: c.replicas } : {}) }) + '\n',
  );

  let closing: Promise<void> | undefined;
  return {
    controller: c,
    layout,
    close: () =>
      (closing ??= (async () => {
        await Promise.all(
          [...agents.values()].map(
            (a) =>
              new Promise<void>((ok) => {
                if (a.exitCode !== null || a.signalCode !== null) return ok();
                a.once('exit', () => ok());
                a.kill('SIGTERM');
              }),
          ),
        );
        await c.close();
        await stopDaemons(p.bird);
        await stopDaemons(p.conntrackd);
        if (o.dataplane === 'linux') await destroyRegion(layout.prefix);
        rmSync(p.sim, { recursive: true, force: true }); // the sim hosts' state, as the namespaces are the kernel's
        rmSync(p.run, { force: true });
        unlock();
      })()),
  };
}

/**
 * The region's controller: one inside this process, or N replicas as
 * processes of their own on PostgreSQL (controllers.ts), the first of which
 * gives the region's credentials.
 */
async function startControllers(o: UpOptions) {
  const n = o.controllers ?? 1;
  if (n <= 1) {
    const c = await startController({ dataDir: o.dataDir, listen: o.listen, database: o.database, rateLimit: o.rateLimit });
    return { ...c, replicas: undefined, agentArgs: [] as string[] };
  }
  if (!o.database || !/^postgres(ql)?:\/\//.test(o.database))
    throw new Error(`--controllers ${n} needs --database postgres://…: replicas share one PostgreSQL (SQLite serves one process)`);
  const store = await openStore(o.database);
  try {
    const key = loadMasterKey(o.dataDir).toString('base64');
    // One CA for the region: each replica serves agents with a certificate it signed, which every agent checks.
    const tls = ensureAgentTls(agentTlsDir(o.dataDir), [splitHostPort(o.listen)[0]]);
    const serverArgs = ['--database', o.database, '--rate-limit', String(o.rateLimit ?? 1000), '--agent-tls-cert', tls.cert, '--agent-tls-key', tls.key];
    const replicas: ReplicaProcess[] = [];
    const stopStarted = () => Promise.all(replicas.map((r) => stopProcess(r.pid)));
    try {
      // One after the other: the first creates the admin, the others join it.
      for (const r of await planReplicas(o.dataDir, n, o.listen, serverArgs)) replicas.push(await startReplica(store, o.dataDir, r, key));
    } catch (e) {
      await stopStarted();
      throw e;
    }
    const credentialsFile = join(o.dataDir, 'credentials.json');
    copyFileSync(join(replicas[0]!.dataDir, 'credentials.json'), credentialsFile);
    chmodSync(credentialsFile, 0o600);
    return {
      region: makeRegion('local', 2),
      store,
      endpoint: replicas[0]!.endpoint,
      credentialsFile,
      replicas,
      /** How agents reach the replicas: each one's TLS endpoint, in order, and the CA to check them by. */
      agentArgs: ['--controller', replicas.map((r) => r.agentEndpoint).join(','), '--ca', tls.ca],
      async close() {
        // Each from the run file: `weft node recover` may have started one again since.
        await Promise.all((readRun(o.dataDir)?.controllers ?? replicas).map((r) => stopProcess(r.pid)));
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Stops a region started by `weft up` (foreground or detached) and removes everything it made. */
export async function down(dataDir: string): Promise<string[]> {
  const p = paths(dataDir);
  const said: string[] = [];
  const layout = readLayout(dataDir);
  const linux = layout !== undefined && canUseLinux();
  // A `weft up` removes its namespaces itself when stopped: count them before stopping it.
  const before = linux ? await listNamespaces(layout.prefix) : [];
  const run = readRun(dataDir);
  if (run) {
    const stopped: number[] = [];
    for (const pid of [run.pid, ...Object.values(run.agents), ...(run.controllers ?? []).map((r) => r.pid)]) {
      if (!alive(pid)) continue;
      await stopProcess(pid);
      stopped.push(pid);
      said.push(`stopped process ${pid}`);
    }
    if (!stopped.length) said.push(`removed ${p.run}: none of its processes was running`);
    rmSync(p.run, { force: true });
  }
  // A `weft up` still starting (no run.json yet) holds the lock.
  const holder = lockHolder(dataDir);
  if (holder !== undefined) {
    await stopProcess(holder);
    said.push(`stopped process ${holder}`);
  }
  rmSync(lockFile(dataDir), { force: true });
  // Agents started by hand (`weft agent`) leave a pid file each.
  for (const h of [...(layout?.hosts ?? []), ...(layout?.gateways ?? []), ...(layout?.lbNodes ?? [])]) {
    const f = join(dataDir, 'agents', `${h.id}.pid`);
    if (!existsSync(f)) continue;
    const pid = Number(readFileSync(f, 'utf8'));
    if (alive(pid)) {
      process.kill(pid, 'SIGKILL');
      said.push(`stopped agent ${h.id} (${pid})`);
    }
    rmSync(f, { force: true });
  }
  const birds = await stopDaemons(p.bird);
  if (birds.length) said.push(`stopped BIRD of ${birds.join(', ')}`);
  const syncs = await stopDaemons(p.conntrackd);
  if (syncs.length) said.push(`stopped conntrackd of ${syncs.join(', ')}`);
  if (linux) {
    const removed = new Set([...before, ...(await destroyRegion(layout.prefix))]);
    if (removed.size) said.push(`removed ${removed.size} namespace(s) with prefix ${layout.prefix}`);
  }
  if (existsSync(p.sim)) {
    rmSync(p.sim, { recursive: true, force: true });
    said.push(`removed the sim hosts' state ${p.sim}`);
  }
  rmSync(p.socket, { force: true });
  if (!said.length) throw new Error(`no region running in ${dataDir}: nothing to stop or remove`);
  return said;
}
