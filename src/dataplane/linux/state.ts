/**
 * The actual kernel state of a host, as the driver reads it (`ip -j`,
 * `bridge -j`, `sysctl`, `nft -j`), reduced to what planning compares. The
 * parsers are pure: they take the tools' JSON and return plain data.
 */
import type { NftTable } from './nft-ruleset.js';

export interface LinkState {
  name: string;
  /** linkinfo kind: 'veth', 'vxlan', 'bridge', … (undefined for lo and plain devices). */
  kind?: string;
  mac: string;
  mtu: number;
  /** Administratively up. */
  up: boolean;
  alias?: string;
  master?: string;
  vxlan?: { id?: number; local?: string; port?: number; learning?: boolean };
}

export interface RouteState {
  /** Always `a.b.c.d/n`. */
  dst: string;
  type: string;
  dev?: string;
  gateway?: string;
  onlink: boolean;
  protocol?: string;
}

export interface NeighState {
  dst: string;
  dev: string;
  lladdr?: string;
  permanent: boolean;
}

export interface FdbState {
  mac: string;
  dev: string;
  dst?: string;
  permanent: boolean;
}

/** Everything planning needs to know about one router namespace. */
export interface RouterState {
  links: LinkState[];
  /** IPv4 addresses on lo other than 127.0.0.1, as `a.b.c.d/n`. */
  loAddrs: string[];
  routes: RouteState[];
  neighbours: NeighState[];
  fdb: FdbState[];
  sysctl: Record<string, string>;
  /** The driver's nftables tables as listed (inet weft, arp weft), if present. */
  nft: NftTable[];
}

export interface HostState {
  /** Every named network namespace on the machine. */
  namespaces: string[];
  /** Links of the namespace VXLAN devices are created in (the host's). */
  hostLinks: LinkState[];
  /** Router namespaces of this host, by namespace name. */
  routers: Record<string, RouterState>;
}

type J = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export function parseLinks(json: unknown[]): LinkState[] {
  return (json as J[]).map((l) => {
    const info = (l.linkinfo ?? {}) as J;
    const data = (info.info_data ?? {}) as J;
    const kind = str(info.info_kind);
    const link: LinkState = {
      name: String(l.ifname),
      kind,
      mac: String(l.address ?? '').toLowerCase(),
      mtu: Number(l.mtu),
      up: Array.isArray(l.flags) && (l.flags as string[]).includes('UP'),
    };
    if (str(l.ifalias)) link.alias = str(l.ifalias);
    if (str(l.master)) link.master = str(l.master);
    if (kind === 'vxlan') {
      link.vxlan = {
        id: typeof data.id === 'number' ? data.id : undefined,
        local: str(data.local),
        port: typeof data.port === 'number' ? data.port : undefined,
        learning: typeof data.learning === 'boolean' ? data.learning : undefined,
      };
    }
    return link;
  });
}

/** IPv4 addresses of `ip -j addr show` output, as `a.b.c.d/n`, loopback 127/8 left out. */
export function parseAddrs(json: unknown[], dev?: string): string[] {
  const out: string[] = [];
  for (const l of json as J[]) {
    if (dev && l.ifname !== dev) continue;
    for (const a of (l.addr_info ?? []) as J[]) {
      if (a.family !== 'inet') continue;
      const cidr = `${String(a.local)}/${Number(a.prefixlen)}`;
      if (!String(a.local).startsWith('127.')) out.push(cidr);
    }
  }
  return out;
}

export function normaliseDst(dst: string): string {
  if (dst === 'default') return '0.0.0.0/0';
  return dst.includes('/') ? dst : `${dst}/32`;
}

export function parseRoutes(json: unknown[]): RouteState[] {
  return (json as J[])
    .filter((r) => !String(r.dst ?? '').includes(':'))
    .map((r) => ({
      dst: normaliseDst(String(r.dst)),
      type: str(r.type) ?? 'unicast',
      dev: str(r.dev),
      gateway: str(r.gateway),
      onlink: Array.isArray(r.flags) && (r.flags as string[]).includes('onlink'),
      protocol: str(r.protocol),
    }));
}

export function parseNeighbours(json: unknown[]): NeighState[] {
  return (json as J[])
    .filter((n) => typeof n.dst === 'string' && !String(n.dst).includes(':'))
    .map((n) => ({
      dst: String(n.dst),
      dev: String(n.dev),
      lladdr: str(n.lladdr)?.toLowerCase(),
      permanent: Array.isArray(n.state) && (n.state as string[]).includes('PERMANENT'),
    }));
}

export function parseFdb(json: unknown[]): FdbState[] {
  return (json as J[]).map((f) => ({
    mac: String(f.mac).toLowerCase(),
    dev: String(f.ifname ?? f.dev ?? ''),
    dst: str(f.dst),
    permanent: f.state === 'permanent' || (Array.isArray(f.state) && (f.state as string[]).includes('permanent')),
  }));
}

export const emptyRouter = (): RouterState => ({ links: [], loAddrs: [], routes: [], neighbours: [], fdb: [], sysctl: {}, nft: [] });
