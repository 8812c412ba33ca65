/**
 * The reachability matrix of a VPC: for every ordered pair of its instances,
 * what happens to a new packet of one protocol and port from the first to the
 * second — the tracer's verdict code per cell. Pure.
 *
 * A cell is `delivered` only when the flow is delivered through every ECMP
 * member it can take (the kernel's hash, not the tracer's, picks one); else it
 * is the code of the first path (members in address order) that is not.
 */
import type { HostDocument, Port } from '../contract/host-document.js';
import { containsIp, parseIp, type Cidr } from '../core/cidr.js';
import { TraceError, type EndCode, type L4, type Packet } from './model.js';
import { evaluateAcl } from './stages/network-acl.js';
import { evaluateGroups, type GroupVerdict } from './stages/security-group.js';
import { anyTableRoute } from './tables.js';
import { DEFAULT_SOURCE_PORT, traceEveryPath } from './trace.js';
import { buildWorld, instancesOf, routerKey, type Router, type World } from './world.js';

export interface ReachQuery {
  vpcId: string;
  protocol: L4;
  /** tcp/udp destination port. */
  port?: number;
  /** Only these instances (rows and columns), in this order; default every instance of the VPC with a port. */
  instanceIds?: string[];
}

export interface ReachMatrix {
  vpcId: string;
  protocol: L4;
  port?: number;
  instances: { instanceId: string; ip: string; hostId: string; subnetId: string }[];
  /** cells[i][j]: the trace code from instances[i] to instances[j] ('delivered' when it arrives; 'loopback' on the diagonal). */
  cells: EndCode[][];
  /** Ordered pairs of distinct instances, and how many of them arrive. */
  pairs: number;
  reachable: number;
}

export function reachability(region: World | readonly HostDocument[], q: ReachQuery): ReachMatrix {
  return matrix(region, q, classCells);
}

/** The same matrix with one full trace per cell: the reference the class-based one is held to. */
export function reachabilityByTraces(region: World | readonly HostDocument[], q: ReachQuery): ReachMatrix {
  return matrix(region, q, (world, chosen, q) => chosen.map((from) => chosen.map((to) => traceCode(world, from, to, q))));
}

type Member = { router: Router; port: Port };
type Cells = (world: World, chosen: readonly Member[], q: ReachQuery) => EndCode[][];

/** The cell's code: delivered through every ECMP path, or the first path's code that is not delivered. */
function traceCode(world: World, from: Member, to: Member, q: ReachQuery): EndCode {
  const paths = traceEveryPath(world, { from: from.port.instanceId, to: to.port.instanceId, protocol: q.protocol, port: q.port });
  return (paths.find((p) => p.code !== 'delivered') ?? paths[0]!).code;
}

function matrix(region: World | readonly HostDocument[], q: ReachQuery, cellsOf: Cells): ReachMatrix {
  const world = Array.isArray(region) ? buildWorld(region as readonly HostDocument[]) : (region as World);
  const all = instancesOf(world, q.vpcId);
  let chosen = all;
  if (q.instanceIds) {
    const byId = new Map(all.map((i) => [i.port.instanceId, i]));
    chosen = q.instanceIds.map((id) => {
      const i = byId.get(id);
      if (!i) throw new TraceError('unknown-instance', `${id} has no port in ${q.vpcId} on any host: unknown, in another VPC, or not placed yet`);
      return i;
    });
  }
  const instances = chosen.map((i) => ({ instanceId: i.port.instanceId, ip: i.port.ip, hostId: i.router.hostId, subnetId: i.port.subnetId }));
  const cells = chosen.length ? cellsOf(world, chosen, q) : [];
  let reachable = 0;
  for (let i = 0; i < cells.length; i++) for (let j = 0; j < cells.length; j++) if (i !== j && cells[i]![j] === 'delivered') reachable++;
  const n = chosen.length;
  return { vpcId: q.vpcId, protocol: q.protocol, ...(q.port !== undefined ? { port: q.port } : {}), instances, cells, pairs: n * (n - 1), reachable };
}

/*
 * The matrix by equivalence classes. A new packet from A to B (addresses a, b)
 * in A's VPC meets, in order: the route for b on A's router R (the gateway →
 * router-address, nothing → no-route), the egress ACL of A's subnet (peer b,
 * unless b is inside the subnet), the egress chain of A's groups with peer b
 * (R's member sets), then either a local port or tunnels to further routers
 * (each routing b again: tunnel-*, router-address, no-route, ttl-exceeded),
 * and finally, on the router it is delivered by, the ingress ACL of the
 * destination port's subnet (peer a, unless a is inside it) and the ingress
 * chain of the destination port's groups, with peer a. So the code of a cell
 * depends on B only through what b does from R — the route outcome, the
 * egress decision (ACL and groups) of every source profile seen on R, and
 * which "final" (ingress ACL context and group chain) it ends at — and on A
 * through R, its profile (groups, egress ACL context), and the ingress
 * decision for a of every final. Sources with equal keys are one row class,
 * destinations with equal keys (per R) one column class; one real trace per
 * pair of classes gives the code of every cell of the block. Cells where
 * b = a are loopback.
 *
 * Route tables break this when a router on the way has no /32 for b: then
 * the table that decides depends on A's subnet (or, tunnel-side, on a), and
 * ECMP or next hops may lead anywhere. Documents that agree never do this (an
 * instance address is inside the VPC's CIDR, which no table route overlaps),
 * but when a router lacks b's /32 and one of its tables or tunnel views has a
 * route containing b, that column is "by trace": each of its cells is a trace
 * of its own. reachabilityByTraces is the reference, and a property test holds
 * the two equal on random regions (with tables, ACLs and stale documents).
 */
const INITIAL_TTL = 64;
/** Endings the route and tunnel stages decide, numbered for column keys. */
const END_CODES: EndCode[] = ['router-address', 'no-route', 'tunnel-no-host', 'tunnel-no-vpc', 'tunnel-mac-mismatch', 'ttl-exceeded'];
function endCodeIndex(code: EndCode): number {
  const i = END_CODES.indexOf(code);
  if (i < 0) throw new Error(`reach: no column key for the ending ${code}`);
  return i;
}

function classCells(world: World, chosen: readonly Member[], q: ReachQuery): EndCode[][] {
  const packet = (src: string, dst: string): Packet => ({
    protocol: q.protocol,
    src,
    dst,
    ttl: INITIAL_TTL,
    ...(q.protocol === 'icmp' ? {} : { srcPort: DEFAULT_SOURCE_PORT, dstPort: q.port }),
  });
  const verdictKey = (v: GroupVerdict) => (v.decision === 'policy' ? `${v.securityGroupId}#${v.policyIndex}` : v.decision);

  // Member sets by content, so equal sets on different routers compare equal.
  const setIds = new Map<Set<string> | undefined, number>();
  const setByContent = new Map<string, number>();
  const setId = (s: Set<string> | undefined) => {
    let id = setIds.get(s);
    if (id === undefined) {
      const key = s ? [...s].sort().join(',') : '-';
      id = setByContent.get(key);
      if (id === undefined) setByContent.set(key, (id = setByContent.size));
      setIds.set(s, id);
    }
    return id;
  };
  /**
   * Chains of one direction: a group list's rules and the member sets they
   * read on one router. Equal fingerprints decide every packet alike, so
   * routers holding the same groups and members share one id.
   */
  function chains(direction: 'ingress' | 'egress') {
    const byFingerprint = new Map<string, number>();
    const reps: { router: Router; groups: string[] }[] = [];
    const at = new Map<string, number>(); // router/groups → id
    function id(router: Router, groups: readonly string[]): number {
      const where = `${routerKey(router)}|${groups.join(',')}`;
      let found = at.get(where);
      if (found !== undefined) return found;
      const parts = groups.map((g) => {
        const rules = router.vpc.securityGroups[g]?.[direction] ?? [];
        const refs = [...new Set(rules.flatMap((r) => (r.group ? [r.group] : [])))].sort();
        return [g, rules, refs.map((r) => [r, setId(router.members.get(r))])];
      });
      const fingerprint = JSON.stringify(parts);
      found = byFingerprint.get(fingerprint);
      if (found === undefined) {
        found = reps.length;
        byFingerprint.set(fingerprint, found);
        reps.push({ router, groups: [...groups] });
      }
      at.set(where, found);
      return found;
    }
    return { id, reps };
  }
  const finals = chains('ingress');
  // Egress decisions per (egress profile, destination column), computed once for all routers sharing the profile.
  const egressChains = chains('egress');
  const egressMemo = new Map<string, Int32Array>();
  const decisions = new Map<string, number>();
  const decisionId = (k: string) => {
    let id = decisions.get(k);
    if (id === undefined) decisions.set(k, (id = decisions.size));
    return id;
  };

  /**
   * ACL contexts: a subnet's ACL (content) and CIDR (what is inside, exempt).
   * -1: the subnet has no ACL. Equal content decides every packet alike.
   */
  const aclReps: { acl: NonNullable<ReturnType<Router['acls']['get']>>; cidr: Cidr }[] = [];
  const aclByFingerprint = new Map<string, number>();
  const aclAt = new Map<Router, Map<string, number>>();
  function aclCtx(router: Router, subnetId: string): number {
    let m = aclAt.get(router);
    if (!m) aclAt.set(router, (m = new Map()));
    let id = m.get(subnetId);
    if (id !== undefined) return id;
    const s = router.subnets.get(subnetId);
    const acl = s?.subnet.networkAclId === undefined ? undefined : router.acls.get(s.subnet.networkAclId);
    if (!s || !acl) id = -1;
    else {
      const fingerprint = JSON.stringify([s.subnet.cidr, acl]);
      id = aclByFingerprint.get(fingerprint);
      if (id === undefined) {
        id = aclReps.length;
        aclByFingerprint.set(fingerprint, id);
        aclReps.push({ acl, cidr: s.cidr });
      }
    }
    m.set(subnetId, id);
    return id;
  }
  /** An ACL context's decision for a packet whose peer is `peer`: in (exempt), an entry, or none (drop). */
  const aclKey = (ctx: number, direction: 'egress' | 'ingress', peer: string, p: Packet): string => {
    if (ctx < 0) return '';
    const r = aclReps[ctx]!;
    if (containsIp(r.cidr, parseIp(peer)!)) return 'in';
    const v = evaluateAcl(r.acl, direction, p);
    return v.decision === 'entry' ? `${v.entryIndex}` : 'none';
  };

  // Column keys as paths in a trie of small numbers (no string per cell).
  interface KeyNode {
    id: number;
    next: Map<number, KeyNode>;
  }
  let keyNodes = 0;
  const keyRoot: KeyNode = { id: keyNodes++, next: new Map() };
  const child = (n: KeyNode, k: number): KeyNode => {
    let c = n.next.get(k);
    if (!c) n.next.set(k, (c = { id: keyNodes++, next: new Map() }));
    return c;
  };

  /** Finals: the destination port's ingress group chain and its subnet's ACL context, on the router that delivers. */
  const finalIds = new Map<string, number>();
  const finalReps: { chain: number; acl: number }[] = [];
  const finalOfPort = new Map<Router, Map<Port, number>>();
  function portFinal(router: Router, port: Port): number {
    let m = finalOfPort.get(router);
    if (!m) finalOfPort.set(router, (m = new Map()));
    let id = m.get(port);
    if (id === undefined) {
      const chain = finals.id(router, port.securityGroups);
      const acl = aclCtx(router, port.subnetId);
      const k = `${chain}/${acl}`;
      id = finalIds.get(k);
      if (id === undefined) {
        id = finalReps.length;
        finalIds.set(k, id);
        finalReps.push({ chain, acl });
      }
      m.set(port, id);
    }
    return id;
  }

  /** No /32 for b on the router: no route, unless a route table could decide (then each cell is traced on its own). */
  const noSlash32 = (r: Router, b: string): { code: EndCode } | { byTrace: true } => (anyTableRoute(r, parseIp(b)!) ? { byTrace: true } : { code: 'no-route' });

  /** Where b leads from router R, as the route and tunnel stages decide: an ending code, a final, or "trace each cell". */
  function follow(r: Router, b: string): { code: EndCode } | { final: number; local: boolean } | { byTrace: true } {
    if (r.gateways.has(b)) return { code: 'router-address' };
    let port = r.ports.get(b);
    let remote = port ? undefined : r.remotes.get(b);
    if (!port && !remote) return noSlash32(r, b);
    if (port) return { final: portFinal(r, port), local: true };
    let router = r;
    let ttl = INITIAL_TTL;
    for (;;) {
      const hostId = world.byUnderlay.get(remote!.underlay);
      if (!hostId) return { code: 'tunnel-no-host' };
      const target = world.byVni.get(hostId)?.get(router.vpc.vni);
      if (!target) return { code: 'tunnel-no-vpc' };
      if (target.vpc.routerMac.toLowerCase() !== remote!.routerMac.toLowerCase()) return { code: 'tunnel-mac-mismatch' };
      router = target;
      ttl--;
      if (router.gateways.has(b)) return { code: 'router-address' };
      port = router.ports.get(b);
      remote = port ? undefined : router.remotes.get(b);
      if (!port && !remote) return noSlash32(router, b);
      if (ttl <= 1) return { code: 'ttl-exceeded' };
      if (port) return { final: portFinal(router, port), local: false };
    }
  }

  // Group the sources by router: a column's key is relative to the source's router.
  const byRouter = new Map<Router, number[]>();
  chosen.forEach((m, i) => {
    const list = byRouter.get(m.router) ?? [];
    list.push(i);
    byRouter.set(m.router, list);
  });
  /** A source's egress profile on its router: its group list and its subnet's ACL context. */
  const profileOf = (m: Member) => `${m.port.securityGroups.join(',')}|${aclCtx(m.router, m.port.subnetId)}`;

  // Column keys per source router (this also discovers every final); byTrace marks columns traced cell by cell.
  const columns = new Map<Router, { classOf: Int32Array; reps: number[][]; byTrace: Uint8Array }>();
  for (const [router, rows] of byRouter) {
    const profiles = [...new Map(rows.map((i) => [profileOf(chosen[i]!), chosen[i]!])).values()].map((m) => ({
      groups: m.port.securityGroups,
      acl: aclCtx(m.router, m.port.subnetId),
    }));
    const memos = profiles.map(({ groups, acl }) => {
      const k = `${egressChains.id(router, groups)}/${acl}`;
      let memo = egressMemo.get(k);
      if (!memo) egressMemo.set(k, (memo = new Int32Array(chosen.length).fill(-1)));
      return memo;
    });
    const keys = new Map<number, number>();
    const classOf = new Int32Array(chosen.length);
    const byTrace = new Uint8Array(chosen.length);
    const reps: number[][] = [];
    chosen.forEach((to, j) => {
      const b = to.port.ip;
      const f = follow(router, b);
      let node = keyRoot;
      if ('byTrace' in f) {
        byTrace[j] = 1;
        node = child(keyRoot, -1 - END_CODES.length - j); // a class of its own
      } else {
        // The key: the egress decision (ACL, groups) of every source profile seen on this router (peer b), then where b leads.
        if (!('code' in f && (f.code === 'router-address' || f.code === 'no-route'))) // else decided before any ACL or chain
          for (let g = 0; g < memos.length; g++) {
            const memo = memos[g]!;
            if (memo[j] === -1) {
              const p = packet('0.0.0.0', b);
              const sg = verdictKey(evaluateGroups(router, { securityGroups: profiles[g]!.groups } as Port, 'egress', p));
              memo[j] = decisionId(`${aclKey(profiles[g]!.acl, 'egress', b, p)}|${sg}`);
            }
            node = child(node, memo[j]!);
          }
        node = child(node, 'code' in f ? -1 - endCodeIndex(f.code) : 2 * f.final + (f.local ? 1 : 0));
      }
      let c = keys.get(node.id);
      if (c === undefined) {
        c = reps.length;
        keys.set(node.id, c);
        reps.push([]);
      }
      classOf[j] = c;
      reps[c]!.push(j);
    });
    columns.set(router, { classOf, reps, byTrace });
  }

  // Row keys: router, egress profile, and the ingress decision for a of every final (group chain, then ACL context).
  const chainReps = finals.reps;
  const ingressAcls = [...new Set(finalReps.map((f) => f.acl))].filter((x) => x >= 0).sort((x, y) => x - y);
  const rowKeys = new Map<string, number>();
  const rowClass = new Int32Array(chosen.length);
  const rowReps: number[][] = [];
  chosen.forEach((from, i) => {
    const a = from.port.ip;
    const p = packet(a, '0.0.0.0');
    const ingress = chainReps.map((f) => verdictKey(evaluateGroups(f.router, { securityGroups: f.groups } as Port, 'ingress', p)));
    const acls = ingressAcls.map((ctx) => aclKey(ctx, 'ingress', a, p));
    const key = `${routerKey(from.router)}|${profileOf(from)}|${ingress.join(';')}|${acls.join(';')}`;
    let c = rowKeys.get(key);
    if (c === undefined) {
      c = rowReps.length;
      rowKeys.set(key, c);
      rowReps.push([]);
    }
    rowClass[i] = c;
    rowReps[c]!.push(i);
  });

  // One trace per (row class, column class): any pair of them that is not a packet to the source's own address.
  const codes = new Map<string, EndCode>();
  const blockCode = (rc: number, router: Router, cc: number): EndCode => {
    const k = `${rc}/${cc}`;
    let code = codes.get(k);
    if (code !== undefined) return code;
    const rows = rowReps[rc]!;
    const cols = columns.get(router)!.reps[cc]!;
    search: for (const i of rows)
      for (const j of cols)
        if (chosen[i]!.port.ip !== chosen[j]!.port.ip) {
          code = traceCode(world, chosen[i]!, chosen[j]!, q);
          break search;
        }
    code ??= 'loopback';
    codes.set(k, code);
    return code;
  };

  const n = chosen.length;
  const cells: EndCode[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const from = chosen[i]!;
    const { classOf, byTrace } = columns.get(from.router)!;
    const rc = rowClass[i]!;
    const row: EndCode[] = new Array(n);
    // Codes of this row's column classes, looked up once per class.
    const byClass: (EndCode | undefined)[] = [];
    for (let j = 0; j < n; j++) {
      if (byTrace[j]) {
        row[j] = chosen[i]!.port.ip === chosen[j]!.port.ip ? 'loopback' : traceCode(world, from, chosen[j]!, q);
        continue;
      }
      const cc = classOf[j]!;
      row[j] = byClass[cc] ??= blockCode(rc, from.router, cc);
    }
    cells[i] = row;
  }
  // A packet to the source's own address never leaves it.
  const byIp = new Map<string, number[]>();
  chosen.forEach((m, j) => {
    const list = byIp.get(m.port.ip) ?? [];
    list.push(j);
    byIp.set(m.port.ip, list);
  });
  for (let i = 0; i < n; i++) for (const j of byIp.get(chosen[i]!.port.ip)!) cells[i]![j] = 'loopback';
  return cells;
}
