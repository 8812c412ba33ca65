/**
 * The actual kernel state of a host, as the driver reads it (`ip -j`,
 * `bridge -j`, `sysctl`, `nft -j`), reduced to what planning compares. The
 * parsers are pure: they take the tools' JSON and return plain data.
 */
import type { LimitsState } from './eip-limits.js';
import type { GatewayNsState } from './nat-gateway.js';
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
  /** Interface index, and for a veth the index of its peer (in the peer's namespace). */
  ifindex?: number;
  peerIndex?: number;
  /** Set when the link has no carrier (a veth whose peer is down): the kernel refuses next-hop objects on it. */
  noCarrier?: true;
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
  /** Routing table, when not main (`ip` prints a number for tables without a name). */
  table?: string;
  /** Next-hop object the route uses. */
  nhid?: number;
  /** Its metric (priority), when not 0. */
  metric?: number;
}

/** A policy routing rule (`ip -j rule show`). */
export interface RuleState {
  priority: number;
  /** `all` or `a.b.c.d/n`. */
  src: string;
  iif?: string;
  /** `0x…` or `0x…/0x…` (mask when not all ones). */
  fwmark?: string;
  table: string;
  protocol?: string;
}

/** A next-hop object (`ip -j nexthop show`): a single next hop or a group. */
export interface NexthopState {
  id: number;
  gateway?: string;
  dev?: string;
  onlink: boolean;
  /** Member IDs of a group, in the kernel's order. */
  group?: number[];
  /** Group type ('resilient', 'mpath'). */
  type?: string;
  buckets?: number;
  idleTimer?: number;
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
  /** Routes of the main table. */
  routes: RouteState[];
  /** Routes of the numbered tables (route tables' "out" and "in" tables). */
  tableRoutes: RouteState[];
  rules: RuleState[];
  nexthops: NexthopState[];
  neighbours: NeighState[];
  fdb: FdbState[];
  sysctl: Record<string, string>;
  /** The driver's nftables tables as listed (inet weft, arp weft), if present. */
  nft: NftTable[];
  /** On an LB node: the digest of its load-balancer tables (load-balancer.ts; the comment of ip weftlbd), if present. */
  lbDigest?: string;
}

export interface HostState {
  /** Every named network namespace on the machine. */
  namespaces: string[];
  /** Links of the namespace VXLAN devices are created in (the host's). */
  hostLinks: LinkState[];
  /** On a gateway: the host namespace's main-table routes and neighbours (its EIP routes into the VPC routers). */
  hostRoutes?: RouteState[];
  hostNeighbours?: NeighState[];
  /** Router namespaces of this host, by namespace name. */
  routers: Record<string, RouterState>;
  /** On a gateway node: its own namespace's NAT state (nat-gateway.ts) and EIP limits (eip-limits.ts). */
  gateway?: GatewayNsState & { limits?: LimitsState };
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
    if (typeof l.ifindex === 'number') link.ifindex = l.ifindex;
    if (kind === 'veth' && typeof l.link_index === 'number') link.peerIndex = l.link_index;
    if (Array.isArray(l.flags) && !(l.flags as string[]).includes('LOWER_UP')) link.noCarrier = true;
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
    .map((r) => {
      const route: RouteState = {
        dst: normaliseDst(String(r.dst)),
        type: str(r.type) ?? 'unicast',
        dev: str(r.dev),
        gateway: str(r.gateway),
        onlink: Array.isArray(r.flags) && (r.flags as string[]).includes('onlink'),
        protocol: str(r.protocol),
      };
      const table = r.table === undefined ? undefined : String(r.table);
      if (table !== undefined && table !== 'main') route.table = table;
      if (typeof r.nhid === 'number') route.nhid = r.nhid;
      if (typeof r.metric === 'number' && r.metric !== 0) route.metric = r.metric;
      return route;
    });
}

/** `ip -j route show table all`, split: the main table, and the numbered tables (local and default left out). */
export function splitTables(routes: RouteState[]): { main: RouteState[]; numbered: RouteState[] } {
  return {
    main: routes.filter((r) => r.table === undefined),
    numbered: routes.filter((r) => r.table !== undefined && /^\d+$/.test(r.table)),
  };
}

export function parseRules(json: unknown[]): RuleState[] {
  return (json as J[])
    .filter((r) => r.family === undefined || r.family === 'inet')
    .map((r) => {
      const src = str(r.src) ?? 'all';
      const rule: RuleState = {
        priority: Number(r.priority),
        src: src === 'all' ? 'all' : `${src}/${typeof r.srclen === 'number' ? r.srclen : 32}`,
        table: String(r.table ?? ''),
      };
      if (str(r.iif)) rule.iif = str(r.iif);
      if (str(r.fwmark)) rule.fwmark = str(r.fwmask) && str(r.fwmask) !== '0xffffffff' ? `${str(r.fwmark)}/${str(r.fwmask)}` : str(r.fwmark);
      if (str(r.protocol)) rule.protocol = str(r.protocol);
      return rule;
    });
}

export function parseNexthops(json: unknown[]): NexthopState[] {
  return (json as J[]).map((n) => {
    const nh: NexthopState = { id: Number(n.id), onlink: Array.isArray(n.flags) && (n.flags as string[]).includes('onlink') };
    if (str(n.gateway)) nh.gateway = str(n.gateway);
    if (str(n.dev)) nh.dev = str(n.dev);
    if (Array.isArray(n.group)) {
      nh.group = (n.group as J[]).map((m) => Number(m.id));
      nh.type = str(n.type) ?? 'mpath';
      const res = (n.resilient_args ?? {}) as J;
      if (typeof res.buckets === 'number') nh.buckets = res.buckets;
      if (typeof res.idle_timer === 'number') nh.idleTimer = res.idle_timer;
    }
    return nh;
  });
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

export const emptyRouter = (): RouterState => ({ links: [], loAddrs: [], routes: [], tableRoutes: [], rules: [], nexthops: [], neighbours: [], fdb: [], sysctl: {}, nft: [] });
