/**
 * The region in a box's layout on disk and in the kernel: the namespace
 * prefix, the hosts with their zones and underlay addresses, and where each
 * agent finds its token. Pure apart from the small file helpers.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomString } from '../core/ids.js';
import { formatIp, parseIp } from '../core/cidr.js';
import { agentsSocket } from '../controller/controller.js';

export interface HostPlan {
  id: string; // h1
  zone: string; // local-1
  underlay: string; // 100.64.0.11
}

export interface RegionLayout {
  /** Prefix of every namespace this region makes: `weft` + 5 characters. */
  prefix: string;
  hosts: HostPlan[];
}

export const UNDERLAY_PREFIX = 10; // 100.64.0.0/10
const UNDERLAY_BASE = parseIp('100.64.0.0')!;

/** Hosts h1..hN, spread round-robin over the zones, underlay 100.64.0.11, .12 … */
export function planHosts(count: number, zones: readonly string[]): HostPlan[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `h${i + 1}`,
    zone: zones[i % zones.length]!,
    underlay: formatIp(UNDERLAY_BASE + 10 + i + 1),
  }));
}

export const paths = (dataDir: string) => ({
  layout: join(dataDir, 'region.json'),
  socket: agentsSocket(dataDir),
  run: join(dataDir, 'run.json'),
  logs: join(dataDir, 'logs'),
  token: (hostId: string) => join(dataDir, 'agents', `${hostId}.token`),
  /** The sim data plane's state: each host's applied document (dataplane/sim/driver.ts). */
  sim: join(dataDir, 'sim'),
  simState: (hostId: string) => join(dataDir, 'sim', `${hostId}.json`),
});

export function readLayout(dataDir: string): RegionLayout | undefined {
  const f = paths(dataDir).layout;
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RegionLayout) : undefined;
}

/** The layout of this data dir, created on first use; more hosts are added when asked for. */
export function ensureLayout(dataDir: string, hostCount: number, zones: readonly string[]): RegionLayout {
  const old = readLayout(dataDir);
  const prefix = old?.prefix ?? `weft${randomString(5)}`;
  const hosts = planHosts(Math.max(hostCount, old?.hosts.length ?? 0), zones);
  const layout = { prefix, hosts: old ? [...old.hosts, ...hosts.slice(old.hosts.length)] : hosts };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(paths(dataDir).layout, JSON.stringify(layout, null, 2) + '\n');
  return layout;
}

export function writeToken(dataDir: string, hostId: string, token: string) {
  mkdirSync(join(dataDir, 'agents'), { recursive: true, mode: 0o700 });
  writeFileSync(paths(dataDir).token(hostId), token + '\n', { mode: 0o600 });
}

export const readToken = (dataDir: string, hostId: string) => readFileSync(paths(dataDir).token(hostId), 'utf8').trim();

export const instanceNamespace = (prefix: string, instanceId: string) => `${prefix}-${instanceId}`;
