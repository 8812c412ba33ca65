/**
 * Route tables in a VPC's router namespace (docs/dataplane.md, "Routing,
 * ACLs, peering"): what the kernel should hold — numbered tables, next-hop
 * objects, policy rules — and the `ip -batch` lines that make it so. Pure.
 *
 * The main table keeps the instance /32s (plan.ts); rules after it (priority
 * above 32766) send what main did not route to the route table of where the
 * packet came from:
 *   iif <port>                       → "out" table of the port's subnet's route table
 *   iif vx<vni> from <subnet CIDR>   → "in" table of that subnet's route table
 * A packet from a peering link matches no rule: main only (not transitive).
 *
 *   out table: every enabled route — ECMP (resilient next-hop group), one next
 *              hop (plain route), none (blackhole), or the peering link.
 *   in table:  instance routes with next hops on this host, those alone: the
 *              source host already chose this host, this host chooses among its own.
 */
import type { RouteTable, VpcContext } from '../../contract/host-document.js';
import { parseCidr, parseIp } from '../../core/cidr.js';
import { vxlanName } from './names.js';
import { netDetectRouting } from './net-detect-routes.js';
import type { NexthopState, RouteState, RuleState } from './state.js';

/** Numbered tables start here (far from 253-255 and from anything a distribution uses) and stay below 2^31. */
export const TABLE_BASE = 0x100000;
const TABLE_SLOTS = Math.floor((0x7fffffff - TABLE_BASE) / 2);
/** Rule priorities: after main (32766) and default (32767), so instance routes always win. */
export const PORT_RULE_PRIORITY = 40000;
export const TUNNEL_RULE_PRIORITY = 40001;
/** Group IDs live below 10.0.0.0 as a u32; member IDs are the next hop's address (VPC addresses are RFC 1918, all ≥ 10.0.0.0). */
export const GROUP_ID_LIMIT = 0x0a000000;
export const RESILIENT_BUCKETS = 128;
/** Seconds a bucket must be idle before a rebalance may move it: long flows stay on their member. */
export const RESILIENT_IDLE_TIMER = 10;
/** The static next hop of a peering link: an address nobody has, resolved by a permanent neighbour to the peer end's MAC. */
export const PEERING_GATEWAY = '169.254.0.1';
/**
 * An EIP port's traffic that no route table routes (the route tables' rules
 * come first: 0.0.0.0/0 → a NAT gateway wins, as on Tencent) goes to the
 * gateway cluster: a table of one default route over the tunnel, to an
 * address nobody has, resolved by a permanent neighbour to the cluster's MAC.
 */
export const PUBLIC_TABLE = TABLE_BASE - 1;
export const PUBLIC_RULE_PRIORITY = 40010;
export const PUBLIC_GATEWAY = '169.254.255.1';
/**
 * Load balancers (docs/load-balancers.md). A flow an LB node brought to a
 * local backend carries the node's number in its conntrack mark (LB_MARK + n,
 * set by nft-ruleset.ts lbChain from the frame's source MAC); its replies get
 * it as packet mark, and a rule per node sends them to that node's table: a
 * default route to an address nobody has, resolved by a permanent neighbour
 * to the node's MAC. Before main (32766): the client's /32 must not win.
 */
export const LB_MARK = 0x4c420000;
export const LB_RULE_PRIORITY = 20000;
export const lbTable = (node: number) => TABLE_BASE - 0x1000 + node;
export const lbNodeHop = (node: number) => `169.254.254.${10 + node}`;
/** Where hosts send internal VIPs: the LB cluster's MAC, over the tunnel to its address (plan.ts). */
export const LB_GATEWAY = '169.254.254.1';

/** A pinned EIP port's table: its default route goes to the VPC's owner node (OWNER_GATEWAY). */
export const OWNER_TABLE = TABLE_BASE - 2;
/** The next hop towards the VPC's owner node (NAT routes, pinned EIPs): a permanent neighbour, the owner MAC (VpcContext.ownerGateway). */
export const OWNER_GATEWAY = '169.254.255.2';

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(text)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}

/**
 * Stable IDs from a hash of each key, collisions resolved deterministically:
 * keys in sorted order, each takes its hash's slot or the next free one.
 */
function hashedSlots(keys: string[], slots: number): Map<string, number> {
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const k of [...new Set(keys)].sort()) {
    let slot = fnv1a(k) % slots;
    while (taken.has(slot)) slot = (slot + 1) % slots;
    taken.add(slot);
    out.set(k, slot);
  }
  return out;
}

export interface TableIds {
  out: number;
  in: number;
}

/** The kernel tables of each route table: out = TABLE_BASE + 2·slot, in = out + 1. */
export function tableIds(routeTableIds: string[]): Map<string, TableIds> {
  const slots = hashedSlots(routeTableIds, TABLE_SLOTS);
  return new Map([...slots].map(([id, slot]) => [id, { out: TABLE_BASE + 2 * slot, in: TABLE_BASE + 2 * slot + 1 }]));
}

/** Group IDs for (table, destination) keys, in [1, GROUP_ID_LIMIT). */
export function groupIds(keys: string[]): Map<string, number> {
  return new Map([...hashedSlots(keys, GROUP_ID_LIMIT - 1)].map(([k, slot]) => [k, slot + 1]));
}

export interface NexthopWant {
  id: number;
  /** A single next hop … */
  via?: { gateway: string; dev: string };
  /** … or a resilient group of member IDs (sorted). */
  group?: number[];
}

/** `unreachable`: the LOCAL route (the VPC's CIDR), which keeps a user route such as 0.0.0.0/0 off the VPC's own addresses. */
export type RouteWant = { nhid: number } | { gateway: string; dev: string } | { blackhole: true } | { unreachable: true };

export interface RoutingWant {
  nexthops: NexthopWant[];
  /** By `<table> <destination>`. */
  routes: Map<string, RouteWant>;
  rules: RuleState[];
  /** Devices whose routes are someone else's business this round (a peering link the peer's plan creates). */
  deferred: Set<string>;
}

export interface RoutingContext {
  /** Can a next-hop object be put on this local port now? (The kernel refuses a device without carrier.) */
  portUsable: (ifname: string) => boolean;
  /** Peering links whose routes this plan must not touch: another group creates the link and its routes. */
  deferredLinks: Set<string>;
}

/** The routes of one table via one peering link, as `ip -batch` lines (for the plan that creates the link). */
export function peeringRouteLines(vpc: VpcContext, peeringId: string, ifname: string): string[] {
  const ids = tableIds((vpc.routeTables ?? []).map((t) => t.routeTableId));
  return (vpc.routeTables ?? []).flatMap((t) =>
    t.routes
      .filter((r) => r.kind === 'peering' && r.peeringId === peeringId)
      .map((r) => `route replace ${r.destination} via ${PEERING_GATEWAY} dev ${ifname} onlink table ${ids.get(t.routeTableId)!.out}`),
  );
}

/** What the kernel should hold for the VPC's route tables. */
export function routingWant(vpc: VpcContext, ctx: RoutingContext): RoutingWant {
  const tables = vpc.routeTables ?? [];
  const ids = tableIds(tables.map((t) => t.routeTableId));
  const vx = vxlanName(vpc.vni);
  const portOf = new Map(vpc.ports.map((p) => [p.ip, p.ifname]));
  const remote = new Set(vpc.remotes.map((r) => r.ip));
  const linkOf = new Map((vpc.peerings ?? []).map((l) => [l.peeringId, l.ifname]));

  // Members: one object per next-hop address in some group, on its port or in the tunnel.
  const members = new Map<number, NexthopWant>();
  type Hop = { id: number; local: boolean; via: { gateway: string; dev: string } };
  const hop = (ip: string): Hop | undefined => {
    const port = portOf.get(ip);
    if (port !== undefined && !ctx.portUsable(port)) return undefined;
    const dev = port ?? (remote.has(ip) ? vx : undefined);
    if (dev === undefined) return undefined; // not placed anywhere we know: as good as down
    return { id: parseIp(ip)!, local: port !== undefined, via: { gateway: ip, dev } };
  };

  const groupKeys: string[] = [];
  const pending: { table: number; dst: string; members: number[] }[] = [];
  const routes = new Map<string, RouteWant>();
  for (const t of tables) {
    const { out, in: tin } = ids.get(t.routeTableId)!;
    if (vpc.cidr) for (const table of [out, tin]) routes.set(`${table} ${vpc.cidr}`, { unreachable: true });
    for (const r of t.routes) {
      if (r.kind === 'peering') {
        const link = linkOf.get(r.peeringId)!;
        if (!ctx.deferredLinks.has(link)) routes.set(`${out} ${r.destination}`, { gateway: PEERING_GATEWAY, dev: link });
        continue;
      }
      if (r.kind === 'eip') {
        routes.set(`${out} ${r.destination}`, vpc.publicGateway ? { gateway: PUBLIC_GATEWAY, dev: vx } : { blackhole: true });
        continue;
      }
      if (r.kind === 'nat') {
        routes.set(`${out} ${r.destination}`, vpc.ownerGateway ? { gateway: OWNER_GATEWAY, dev: vx } : { blackhole: true });
        continue;
      }
      const byId = new Map(r.nextHops.map((h) => hop(h.ip)).filter((h): h is Hop => !!h).map((h) => [h.id, h]));
      const all = [...byId.values()].sort((a, b) => a.id - b.id);
      for (const [table, set] of [
        [out, all],
        [tin, all.filter((h) => h.local)],
      ] as const) {
        const key = `${table} ${r.destination}`;
        if (set.length >= 2) {
          for (const h of set) members.set(h.id, { id: h.id, via: h.via });
          groupKeys.push(key);
          pending.push({ table, dst: r.destination, members: set.map((h) => h.id) });
        } else if (set.length === 1) routes.set(key, set[0]!.via);
        else if (table === out) routes.set(key, { blackhole: true });
      }
    }
  }
  const gids = groupIds(groupKeys);
  const groups: NexthopWant[] = pending.map((p) => {
    const id = gids.get(`${p.table} ${p.dst}`)!;
    routes.set(`${p.table} ${p.dst}`, { nhid: id });
    return { id, group: p.members };
  });

  const rules: RuleState[] = [];
  const subnetTable = new Map((vpc.subnets ?? []).map((s) => [s.subnetId, s.routeTableId]));
  for (const p of [...vpc.ports].sort((a, b) => (a.ifname < b.ifname ? -1 : 1))) {
    const rtb = subnetTable.get(p.subnetId);
    const id = rtb ? ids.get(rtb) : undefined;
    if (id) rules.push({ priority: PORT_RULE_PRIORITY, src: 'all', iif: p.ifname, table: String(id.out) });
  }
  for (const t of tables)
    for (const s of t.subnets) rules.push({ priority: TUNNEL_RULE_PRIORITY, src: s.cidr, iif: vx, table: String(ids.get(t.routeTableId)!.in) });
  // EIP ports: to the cluster, or (a pinned EIP) to the VPC's owner node.
  const publicPorts = vpc.publicGateway ? vpc.ports.filter((p) => p.publicIp).sort((a, b) => (a.ifname < b.ifname ? -1 : 1)) : [];
  const toOwner = (p: (typeof publicPorts)[number]) => !!p.publicPinned && !!vpc.ownerGateway;
  for (const p of publicPorts) rules.push({ priority: PUBLIC_RULE_PRIORITY, src: 'all', iif: p.ifname, table: String(toOwner(p) ? OWNER_TABLE : PUBLIC_TABLE) });
  if (publicPorts.some((p) => !toOwner(p))) routes.set(`${PUBLIC_TABLE} 0.0.0.0/0`, { gateway: PUBLIC_GATEWAY, dev: vx });
  if (publicPorts.some(toOwner)) routes.set(`${OWNER_TABLE} 0.0.0.0/0`, { gateway: OWNER_GATEWAY, dev: vx });
  // Replies of load-balanced flows, back to the LB node each came through (only where a backend may be: a host with ports).
  if (vpc.ports.length)
    for (const n of vpc.lbNodes ?? []) {
      rules.push({ priority: LB_RULE_PRIORITY, src: 'all', fwmark: `0x${(LB_MARK + n.node).toString(16)}`, table: String(lbTable(n.node)) });
      routes.set(`${lbTable(n.node)} 0.0.0.0/0`, { gateway: lbNodeHop(n.node), dev: vx });
    }

  // Network detections: their probes' forced paths (net-detect-routes.ts).
  const probes = netDetectRouting(vpc, { tableBase: TABLE_BASE, hop: (ip) => hop(ip)?.via, outTable: (id) => ids.get(id)?.out, peeringGateway: PEERING_GATEWAY, ownerGateway: OWNER_GATEWAY, vxlan: vx, deferredLinks: ctx.deferredLinks });
  rules.push(...probes.rules);
  for (const [key, w] of probes.routes) routes.set(key, w);
  return { nexthops: [...members.values(), ...groups], routes, rules, deferred: ctx.deferredLinks };
}

export interface RoutingActual {
  tableRoutes: RouteState[];
  rules: RuleState[];
  nexthops: NexthopState[];
}

/**
 * The lines that turn `actual` into `want`, in an order the kernel accepts:
 * stale rules and routes out, members before the groups that use them, groups
 * changed in place (`nexthop replace` keeps the buckets of surviving members:
 * their flows do not move), routes onto their new next hops, only then the
 * objects nothing uses any more, and the new rules last, once their tables
 * are filled. `gone`: devices deleted or recreated by this plan (whatever hung
 * on them is gone).
 */
export function planRouting(want: RoutingWant, actual: RoutingActual, gone: Set<string>): string[] {
  // What survives the plan's link deletions: objects on gone devices vanish, and so do groups left empty and their routes.
  const members = actual.nexthops.filter((n) => !n.group && !(n.dev && gone.has(n.dev)));
  const alive = new Set(members.map((n) => n.id));
  const groups = actual.nexthops.filter((n) => n.group).map((n) => ({ ...n, group: n.group!.filter((m) => alive.has(m)) }));
  const liveGroups = groups.filter((g) => g.group.length > 0);
  const nhAlive = new Set([...alive, ...liveGroups.map((g) => g.id)]);
  const routes = actual.tableRoutes.filter((r) => !(r.dev && (gone.has(r.dev) || want.deferred.has(r.dev))) && (r.nhid === undefined || nhAlive.has(r.nhid)));

  const wantMembers = want.nexthops.filter((n) => n.via);
  const wantGroups = want.nexthops.filter((n) => n.group);
  const wantIds = new Set(want.nexthops.map((n) => n.id));
  const sameMembers = (a: number[], b: number[]) => a.length === b.length && [...a].sort((x, y) => x - y).every((x, i) => x === b[i]);

  const ruleKey = (r: RuleState) => `${r.priority} ${r.iif ?? '-'} ${r.src} ${r.fwmark ?? '-'} ${r.table}`;
  const wantRules = new Set(want.rules.map(ruleKey));
  const haveRules = new Set(actual.rules.map(ruleKey));
  const ours = (r: RuleState) => !(r.protocol === 'kernel' || ([0, 32766, 32767].includes(r.priority) && r.src === 'all' && !r.iif));
  const ruleDel = actual.rules.filter((r) => ours(r) && !wantRules.has(ruleKey(r))).map((r) => `rule del ${ruleSpec(r)}`);
  const ruleAdd = want.rules.filter((r) => !haveRules.has(ruleKey(r))).map((r) => `rule add ${ruleSpec(r)}`);

  const early: string[] = []; // objects in the way of a replace
  const memberLines: string[] = [];
  for (const m of wantMembers) {
    const have = actual.nexthops.find((n) => n.id === m.id);
    if (have?.group) early.push(`nexthop del id ${m.id}`);
    const ok = have && !have.group && alive.has(m.id) && have.gateway === m.via!.gateway && have.dev === m.via!.dev && have.onlink;
    if (!ok) memberLines.push(`nexthop replace id ${m.id} via ${m.via!.gateway} dev ${m.via!.dev} onlink`);
  }
  const groupLines: string[] = [];
  const dropped = new Set<number>(); // groups deleted before being made again: their routes go with them
  for (const g of wantGroups) {
    const spec = `group ${g.group!.join('/')} type resilient buckets ${RESILIENT_BUCKETS} idle_timer ${RESILIENT_IDLE_TIMER}`;
    const have = actual.nexthops.find((n) => n.id === g.id);
    const live = liveGroups.find((n) => n.id === g.id);
    // A resilient group's bucket count cannot change in place, nor can a single next hop become a group.
    const replaceable = !!live && live.type === 'resilient' && live.buckets === RESILIENT_BUCKETS;
    const inTheWay = live ? !replaceable : !!have && !have.group && alive.has(have.id);
    if (inTheWay) {
      early.push(`nexthop del id ${g.id}`);
      dropped.add(g.id);
    }
    const ok = replaceable && sameMembers(live.group, g.group!) && live.idleTimer === RESILIENT_IDLE_TIMER;
    if (!ok) groupLines.push(`nexthop replace id ${g.id} ${spec}`);
  }

  const routeOk = (r: RouteState, w: RouteWant) => {
    if ('blackhole' in w) return r.type === 'blackhole';
    if ('unreachable' in w) return r.type === 'unreachable';
    if (r.type !== 'unicast') return false;
    if ('nhid' in w) return r.nhid === w.nhid && !dropped.has(w.nhid);
    return r.nhid === undefined && r.gateway === w.gateway && r.dev === w.dev && r.onlink;
  };
  const routeDel: string[] = [];
  const routeSet: string[] = [];
  for (const r of routes) {
    const key = `${r.table} ${r.dst}`;
    const w = want.routes.get(key);
    if (w && routeOk(r, w)) continue;
    if (w && !routes.some((x) => `${x.table} ${x.dst}` === key && routeOk(x, w))) continue; // left to `route replace`
    routeDel.push(`route del ${r.type === 'unicast' ? '' : `${r.type} `}${r.dst} table ${r.table}`);
  }
  for (const [key, w] of want.routes) {
    if (routes.some((r) => `${r.table} ${r.dst}` === key && routeOk(r, w))) continue;
    const [table, dst] = key.split(' ') as [string, string];
    if ('blackhole' in w) routeSet.push(`route replace blackhole ${dst} table ${table}`);
    else if ('unreachable' in w) routeSet.push(`route replace unreachable ${dst} table ${table}`);
    else if ('nhid' in w) routeSet.push(`route replace ${dst} nhid ${w.nhid} table ${table}`);
    else routeSet.push(`route replace ${dst} via ${w.gateway} dev ${w.dev} onlink table ${table}`);
  }

  // Unused objects: groups first (deleting a member shrinks the groups it is in).
  const stale = (n: NexthopState) => !wantIds.has(n.id);
  const groupDel = liveGroups.filter(stale).map((n) => `nexthop del id ${n.id}`);
  const memberDel = members.filter(stale).map((n) => `nexthop del id ${n.id}`);

  return [...ruleDel, ...routeDel, ...early, ...memberLines, ...groupLines, ...routeSet, ...groupDel, ...memberDel, ...ruleAdd];
}

function ruleSpec(r: RuleState): string {
  return `priority ${r.priority}${r.iif ? ` iif ${r.iif}` : ''}${r.src === 'all' ? '' : ` from ${r.src}`}${r.fwmark ? ` fwmark ${r.fwmark}` : ''} lookup ${r.table}`;
}

/** Checks a route table before anything derived from it reaches a command line. */
export function checkRouteTable(t: RouteTable, where: string): void {
  for (const s of t.subnets) if (!parseCidr(s.cidr)) throw new Error(`${where} ${s.subnetId}: invalid CIDR ${JSON.stringify(s.cidr)}`);
  for (const r of t.routes) {
    if (!parseCidr(r.destination)) throw new Error(`${where}: invalid destination ${JSON.stringify(r.destination)} (a normalised CIDR)`);
    if (r.kind === 'instance') {
      for (const h of r.nextHops) {
        const ip = parseIp(h.ip);
        if (ip === undefined || ip < GROUP_ID_LIMIT) throw new Error(`${where} ${r.destination}: invalid next hop ${JSON.stringify(h.ip)}`);
      }
    } else if (r.kind !== 'peering' && r.kind !== 'nat' && r.kind !== 'eip') throw new Error(`${where} ${(r as { destination: string }).destination}: unknown route kind`);
  }
}
