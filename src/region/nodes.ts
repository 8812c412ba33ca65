/**
 * `weft node list|fail|recover`: the region's nodes and failure drills. On
 * the linux data plane a node's state is its fabric ports' (a failed node's
 * ports are down; everything inside it keeps running, as when a switch port
 * or its power fails, and routers notice by BFD); on the sim data plane the
 * failed nodes are recorded in the data dir.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadMasterKey } from '../accounts/secrets.js';
import { openStore } from '../store/store.js';
import { readRun, recordReplica, startReplica } from './controllers.js';
import { alive } from './processes.js';
import { nodeLinksUp, setNodeLinks } from '../dataplane/linux/edge.js';
import { paths, readLayout, type RegionLayout } from './layout.js';

export interface NodeInfo {
  name: string;
  role: 'host' | 'gateway' | 'lb' | 'controller';
  zone?: string;
  state: 'up' | 'failed';
  /** A controller's API endpoint (host:port). */
  endpoint?: string;
}

type Kernel = 'linux' | 'sim';

const layoutOf = (dataDir: string): RegionLayout => {
  const layout = readLayout(dataDir);
  if (!layout) throw new Error(`no region in ${dataDir}; run weft up first`);
  return layout;
};

/** Which data plane the region runs: the one `weft up` recorded, else the namespaces decide. */
const kernelOf = (dataDir: string): Kernel => {
  return (readRun(dataDir)?.dataplane as Kernel | undefined) ?? (process.getuid?.() === 0 ? 'linux' : 'sim');
};

const readFailed = (dataDir: string): string[] => {
  const f = paths(dataDir).failed;
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as string[]) : [];
};

/**
 * The region's controller replicas, when `weft up --controllers N` runs them
 * as processes of their own (up while their process lives). A region with one
 * controller runs it inside `weft up`, which is not a node to fail.
 */
function controllerNodes(dataDir: string): NodeInfo[] {
  return (readRun(dataDir)?.controllers ?? []).map((r) => ({ name: r.name, role: 'controller' as const, state: alive(r.pid) ? 'up' : 'failed', endpoint: r.endpoint }));
}

/** Kills controller replica `name` as a crash would (SIGKILL), or starts it again as it was. */
async function setController(dataDir: string, name: string, up: boolean): Promise<NodeInfo> {
  const replica = readRun(dataDir)?.controllers?.find((r) => r.name === name)!;
  if (!up) {
    if (alive(replica.pid)) process.kill(replica.pid, 'SIGKILL');
    for (let i = 0; alive(replica.pid) && i < 100; i++) await new Promise((ok) => setTimeout(ok, 50));
  } else if (!alive(replica.pid)) {
    const database = replica.args[replica.args.indexOf('--database') + 1]!;
    const store = await openStore(database);
    try {
      recordReplica(dataDir, await startReplica(store, dataDir, replica, loadMasterKey(dataDir).toString('base64')));
    } finally {
      await store.close();
    }
  }
  return controllerNodes(dataDir).find((n) => n.name === name)!;
}

export async function listNodes(dataDir: string): Promise<NodeInfo[]> {
  const layout = layoutOf(dataDir);
  const kernel = kernelOf(dataDir);
  const failed = new Set(readFailed(dataDir));
  const state = async (name: string, gateway: boolean): Promise<NodeInfo['state']> =>
    (kernel === 'linux' ? await nodeLinksUp(layout.prefix, name, gateway) : !failed.has(name)) ? 'up' : 'failed';
  return [
    ...(await Promise.all(layout.hosts.map(async (h) => ({ name: h.id, role: 'host' as const, zone: h.zone, state: await state(h.id, false) })))),
    ...(await Promise.all((layout.gateways ?? []).map(async (g) => ({ name: g.id, role: 'gateway' as const, state: await state(g.id, true) })))),
    ...(await Promise.all((layout.lbNodes ?? []).map(async (g) => ({ name: g.id, role: 'lb' as const, state: await state(g.id, true) })))),
    ...controllerNodes(dataDir),
  ];
}

/** Takes node `name` off the fabric (`up` false) or brings it back. */
export async function setNode(dataDir: string, name: string, up: boolean): Promise<NodeInfo> {
  const layout = layoutOf(dataDir);
  if (controllerNodes(dataDir).some((n) => n.name === name)) return setController(dataDir, name, up);
  if (/^ctl\d+$/.test(name))
    throw new Error(`this region runs one controller, inside weft up itself; for controller drills start it with --controllers 2 (or more) and --database postgres://…`);
  // Gateways and LB nodes are on the transit network too.
  const gateway = [...(layout.gateways ?? []), ...(layout.lbNodes ?? [])].some((g) => g.id === name);
  if (!gateway && !layout.hosts.some((h) => h.id === name)) {
    const names = [...layout.hosts.map((h) => h.id), ...(layout.gateways ?? []).map((g) => g.id), ...(layout.lbNodes ?? []).map((g) => g.id), ...controllerNodes(dataDir).map((n) => n.name)];
    throw new Error(`no node ${JSON.stringify(name)} in this region; its nodes are ${names.join(', ')}`);
  }
  if (kernelOf(dataDir) === 'linux') await setNodeLinks(layout.prefix, name, gateway, up);
  const failed = new Set(readFailed(dataDir));
  if (up) failed.delete(name);
  else failed.add(name);
  writeFileSync(paths(dataDir).failed, JSON.stringify([...failed].sort()) + '\n');
  return (await listNodes(dataDir)).find((n) => n.name === name)!;
}
