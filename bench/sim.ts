/**
 * The sim data plane bench (issue 4).
 *
 *   trace   single trace latency (p50/p99) in a VPC of 1,000 and 10,000
 *           instances, over synthetic documents compiled by the real compiler
 *           (pure: no server); goal < 1 ms at 10,000
 *   matrix  the full reachability matrix (tcp/22) of those VPCs
 *   api     TraceVpcFlow through the API (HTTP, TC3 signing) on a weft server
 *           holding the same VPCs, one request at a time: p50/p99, the first
 *           call (which compiles every host's document into the controller's
 *           cache) and the server's CPU per trace
 *   scale   a controller (weft server, SQLite) with 1,000 and 10,000 hosts
 *           registered and two instances on each, and one process of
 *           synthetic agents (bench/lib/sim-agents.ts) long-polling every
 *           host's document over the agents socket into SimDrivers: time for
 *           all of them to sync, then from a security-group change (API call)
 *           until every affected host reports the new revision — a group of
 *           one VPC (10 instances) and a group bound to every instance — with
 *           how many hosts received a document, and the controller's RSS and
 *           CPU. Hosts and instances are written into the store while the
 *           server is stopped (a RunInstances per host would measure the API).
 *   routes  the same controller and agents with one VPC of 1,000 subnets and
 *           10,000 routes (10 tables) on 100 hosts: time from a CreateRoutes
 *           call until every host routing by that table reports it applied.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { fetchDocument } from '../src/agent/controller-link.js';
import { compileHost, type HostSpan } from '../src/compile/compile.js';
import type { HostDocument } from '../src/contract/host-document.js';
import { tokenHash } from '../src/controller/distribution.js';
import { reachability } from '../src/trace/reach.js';
import { trace } from '../src/trace/trace.js';
import { buildWorld } from '../src/trace/world.js';
import { openStore } from '../src/store/store.js';
import { ApiClient } from './lib/loadgen.js';
import type { BenchModule, BenchOptions } from './lib/module.js';
import { cpuSeconds, memory } from './lib/proc.js';
import { onCleanup, ROOT, startServer, tempDataDir } from './lib/server.js';
import { fmt, percentile, round, table } from './lib/stats.js';
import { eventWaiter } from './lib/events.js';
import { rng } from '../test/helpers/rng.js';

export const GOALS = { traceP99Us: 1000, routeChangeSeconds: 1 };


export const id8 = (prefix: string, n: number) => `${prefix}-${n.toString(36).padStart(8, '0')}`;
const ipOf = (n: number) => `10.0.${(n >> 8) & 255}.${n & 255}`;
const macOf = (n: number) => `52:54:${[24, 16, 8, 0].map((s) => ((n >>> s) & 255).toString(16).padStart(2, '0')).join(':')}`;

// ---- (a) pure: synthetic documents ------------------------------------------

type Policy = HostSpan['policies'][number];
const pol = (sg: string, direction: 'ingress' | 'egress', position: number, protocol: string, port: string, peer: { cidr?: string; ref?: string }, action = 'ACCEPT'): Policy => ({
  sg_id: sg, direction, position, protocol, port, cidr: peer.cidr ?? '', ipv6_cidr: '', ref_sg_id: peer.ref ?? '', action,
});

/** Groups of a three-tier application: web open on 80/443, db from web, admin SSH, and a deny. */
const GROUP_POLICIES: Policy[] = [
  pol('sg-web00000', 'ingress', 0, 'TCP', '80,443', { cidr: '0.0.0.0/0' }),
  pol('sg-web00000', 'ingress', 1, 'TCP', '22', { ref: 'sg-adm00000' }),
  pol('sg-web00000', 'egress', 0, 'ALL', 'ALL', { cidr: '0.0.0.0/0' }),
  pol('sg-db000000', 'ingress', 0, 'TCP', '5432', { ref: 'sg-web00000' }),
  pol('sg-db000000', 'ingress', 1, 'TCP', '22', { cidr: '10.0.0.0/20' }, 'DROP'),
  pol('sg-db000000', 'ingress', 2, 'TCP', '22', { ref: 'sg-adm00000' }),
  pol('sg-db000000', 'egress', 0, 'TCP', '1-65535', { cidr: '10.0.0.0/8' }),
  pol('sg-adm00000', 'ingress', 0, 'ICMP', 'ALL', { cidr: '0.0.0.0/0' }),
  pol('sg-adm00000', 'egress', 0, 'ALL', 'ALL', { cidr: '0.0.0.0/0' }),
];
const GROUPS = ['sg-web00000', 'sg-db000000', 'sg-adm00000', 'sg-none0000'];

/** One VPC of `n` instances over `hosts` hosts, 4 subnets, each instance bound to 0-2 groups: the rows a host's span is read from. */
export function syntheticRegion(n: number, hosts: number, seed = 1) {
  const rand = rng(seed);
  const vpc = { id: 'vpc-bench000', vni: 4242 };
  const subnets = [0, 1, 2, 3].map((k) => ({ id: id8('subnet', k), cidr: `10.0.${k * 64}.0/18` }));
  const instances: HostSpan['instances'] = [];
  const bindings: HostSpan['bindings'] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    const id = id8('ins', i);
    instances.push({ id, vpc_id: vpc.id, subnet_id: subnets[k]!.id, private_ip: ipOf(k * 64 * 256 + 10 + Math.floor(i / 4)), mac: macOf(i), host_id: `h${i % hosts}` });
    const r = rand();
    const groups = r < 0.05 ? [] : r < 0.5 ? [GROUPS[Math.floor(rand() * 4)]!] : [GROUPS[Math.floor(rand() * 3)]!, GROUPS[2]!];
    [...new Set(groups)].forEach((sg, position) => bindings.push({ instance_id: id, sg_id: sg, position }));
  }
  const underlays = Object.fromEntries(Array.from({ length: hosts }, (_, h) => [`h${h}`, `100.64.${h >> 8}.${h & 255}`]));
  return { vpc, subnets, instances, bindings, policies: GROUP_POLICIES, underlays };
}

/** The documents of every host of `syntheticRegion`, compiled by the real compiler. */
export function syntheticVpc(n: number, hosts: number, seed = 1): { vpcId: string; documents: HostDocument[]; instances: string[] } {
  const { vpc, subnets, instances, bindings, policies, underlays } = syntheticRegion(n, hosts, seed);
  const documents = Array.from({ length: hosts }, (_, h) =>
    compileHost({ host: { id: `h${h}`, underlay: underlays[`h${h}`]! }, revision: 1, underlays, vpcs: [vpc], instances, subnets, bindings, policies }),
  );
  return { vpcId: vpc.id, documents, instances: instances.map((i) => i.id) };
}

const PORTS = [22, 80, 443, 5432];

export function traceFigures(n: number, hosts: number, samples: number) {
  const t0 = performance.now();
  const v = syntheticVpc(n, hosts);
  const compileMs = performance.now() - t0;
  const t1 = performance.now();
  const world = buildWorld(v.documents);
  const worldMs = performance.now() - t1;
  const rand = rng(7);
  const pick = () => v.instances[Math.floor(rand() * v.instances.length)]!;
  const us: number[] = [];
  let delivered = 0;
  for (let i = 0; i < samples + 2000; i++) {
    const q = { from: pick(), to: pick(), protocol: 'tcp' as const, port: PORTS[i % PORTS.length]! };
    const s = performance.now();
    const r = trace(world, q);
    const e = performance.now();
    if (i >= 2000) {
      us.push((e - s) * 1000);
      if (r.verdict === 'delivered') delivered++;
    }
  }
  us.sort((a, b) => a - b);
  return { world, vpcId: v.vpcId, figures: { instances: n, hosts, compileMs: round(compileMs), buildWorldMs: round(worldMs), samples, p50Us: round(percentile(us, 0.5)), p99Us: round(percentile(us, 0.99)), deliveredShare: round(delivered / samples) } };
}

/**
 * Full matrix time. A 1,000 × 1,000 sub-matrix first: when it says the whole
 * one (× (n/1000)²) would take longer than `budgetS`, that estimate instead.
 */
export function matrixFigures(world: ReturnType<typeof buildWorld>, vpcId: string, n: number, budgetS: number) {
  const instances = (world.byVpc.get(vpcId) ?? []).map((i) => i.port.instanceId);
  const sub = instances.slice(0, Math.min(n, 1000));
  const s = performance.now();
  const first = reachability(world, { vpcId, protocol: 'tcp', port: 22, instanceIds: sub });
  const subS = (performance.now() - s) / 1000;
  if (sub.length === n) return { instances: n, cells: n * n, measured: true, seconds: round(subS), reachable: first.reachable, pairs: first.pairs, perCellUs: round((subS * 1e6) / (n * n)) };
  const perCellUs = (subS * 1e6) / (sub.length * sub.length);
  const estimateS = subS * (n / sub.length) ** 2;
  if (estimateS > budgetS) return { instances: n, cells: n * n, measured: false, seconds: round(estimateS), reachable: NaN, pairs: n * (n - 1), perCellUs: round(perCellUs) };
  const t0 = performance.now();
  const m = reachability(world, { vpcId, protocol: 'tcp', port: 22 });
  const seconds = (performance.now() - t0) / 1000;
  return { instances: n, cells: n * n, measured: true, seconds: round(seconds), reachable: m.reachable, pairs: m.pairs, perCellUs: round((seconds * 1e6) / (n * n)) };
}

// ---- (a′) the same traces through the API ----------------------------------

/** Inserts `rows` `size` at a time (IN-lists and VALUES stay under both engines' parameter limits). */
async function inChunks<T>(rows: T[], size: number, fn: (part: T[]) => Promise<unknown>) {
  for (let i = 0; i < rows.length; i += size) await fn(rows.slice(i, i + size));
}

/**
 * Writes `syntheticRegion` into the store of a stopped server, as the API
 * would have left it: the hosts (registered, no agent), the VPC (VNI from the
 * region's counter), its subnets, the groups with their policies, the
 * instances placed and bound, all owned by `uin`.
 */
async function seedSyntheticRegion(dbFile: string, uin: string, n: number, hosts: number) {
  const region = syntheticRegion(n, hosts);
  const store = await openStore(dbFile);
  const now = new Date().toISOString();
  try {
    await store.db.transaction().execute(async (tx) => {
      const hostRows = Object.entries(region.underlays).map(([id, underlay]) => ({
        id, zone: 'local-1', underlay, token_hash: tokenHash(`bench-${id}-${Math.random()}`), applied_revision: 0, reported_at: null, report: null, created_at: now,
      }));
      await inChunks(hostRows, 500, (p) => tx.insertInto('hosts').values(p).execute());
      const meta = await tx.selectFrom('meta').select('next_vni').where('id', '=', 1).executeTakeFirstOrThrow();
      await tx
        .insertInto('vpcs')
        .values({ id: region.vpc.id, account: uin, name: 'bench', cidr: '10.0.0.0/16', is_default: 0, enable_multicast: 0, dns_servers: '[]', domain_name: '', created_at: now, vni: meta.next_vni })
        .execute();
      await tx.updateTable('meta').set({ next_vni: meta.next_vni + 1 }).where('id', '=', 1).execute();
      await tx
        .insertInto('subnets')
        .values(region.subnets.map((sn) => ({ id: sn.id, account: uin, vpc_id: region.vpc.id, name: sn.id, cidr: sn.cidr, zone: 'local-1', is_default: 0, enable_broadcast: 0, created_at: now, route_table_id: '', network_acl_id: '' })))
        .execute();
      await tx
        .insertInto('security_groups')
        .values(GROUPS.map((id) => ({ id, account: uin, name: id, description: '', project_id: '0', is_default: 0, version: 0, created_at: now, updated_at: now })))
        .execute();
      await tx
        .insertInto('sg_policies')
        .values(region.policies.map((p) => ({ ...p, description: '', modified_at: now })))
        .execute();
      const instances = region.instances.map((i) => ({
        ...i, account: uin, name: i.id, zone: 'local-1', eni_id: i.id.replace('ins-', 'eni-'), state: 'RUNNING', image_id: 'img-bench', instance_type: 'S5.SMALL1', cpu: 1, memory: 1, created_at: now,
      }));
      await inChunks(instances, 200, (p) => tx.insertInto('instances').values(p).execute());
      await inChunks(region.bindings, 500, (p) => tx.insertInto('instance_sgs').values(p).execute());
    });
  } finally {
    await store.close();
  }
  return region;
}

/**
 * TraceVpcFlow through the API: a `weft server` (SQLite) holding the VPC of
 * traceFigures, one client (bench/lib/loadgen.ts ApiClient: HTTP keep-alive,
 * every request TC3-signed as it is sent), one request at a time, random
 * pairs. The first call compiles every host's document into the controller's
 * cache; the samples then read it (what a trace costs once the controller
 * runs, as its agents keep the documents compiled anyway).
 */
export async function apiTraceFigures(n: number, hosts: number, samples: number) {
  const dataDir = tempDataDir(`trace-${n}`);
  // First start creates the store and the admin account; then seed with the server stopped.
  const first = await startServer({ dataDir });
  const uin = first.credentials.Uin;
  await first.stop();
  const region = await seedSyntheticRegion(join(dataDir, 'weft.db'), uin, n, hosts);
  const server = await startServer({ dataDir });
  const c = server.credentials;
  const api = new ApiClient({ endpoint: server.endpoint, secretId: c.SecretId, secretKey: c.SecretKey, region: c.Region }, 1);
  try {
    const rand = rng(7);
    const pick = () => region.instances[Math.floor(rand() * region.instances.length)]!.id;
    const flow = (i: number) => ({ SourceInstanceId: pick(), DestinationInstanceId: pick(), Protocol: 'TCP', Port: PORTS[i % PORTS.length]! });
    const t0 = performance.now();
    await api.must('vpc', 'TraceVpcFlow', flow(0));
    const firstMs = performance.now() - t0;
    for (let i = 1; i <= Math.min(200, samples / 5); i++) await api.must('vpc', 'TraceVpcFlow', flow(i));
    const ms: number[] = [];
    let delivered = 0;
    const cpu0 = cpuSeconds(server.pid);
    const s0 = performance.now();
    for (let i = 0; i < samples; i++) {
      const s = performance.now();
      const r = await api.must('vpc', 'TraceVpcFlow', flow(i));
      ms.push(performance.now() - s);
      if (r.Code === 'delivered') delivered++;
    }
    const wallS = (performance.now() - s0) / 1000;
    ms.sort((a, b) => a - b);
    return {
      instances: n,
      hosts,
      firstCallMs: round(firstMs),
      samples,
      p50Ms: round(percentile(ms, 0.5)),
      p99Ms: round(percentile(ms, 0.99)),
      /** Server CPU per trace (one request in flight: what a core of the controller spends on one). */
      serverCpuMsPerTrace: round(((cpuSeconds(server.pid) - cpu0) * 1000) / samples),
      perSecond: round(samples / wallS),
      deliveredShare: round(delivered / samples),
      serverRssMB: round(memory(server.pid)?.rssMB ?? NaN),
    };
  } finally {
    api.close();
    await server.stop();
  }
}

// ---- (b) scale: a controller, many hosts, one process of agents -------------

interface ScaleFigures {
  hosts: number;
  instances: number;
  seedSeconds: number;
  syncSeconds: number;
  syncErrors: number;
  changes: { what: string; affected: number; seconds: number; documentsSent: number; converged: number; controllerCpuSeconds: number }[];
  controllerRssMB: number;
  controllerPeakMB: number;
  agentsRssMB: number;
}

export const PER_VPC = 10;
const PER_HOST = 2;

/** `singleHostGroup`: also a group bound to instance 0 only (`sg-single00`, on host h1): a change that reaches one host. */
export async function seedRegion(dbFile: string, uin: string, hosts: number, o: { singleHostGroup?: boolean } = {}) {
  const store = await openStore(dbFile);
  const tokens: { id: string; token: string }[] = [];
  const now = new Date().toISOString();
  const nInst = hosts * PER_HOST;
  const nVpc = Math.ceil(nInst / PER_VPC);
  try {
    await store.db.transaction().execute(async (tx) => {
      const chunk = async <T>(rows: T[], size: number, fn: (part: T[]) => Promise<unknown>) => {
        for (let i = 0; i < rows.length; i += size) await fn(rows.slice(i, i + size));
      };
      const hostRows = Array.from({ length: hosts }, (_, h) => {
        const id = `h${h + 1}`;
        const token = `bench-token-${h + 1}-${Math.random().toString(36).slice(2)}`;
        tokens.push({ id, token });
        return { id, zone: 'local-1', underlay: `100.${64 + ((h + 1) >> 16)}.${((h + 1) >> 8) & 255}.${(h + 1) & 255}`, token_hash: tokenHash(token), applied_revision: 0, reported_at: null, report: null, created_at: now };
      });
      await chunk(hostRows, 500, (p) => tx.insertInto('hosts').values(p).execute());
      const meta = await tx.selectFrom('meta').select('next_vni').where('id', '=', 1).executeTakeFirstOrThrow();
      const vpcs = Array.from({ length: nVpc }, (_, v) => ({
        id: id8('vpc', v), account: uin, name: `sim-${v}`, cidr: '10.0.0.0/16', is_default: 0, enable_multicast: 0, dns_servers: '[]', domain_name: '', created_at: now, vni: meta.next_vni + v,
      }));
      await chunk(vpcs, 500, (p) => tx.insertInto('vpcs').values(p).execute());
      await tx.updateTable('meta').set({ next_vni: meta.next_vni + nVpc }).where('id', '=', 1).execute();
      await chunk(vpcs.map((v, i) => ({ id: id8('subnet', i), account: uin, vpc_id: v.id, name: v.name, cidr: '10.0.0.0/24', zone: 'local-1', is_default: 0, enable_broadcast: 0, created_at: now, route_table_id: '', network_acl_id: '' })), 500, (p) =>
        tx.insertInto('subnets').values(p).execute(),
      );
      const groups = [...vpcs.map((_, i) => id8('sg', i)), 'sg-shared00', ...(o.singleHostGroup ? ['sg-single00'] : [])];
      await chunk(groups.map((id) => ({ id, account: uin, name: id, description: '', project_id: '0', is_default: 0, version: 0, created_at: now, updated_at: now })), 500, (p) =>
        tx.insertInto('security_groups').values(p).execute(),
      );
      await chunk(
        groups.flatMap((sg) => [
          { sg_id: sg, direction: 'ingress' as const, position: 0, protocol: 'TCP', port: '22', cidr: '10.0.0.0/16', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT', description: '', modified_at: now },
          { sg_id: sg, direction: 'egress' as const, position: 0, protocol: 'ALL', port: 'ALL', cidr: '0.0.0.0/0', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT', description: '', modified_at: now },
        ]),
        400,
        (p) => tx.insertInto('sg_policies').values(p).execute(),
      );
      // Instance i is on host i % hosts: each VPC's ten instances land on ten different hosts.
      const instances = Array.from({ length: nInst }, (_, i) => {
        const v = Math.floor(i / PER_VPC);
        return {
          id: id8('ins', i), account: uin, name: `sim-${i}`, zone: 'local-1', vpc_id: vpcs[v]!.id, subnet_id: id8('subnet', v), private_ip: `10.0.0.${10 + (i % PER_VPC)}`, mac: macOf(i),
          eni_id: id8('eni', i), state: 'RUNNING', image_id: 'img-bench', instance_type: 'S5.SMALL1', cpu: 1, memory: 1, host_id: `h${(i % hosts) + 1}`, created_at: now,
        };
      });
      await chunk(instances, 200, (p) => tx.insertInto('instances').values(p).execute());
      await chunk(
        instances.flatMap((ins, i) => [
          { instance_id: ins.id, sg_id: id8('sg', Math.floor(i / PER_VPC)), position: 0 },
          { instance_id: ins.id, sg_id: 'sg-shared00', position: 1 },
          ...(o.singleHostGroup && i === 0 ? [{ instance_id: ins.id, sg_id: 'sg-single00', position: 2 }] : []),
        ]),
        500,
        (p) => tx.insertInto('instance_sgs').values(p).execute(),
      );
    });
  } finally {
    await store.close();
  }
  return { tokens, instances: nInst, vpc0Hosts: new Set(Array.from({ length: PER_VPC }, (_, i) => `h${(i % hosts) + 1}`)) };
}

/**
 * A `weft server` (SQLite) on a data dir seeded while it was stopped, and one
 * process of synthetic agents (lib/sim-agents.ts) long-polling every host's
 * document into SimDrivers. `applied` holds the revision each host last
 * reported; `until` waits on it.
 */
async function simRegion(dataDir: string, tokens: { id: string; token: string }[], limitS: number, cpuProfDir?: string) {
  const dbFile = join(dataDir, 'weft.db');
  const server = await startServer({ dataDir, cpuProfDir });
  const api = new ApiClient({ endpoint: server.endpoint, secretId: server.credentials.SecretId, secretKey: server.credentials.SecretKey, region: server.credentials.Region }, 4);
  const revisionNow = () => {
    const d = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      return (d.prepare('select revision from meta where id = 1').get() as { revision: number }).revision;
    } finally {
      d.close();
    }
  };
  const config = join(dataDir, 'agents.json');
  writeFileSync(config, JSON.stringify({ socket: join(dataDir, 'agents.sock'), seconds: limitS, startPerSecond: 2000, hosts: tokens }));
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const agents = spawn(process.execPath, [...prof, join(ROOT, 'dist/bench/lib/sim-agents.js'), config], { stdio: ['pipe', 'pipe', 'inherit'] });
  const agentsExited = new Promise<void>((ok) => agents.once('exit', () => ok()));
  const stopAgents = async () => {
    unregister();
    agents.stdin!.end();
    if (agents.exitCode === null && agents.signalCode === null) {
      const t = setTimeout(() => agents.kill('SIGKILL'), 5000);
      agents.kill('SIGTERM');
      await agentsExited;
      clearTimeout(t);
    }
  };
  const unregister = onCleanup(stopAgents);

  const applied = new Map<string, number>();
  const counts = { received: 0, errors: 0 };
  const { notify: onEvent, until } = eventWaiter();
  createInterface({ input: agents.stdout! }).on('line', (line) => {
    const ev = JSON.parse(line) as { e: string; h: string; r: number; m?: string };
    if (ev.e === 'applied') {
      applied.set(ev.h, ev.r);
      counts.received++;
    } else if (ev.e === 'error') {
      if (counts.errors++ < 2) console.error(`bench sim: agent ${ev.h}: ${ev.m} (agents retry with backoff; counted)`);
    }
    onEvent();
  });
  /** Runs `change` and waits until every host of `affected` reports the revision it committed. */
  async function timeChange(what: string, affected: ReadonlySet<string>, change: () => Promise<unknown>) {
    const before = counts.received;
    const cpu0 = cpuSeconds(server.pid);
    const s = performance.now();
    await change();
    const revision = revisionNow();
    const converged = () => [...affected].every((h) => (applied.get(h) ?? 0) >= revision);
    const ok = await until(converged, limitS * 500);
    const seconds = (performance.now() - s) / 1000;
    await new Promise((r) => setTimeout(r, 2500)); // anything else that would arrive (it should not)
    if (!ok) console.error(`bench sim: ${what}: not every affected host converged within the limit`);
    return {
      what,
      affected: affected.size,
      seconds: round(seconds),
      documentsSent: counts.received - before,
      converged: [...affected].filter((h) => (applied.get(h) ?? 0) >= revision).length,
      controllerCpuSeconds: round(cpuSeconds(server.pid) - cpu0),
    };
  }
  return {
    server,
    api,
    agents,
    applied,
    counts,
    until,
    timeChange,
    async stop() {
      api.close();
      await stopAgents();
      await server.stop();
    },
  };
}

/** Creates the store and the admin account (first start), stopped again for seeding; the admin's UIN. */
export async function freshDataDir(label: string) {
  const dataDir = tempDataDir(label);
  const first = await startServer({ dataDir });
  const uin = first.credentials.Uin;
  await first.stop();
  return { dataDir, dbFile: join(dataDir, 'weft.db'), uin };
}

export async function scaleRun(hosts: number, o: BenchOptions): Promise<ScaleFigures> {
  const { dataDir, dbFile, uin } = await freshDataDir(`sim-${hosts}`);
  const ts = performance.now();
  const seeded = await seedRegion(dbFile, uin, hosts);
  const seedSeconds = (performance.now() - ts) / 1000;
  const limitS = o.quick ? 300 : 600;
  const r = await simRegion(dataDir, seeded.tokens, limitS, o.profileDir);
  try {
    const t0 = performance.now();
    const synced = await r.until(() => r.applied.size === hosts, limitS * 500);
    const syncSeconds = (performance.now() - t0) / 1000;
    const syncErrors = r.counts.errors;
    if (!synced) console.error(`bench sim: only ${r.applied.size} of ${hosts} hosts synced`);
    await new Promise((ok) => setTimeout(ok, 1000)); // let the last reports land

    const changes: ScaleFigures['changes'] = [];
    const all = new Set(seeded.tokens.map((t) => t.id));
    for (const [what, sg, affected] of [
      [`policy added to one VPC's group (${PER_VPC} instances)`, id8('sg', 0), seeded.vpc0Hosts],
      ['policy added to a group bound to every instance', 'sg-shared00', all],
    ] as const) {
      changes.push(
        await r.timeChange(what, affected, () =>
          r.api.must('vpc', 'CreateSecurityGroupPolicies', {
            SecurityGroupId: sg,
            SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: String(8000 + changes.length), CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }] },
          }),
        ),
      );
    }
    const mem = memory(r.server.pid);
    const agentsMem = memory(r.agents.pid!);
    return {
      hosts,
      instances: seeded.instances,
      seedSeconds: round(seedSeconds),
      syncSeconds: round(syncSeconds),
      syncErrors,
      changes,
      controllerRssMB: round(mem?.rssMB ?? NaN),
      controllerPeakMB: round(mem?.peakMB ?? NaN),
      agentsRssMB: round(agentsMem?.rssMB ?? NaN),
    };
  } finally {
    await r.stop();
  }
}

// ---- (c) routes: a VPC of 1,000 subnets and 10,000 routes on sim hosts -------

const ROUTE_HOSTS = 100;
const ROUTE_SUBNETS = 1000;
const ROUTE_TABLES = 10;
const ROUTES_PER_TABLE = 1000;
/** Instances that are the next hops of every route (on h1…h4), as a VPC's few router instances are. */
const ROUTERS = 4;

export interface RouteFigures {
  hosts: number;
  subnets: number;
  routes: number;
  instances: number;
  syncSeconds: number;
  /** Largest document a host received, bytes of JSON. */
  largestDocumentKB: number;
  change: ScaleFigures['changes'][number];
}

/**
 * One VPC: 1,000 /26 subnets, 10 custom route tables of 1,000 NORMAL_CVM
 * routes each (next hops: the four router instances), subnet k associated
 * with table k mod 10, two instances per host in 200 of the subnets. Written
 * into the store while the server is stopped, as the API would leave it.
 */
async function seedRoutes(dbFile: string, uin: string) {
  const store = await openStore(dbFile);
  const now = new Date().toISOString();
  const tokens: { id: string; token: string }[] = [];
  const vpcId = id8('vpc', 0);
  const subnetCidr = (k: number) => `10.0.${k >> 2}.${(k & 3) * 64}/26`;
  const instanceIp = (k: number) => `10.0.${k >> 2}.${(k & 3) * 64 + 10}`;
  const table = (t: number) => id8('rtb', t + 1);
  const nInst = ROUTE_HOSTS * 2;
  // Instance i sits in subnet 5i on host i mod hosts: each host has two subnets, of two tables.
  const instances = Array.from({ length: nInst }, (_, i) => ({ i, subnet: 5 * i, host: `h${(i % ROUTE_HOSTS) + 1}` }));
  try {
    await store.db.transaction().execute(async (tx) => {
      const chunk = async <T>(rows: T[], size: number, fn: (part: T[]) => Promise<unknown>) => {
        for (let i = 0; i < rows.length; i += size) await fn(rows.slice(i, i + size));
      };
      const hostRows = Array.from({ length: ROUTE_HOSTS }, (_, h) => {
        const id = `h${h + 1}`;
        const token = `bench-token-${h + 1}-${Math.random().toString(36).slice(2)}`;
        tokens.push({ id, token });
        return { id, zone: 'local-1', underlay: `100.64.0.${h + 1}`, token_hash: tokenHash(token), applied_revision: 0, reported_at: null, report: null, created_at: now };
      });
      await chunk(hostRows, 500, (p) => tx.insertInto('hosts').values(p).execute());
      const meta = await tx.selectFrom('meta').select(['next_vni', 'next_route_id']).where('id', '=', 1).executeTakeFirstOrThrow();
      await tx
        .insertInto('vpcs')
        .values({ id: vpcId, account: uin, name: 'routes', cidr: '10.0.0.0/16', is_default: 0, enable_multicast: 0, dns_servers: '[]', domain_name: '', created_at: now, vni: meta.next_vni })
        .execute();
      const tables = [
        { id: id8('rtb', 0), account: uin, vpc_id: vpcId, name: 'default', is_main: 1, created_at: now },
        ...Array.from({ length: ROUTE_TABLES }, (_, t) => ({ id: table(t), account: uin, vpc_id: vpcId, name: `t${t}`, is_main: 0, created_at: now })),
      ];
      await tx.insertInto('route_tables').values(tables).execute();
      // The timed CreateRoutes adds to a table of 1,000: over the default quota of routes per table.
      await tx.updateTable('accounts').set({ quotas: JSON.stringify({ routePerTable: ROUTES_PER_TABLE + 10 }) }).where('uin', '=', uin).execute();
      let routeId = Number(meta.next_route_id);
      const rows = tables.map((t) => ({
        id: `rti-l${t.id.slice(4)}`, route_id: routeId++, route_table_id: t.id, destination: '10.0.0.0/16', gateway_type: 'LOCAL', gateway_id: 'Local', description: '', enabled: 1, route_type: 'NETD', created_at: now,
      }));
      for (let t = 0; t < ROUTE_TABLES; t++)
        for (let j = 0; j < ROUTES_PER_TABLE; j++)
          rows.push({
            id: id8('rti', t * ROUTES_PER_TABLE + j),
            route_id: routeId++,
            route_table_id: table(t),
            destination: `172.${16 + t}.${j >> 2}.${(j & 3) * 64}/26`,
            gateway_type: 'NORMAL_CVM',
            gateway_id: instanceIp(5 * (j % ROUTERS)),
            description: '',
            enabled: 1,
            route_type: 'USER',
            created_at: now,
          });
      await chunk(rows, 500, (p) => tx.insertInto('routes').values(p).execute());
      await tx.updateTable('meta').set({ next_vni: meta.next_vni + 1, next_route_id: routeId }).where('id', '=', 1).execute();
      await chunk(
        Array.from({ length: ROUTE_SUBNETS }, (_, k) => ({
          id: id8('subnet', k), account: uin, vpc_id: vpcId, name: `s${k}`, cidr: subnetCidr(k), zone: 'local-1', is_default: 0, enable_broadcast: 0, created_at: now, route_table_id: table(k % ROUTE_TABLES), network_acl_id: '',
        })),
        500,
        (p) => tx.insertInto('subnets').values(p).execute(),
      );
      await tx.insertInto('security_groups').values({ id: 'sg-routes00', account: uin, name: 'routes', description: '', project_id: '0', is_default: 0, version: 0, created_at: now, updated_at: now }).execute();
      const rowsOf = instances.map(({ i, subnet, host }) => ({
        id: id8('ins', i), account: uin, name: `r-${i}`, zone: 'local-1', vpc_id: vpcId, subnet_id: id8('subnet', subnet), private_ip: instanceIp(subnet), mac: macOf(i),
        eni_id: id8('eni', i), state: 'RUNNING', image_id: 'img-bench', instance_type: 'S5.SMALL1', cpu: 1, memory: 1, host_id: host, created_at: now,
      }));
      await chunk(rowsOf, 200, (p) => tx.insertInto('instances').values(p).execute());
      await chunk(rowsOf.map((r) => ({ instance_id: r.id, sg_id: 'sg-routes00', position: 0 })), 500, (p) => tx.insertInto('instance_sgs').values(p).execute());
    });
  } finally {
    await store.close();
  }
  // Hosts that route by table 0: those with an instance in a subnet of it, and the hosts of the next hops.
  const affected = new Set([...instances.filter((x) => x.subnet % ROUTE_TABLES === 0).map((x) => x.host), ...instances.slice(0, ROUTERS).map((x) => x.host)]);
  return { tokens, instances: nInst, table0: table(0), routerIp: instanceIp(0), affected };
}

export async function routesRun(o: BenchOptions): Promise<RouteFigures> {
  const { dataDir, dbFile, uin } = await freshDataDir('sim-routes');
  const seeded = await seedRoutes(dbFile, uin);
  const limitS = o.quick ? 120 : 300;
  const r = await simRegion(dataDir, seeded.tokens, limitS, o.profileDir);
  try {
    const t0 = performance.now();
    const synced = await r.until(() => r.applied.size === ROUTE_HOSTS, limitS * 500);
    const syncSeconds = (performance.now() - t0) / 1000;
    if (!synced) console.error(`bench sim: routes: only ${r.applied.size} of ${ROUTE_HOSTS} hosts synced`);
    await new Promise((ok) => setTimeout(ok, 1000));
    const change = await r.timeChange(`CreateRoutes into a table of ${ROUTES_PER_TABLE} routes (every host routing by it)`, seeded.affected, () =>
      r.api.must('vpc', 'CreateRoutes', { RouteTableId: seeded.table0, Routes: [{ DestinationCidrBlock: '192.168.0.0/24', GatewayType: 'NORMAL_CVM', GatewayId: seeded.routerIp }] }),
    );
    const sizes = await Promise.all(seeded.tokens.slice(0, 10).map((t) => documentBytes(dataDir, t)));
    return {
      hosts: ROUTE_HOSTS,
      subnets: ROUTE_SUBNETS,
      routes: ROUTE_TABLES * ROUTES_PER_TABLE,
      instances: seeded.instances,
      syncSeconds: round(syncSeconds),
      largestDocumentKB: round(Math.max(...sizes) / 1024),
      change,
    };
  } finally {
    await r.stop();
  }
}

/** Size of a host's current document as the agents endpoint serves it. */
async function documentBytes(dataDir: string, host: { id: string; token: string }): Promise<number> {
  const d = await fetchDocument({ controller: `unix:${join(dataDir, 'agents.sock')}`, hostId: host.id, token: host.token }, '', 1);
  return d ? JSON.stringify(d.document).length : 0;
}

export const simBench: BenchModule = {
  name: 'sim',
  description: 'sim data plane: trace latency (pure and through the API) and reachability matrix at 1k/10k instances; 1k/10k simulated hosts converging after a security-group change',
  async run(o) {
    const traces = [];
    const matrices = [];
    for (const [n, hosts] of [
      [1_000, 100],
      [10_000, 100],
    ] as const) {
      console.error(`bench sim: trace, VPC of ${n} instances on ${hosts} hosts`);
      const t = traceFigures(n, hosts, o.quick ? 5_000 : 20_000);
      traces.push(t.figures);
      console.error(`bench sim: matrix of ${n} instances`);
      matrices.push(matrixFigures(t.world, t.vpcId, n, 600));
    }
    const apiTraces = [];
    for (const [n, hosts, samples] of [
      [1_000, 100, o.quick ? 100 : 1_000],
      [10_000, 100, o.quick ? 30 : 200],
    ] as const) {
      console.error(`bench sim: TraceVpcFlow through the API, VPC of ${n} instances on ${hosts} hosts`);
      apiTraces.push(await apiTraceFigures(n, hosts, samples));
    }
    const scale: ScaleFigures[] = [];
    for (const hosts of [1_000, 10_000]) {
      console.error(`bench sim: scale, ${hosts} hosts`);
      scale.push(await scaleRun(hosts, o));
    }
    const report = [
      table(
        ['instances', 'hosts', 'compile docs', 'build world', 'trace p50', 'trace p99', `goal p99`],
        traces.map((t) => [String(t.instances), String(t.hosts), fmt(t.compileMs, ' ms'), fmt(t.buildWorldMs, ' ms'), fmt(t.p50Us, ' µs'), fmt(t.p99Us, ' µs'), `< ${GOALS.traceP99Us} µs`]),
      ),
      table(
        ['TraceVpcFlow via API', 'hosts', 'first call', 'p50', 'p99', 'server CPU / trace', 'traces/s (1 client)', 'server RSS'],
        apiTraces.map((t) => [
          `${t.instances} instances`, String(t.hosts), fmt(t.firstCallMs, ' ms'), fmt(t.p50Ms, ' ms'), fmt(t.p99Ms, ' ms'), fmt(t.serverCpuMsPerTrace, ' ms'), fmt(t.perSecond), fmt(t.serverRssMB, ' MB'),
        ]),
      ),
      table(
        ['matrix (tcp/22)', 'cells', 'time', 'per cell', 'reachable'],
        matrices.map((m) => [`${m.instances} × ${m.instances}`, String(m.cells), m.measured ? fmt(m.seconds, ' s') : `~${fmt(m.seconds, ' s')} (estimated from 1000 × 1000)`, fmt(m.perCellUs, ' µs'), m.measured ? `${m.reachable} / ${m.pairs}` : '—']),
      ),
      table(
        ['hosts', 'instances', 'initial sync', 'change', 'affected', 'converged', 'time', 'docs sent', 'ctl CPU', 'ctl RSS'],
        scale.flatMap((s) =>
          s.changes.map((c, i) => [
            i ? '' : String(s.hosts), i ? '' : String(s.instances), i ? '' : fmt(s.syncSeconds, ' s'), c.what, String(c.affected), String(c.converged), fmt(c.seconds, ' s'), String(c.documentsSent), fmt(c.controllerCpuSeconds, ' s'), i ? '' : fmt(s.controllerRssMB, ' MB'),
          ]),
        ),
      ),
    ].join('\n\n');
    return { report, json: { goals: GOALS, traces, apiTraces, matrices, scale } };
  },
};

export const simRoutesBench: BenchModule = {
  name: 'sim-routes',
  description: `sim data plane: CreateRoutes → applied on every host routing by the table, in a VPC of ${ROUTE_SUBNETS} subnets and ${ROUTE_TABLES * ROUTES_PER_TABLE} routes`,
  async run(o) {
    console.error(`bench sim-routes: ${ROUTE_SUBNETS} subnets and ${ROUTE_TABLES * ROUTES_PER_TABLE} routes on ${ROUTE_HOSTS} hosts`);
    const routes = await routesRun(o);
    const report = table(
      ['hosts', 'subnets', 'routes', 'instances', 'initial sync', 'largest doc', 'change', 'affected', 'converged', 'time', 'goal'],
      [
        [
          String(routes.hosts), fmt(routes.subnets), fmt(routes.routes), String(routes.instances), fmt(routes.syncSeconds, ' s'), fmt(routes.largestDocumentKB, ' KB'), routes.change.what,
          String(routes.change.affected), String(routes.change.converged), fmt(routes.change.seconds, ' s'), `< ${GOALS.routeChangeSeconds} s → ${routes.change.seconds < GOALS.routeChangeSeconds ? 'met' : 'missed'}`,
        ],
      ],
    );
    return { report, json: { goals: GOALS, routes } };
  },
};
