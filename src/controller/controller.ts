/**
 * The controller process: data dir, store, admin account, API endpoint.
 * `weft server` runs it in the foreground; tests and benches start it too.
 */
import { regionStatus } from './region-status.js';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createAccount, existingCredentials, keyring } from '../accounts/accounts.js';
import { loadMasterKey } from '../accounts/secrets.js';
import { ACTIONS } from '../api/registry.js';
import { createApi, serveHttp } from '../api/server.js';
import { LeasedRateLimiter } from '../api/rate-limit.js';
import { leaseTokens } from '../store/rate-buckets.js';
import { makeRegion } from '../core/region.js';
import { openStore } from '../store/store.js';
import { recordStoreLocation, storeLocation } from './store-location.js';
import { startAgentsEndpoint } from './agents-endpoint.js';
import { agentTlsDir, ensureAgentTls } from './agent-tls.js';
import { createDistribution } from './distribution.js';
import { splitHostPort } from './listen.js';
import { createTaskRunner } from './task-runner.js';
import { joinReplicas, replicaId } from './replicas.js';
import { flowLogFile } from './flow-log-records.js';
import { hostLag } from './host-lag.js';
import { createInstanceCounters } from './instance-counters.js';
import { createMetrics } from './metrics.js';
import { registerUnderlayMetrics } from './underlay-metrics.js';

export interface ControllerOptions {
  dataDir: string;
  listen?: string; // host:port
  database?: string; // postgres://… ; default: SQLite in the data dir
  region?: string;
  zones?: number;
  /** CIDRs of the region's public address pools (EIPs); default the documentation ranges 198.51.100.0/24 and 203.0.113.0/24. */
  publicPools?: string[];
  rateLimit?: number;
  /** Largest request body accepted, in bytes (default 10 MiB, Tencent's limit for TC3-signed POST). */
  bodyLimit?: number;
  /** host:port to serve agents over TLS, besides the data dir's Unix socket. */
  agentListen?: string;
  /** This replica's ID (default: the one kept in the data dir, made on first start; replicas.ts). */
  replicaName?: string;
  /**
   * The TLS certificate and key (PEM files) of `agentListen`; default
   * DATA_DIR/agent-tls/{cert,key}.pem, made on first start, with the CA
   * agents verify it by in DATA_DIR/agent-tls/ca.pem (agent-tls.ts).
   */
  agentTlsCert?: string;
  agentTlsKey?: string;
}

/** Where agents on this machine reach the controller. */
export const agentsSocket = (dataDir: string) => join(resolve(dataDir), 'agents.sock');

export interface CredentialsFile {
  SecretId: string;
  SecretKey: string;
  Uin: string;
  AppId: string;
  Endpoint: string;
  Region: string;
}

/** The agent endpoint's certificate: the one given, or this data dir's (made on first start). */
function agentTls(dataDir: string, o: ControllerOptions): { cert: string; key: string; ca?: string } {
  if (o.agentTlsCert || o.agentTlsKey) {
    if (!o.agentTlsCert || !o.agentTlsKey) throw new Error('--agent-tls-cert and --agent-tls-key go together');
    return { cert: o.agentTlsCert, key: o.agentTlsKey };
  }
  return ensureAgentTls(agentTlsDir(dataDir), [splitHostPort(o.agentListen!)[0]]);
}

export async function startController(o: ControllerOptions) {
  // First, so a bad region setting (a public pool) is refused before anything is opened.
  const region = makeRegion(o.region ?? 'local', o.zones ?? 2, o.publicPools);
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Before anything listens: a missing key file or openssl fails the start cleanly.
  const tls = o.agentListen ? agentTls(dataDir, o) : undefined;
  const key = loadMasterKey(dataDir);
  const store = await openStore(storeLocation(dataDir, o.database));
  recordStoreLocation(dataDir, o.database);
  const replica = replicaId(dataDir, o.replicaName);
  const tasks = createTaskRunner(store, replica);
  const metrics = createMetrics();
  store.onWriteTimed(metrics.observeStoreWrite);
  registerUnderlayMetrics(metrics.registry, store);
  const counters = createInstanceCounters(store, metrics);
  // One document cache for the agents and the API's packet tracer: a trace reads what the agents are sent.
  const distribution = createDistribution(store, { gatewayAddress: region.gatewayAddress, counters: counters.receive, metrics, flowLogFile: flowLogFile(dataDir) });
  metrics.setSources({ revision: () => store.revision(), hostLag: () => hostLag(store, distribution), agentsConnected: () => distribution.connectedAgents() });
  let endpoint: string | null = null;
  const api = createApi({
    store,
    region,
    actions: ACTIONS,
    lookupKey: keyring(store, key),
    rateLimit: o.rateLimit,
    // Several replicas may serve the region on PostgreSQL: the budget per account is the region's.
    ...(store.engine === 'postgres' ? { limiter: new LeasedRateLimiter(o.rateLimit ?? 1000, (k, want, rate, burst) => leaseTokens(store, k, want, rate, burst)) } : {}),
    bodyLimit: o.bodyLimit,
    documents: distribution.documentsFor,
    observe: metrics.observeApi,
    // The endpoint is known once the server listens (below).
    tasks,
    regionStatus: ({ recent }) =>
      regionStatus(store, {
        controller: { up: true, pid: process.pid, address: endpoint },
        documents: distribution.documentsFor,
        connected: distribution.connected,
        ...(recent !== undefined ? { recent } : {}),
      }),
  });
  const server = serveHttp(api, metrics);
  const [host, port] = splitHostPort(o.listen ?? '127.0.0.1:9080');
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, host, ok));
  const addr = server.address() as AddressInfo;
  endpoint = `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  // First start: an admin account and its credentials, readable only by the owner. A data dir joining a store
  // that has its admin already (another replica's, with the same master key) gets that admin's credentials.
  const credFile = join(dataDir, 'credentials.json');
  const known = existsSync(credFile)
    ? (JSON.parse(readFileSync(credFile, 'utf8')) as CredentialsFile)
    : ((await existingCredentials(store, key, 'admin')) ?? (await createAccount(store, key, 'admin')));
  const creds: CredentialsFile = { ...known, Endpoint: endpoint, Region: region.name };
  writeFileSync(credFile, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  chmodSync(credFile, 0o600); // `mode` applies only when the file is created
  const agents = await startAgentsEndpoint(store, distribution, {
    socket: agentsSocket(dataDir),
    listen: o.agentListen,
    ...(tls ? { tls: { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } } : {}),
  });
  // Alive among the replicas once it serves; each beat of its lease adopts the tasks of replicas gone (task-runner.ts),
  // the first at once: those this replica's earlier process left.
  const replicas = await joinReplicas(store, { id: replica, endpoint, ...(agents.address ? { agentEndpoint: agents.address } : {}) }, { onBeat: async () => void (await tasks.adopt()) });
  await replicas.beat();

  return {
    endpoint,
    credentials: creds,
    credentialsFile: credFile,
    store,
    key,
    region,
    agents,
    /** Where agents reach this controller over TLS (HOST:PORT), and the CA file that signs its certificate (when made here). */
    agentEndpoint: agents.address,
    agentCa: tls?.ca,
    /** The controller's metrics; `metrics.recordDriftRepairs(host, n)` is for the reconciliation. */
    metrics,
    replica,
    tasks,
    async close() {
      await replicas.leave().catch(() => {});
      await agents.close();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      distribution.close();
      await store.close();
    },
  };
}
