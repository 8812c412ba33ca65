/**
 * The region in a box's layout on disk and in the kernel: the namespace
 * prefix, the hosts with their zones and underlay addresses, and where each
 * agent finds its token. Pure apart from the small file helpers.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomString } from '../core/ids.js';
import { formatIp, parseIp } from '../core/cidr.js';
import { DEFAULT_GATEWAY_ADDRESS, DEFAULT_LB_ADDRESS } from '../core/region.js';
import { agentsSocket } from '../controller/controller.js';

export interface HostPlan {
  id: string; // h1
  zone: string; // local-1
  underlay: string; // 100.64.0.11
}

/** A gateway node: on the underlay like a host, and on the internet's transit network. */
export interface GatewayPlan {
  id: string; // gw1
  underlay: string; // 100.64.1.11
  internet: string; // 198.19.255.11
}

export interface RegionLayout {
  /** Prefix of every namespace this region makes: `weft` + 5 characters. */
  prefix: string;
  hosts: HostPlan[];
  /** Absent in a layout written before gateways existed: none. */
  gateways?: GatewayPlan[];
  /** LB nodes (CLB), wired like gateways (docs/load-balancers.md). Absent in older layouts: none. */
  lbNodes?: GatewayPlan[];
}

/**
 * The region's edge: where the gateway cluster meets the underlay and the
 * internet. Every address is inside the ranges the region in a box owns
 * (underlay 100.64.0.0/10, internet 198.18.0.0/15, public pools from the
 * documentation ranges): nothing here is routable outside its namespaces.
 */
export const EDGE = {
  /** The fabric's router on the underlay: hosts reach the gateway cluster through it. */
  fabricRouter: '100.64.0.1',
  /** The gateway cluster's tunnel end: every gateway holds it, the fabric router spreads flows over them (ECMP). */
  gatewayAnycast: DEFAULT_GATEWAY_ADDRESS,
  /** The cluster's and each gateway node's tunnel addresses (core/region.ts gatewayNodeAddress): hosts reach them through the fabric router. */
  gatewayBlock: '100.64.255.0/24',
  /** Gateways' underlay addresses: 100.64.1.11, .12 … */
  gatewayUnderlayBase: '100.64.1.10',
  /** The internet router on the transit network it shares with the gateways. */
  internetRouter: '198.19.255.1',
  transitPrefix: 24,
  gatewayInternetBase: '198.19.255.10',
  /** The internet client (`weft exec internet`), behind the internet router. */
  client: '198.18.0.10',
  clientRouter: '198.18.0.1',
  clientPrefix: 24,
  /** Private AS numbers: the two routers (fabric, internet), the gateway cluster and the LB cluster. */
  routerAs: 64512,
  gatewayAs: 64513,
  lbAs: 64514,
  /** The LB cluster's tunnel address (every LB node holds it; ECMP over them), in a block hosts reach through the fabric router. */
  lbAnycast: DEFAULT_LB_ADDRESS,
  lbBlock: '100.64.254.0/24',
  /** LB nodes' underlay addresses: 100.64.2.11, .12 …; their transit addresses 198.19.255.201, .202 … */
  lbUnderlayBase: '100.64.2.10',
  lbInternetBase: '198.19.255.200',
} as const;

/** Gateways gw1..gwN: underlay 100.64.1.11, .12 …, internet side 198.19.255.11, .12 … */
export function planGateways(count: number): GatewayPlan[] {
  const u = parseIp(EDGE.gatewayUnderlayBase)!;
  const i = parseIp(EDGE.gatewayInternetBase)!;
  return Array.from({ length: count }, (_, k) => ({ id: `gw${k + 1}`, underlay: formatIp(u + k + 1), internet: formatIp(i + k + 1) }));
}

/** LB nodes lb1..lbN: underlay 100.64.2.11, .12 …, internet side 198.19.255.201, .202 … */
export function planLbNodes(count: number): GatewayPlan[] {
  const u = parseIp(EDGE.lbUnderlayBase)!;
  const i = parseIp(EDGE.lbInternetBase)!;
  return Array.from({ length: count }, (_, k) => ({ id: `lb${k + 1}`, underlay: formatIp(u + k + 1), internet: formatIp(i + k + 1) }));
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
  /** BIRD's configuration, control sockets and pid files, one set per router (region/bird.ts). */
  bird: join(dataDir, 'bird'),
  /** conntrackd's configuration, control sockets and pid files, one set per gateway (region/conntrackd.ts). */
  conntrackd: join(dataDir, 'conntrackd'),
  /** Nodes taken off the fabric by `weft node fail` (the sim data plane's record; the kernel's is the link state). */
  failed: join(dataDir, 'failed-nodes.json'),
  /** The sim data plane's state: each host's applied document (dataplane/sim/driver.ts). */
  sim: join(dataDir, 'sim'),
  simState: (hostId: string) => join(dataDir, 'sim', `${hostId}.json`),
});

export function readLayout(dataDir: string): RegionLayout | undefined {
  const f = paths(dataDir).layout;
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RegionLayout) : undefined;
}

/** The layout of this data dir, created on first use; more hosts and gateways are added when asked for. */
export function ensureLayout(dataDir: string, hostCount: number, zones: readonly string[], gatewayCount = 0, lbCount = 0): RegionLayout {
  const old = readLayout(dataDir);
  const prefix = old?.prefix ?? `weft${randomString(5)}`;
  const hosts = planHosts(Math.max(hostCount, old?.hosts.length ?? 0), zones);
  const gateways = planGateways(Math.max(gatewayCount, old?.gateways?.length ?? 0));
  const lbNodes = planLbNodes(Math.max(lbCount, old?.lbNodes?.length ?? 0));
  const layout: RegionLayout = { prefix, hosts: old ? [...old.hosts, ...hosts.slice(old.hosts.length)] : hosts, gateways, lbNodes };
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

/** The namespace `weft exec … internet` runs in. */
export const INTERNET = 'internet';
