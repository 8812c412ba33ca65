/**
 * The reachability matrix of a VPC: for every ordered pair of its instances,
 * what happens to a new packet of one protocol and port from the first to the
 * second — the tracer's verdict code per cell. Pure.
 */
import type { HostDocument, Port } from '../contract/host-document.js';
import { TraceError, type EndCode, type L4, type Packet } from './model.js';
import { evaluateGroups, type GroupVerdict } from './stages/security-group.js';
import { DEFAULT_SOURCE_PORT, trace } from './trace.js';
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

const traceCode = (world: World, from: Member, to: Member, q: ReachQuery): EndCode =>
  trace(world, { from: from.port.instanceId, to: to.port.instanceId, protocol: q.protocol, port: q.port }).code;

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
 * router-address, nothing → no-route), the egress chain of A's groups with
 * peer b (R's member sets), then either a local port or tunnels to further
 * routers (each routing b again: tunnel-*, router-address, no-route,
 * ttl-exceeded), and finally the ingress chain of the destination port's
 * groups on the router it is delivered by, with peer a. So the code of a cell
 * depends on B only through what b does from R — the route outcome, the
 * egress decision of every source group list seen on R, and which ingress
 * chain ("final": the groups' rules and member sets on that router) it ends
 * at — and on A through R, its groups, and the ingress decision for a of
 * every final chain. Sources with equal keys are one row class, destinations
 * with equal keys (per R) one column class; one real trace per pair of
 * classes gives the code of every cell of the block. Cells where b = a are
 * loopback. reachabilityByTraces is the reference, and a property test holds
 * the two equal on random regions.
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
  const finalId = finals.id;
  const finalReps = finals.reps;
  // Egress decisions per (egress chain, destination column), computed once for all routers sharing the chain.
  const egressChains = chains('egress');
  const egressMemo = new Map<number, Int32Array>();
  const decisions = new Map<string, number>();
  const decisionId = (k: string) => {
    let id = decisions.get(k);
    if (id === undefined) decisions.set(k, (id = decisions.size));
    return id;
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

  const finalOfPort = new Map<Router, Map<Port, number>>();
  function portFinal(router: Router, port: Port): number {
    let m = finalOfPort.get(router);
    if (!m) finalOfPort.set(router, (m = new Map()));
    let id = m.get(port);
    if (id === undefined) m.set(port, (id = finalId(router, port.securityGroups)));
    return id;
  }

  /** Where b leads from router R, as the route and tunnel stages decide: an ending code, or a final chain. */
  function follow(r: Router, b: string): { code: EndCode } | { final: number; local: boolean } {
    if (r.gateways.has(b)) return { code: 'router-address' };
    let port = r.ports.get(b);
    let remote = port ? undefined : r.remotes.get(b);
    if (!port && !remote) return { code: 'no-route' };
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
      if (!port && !remote) return { code: 'no-route' };
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

  // Column keys per source router (this also discovers every final chain).
  const columns = new Map<Router, { classOf: Int32Array; reps: number[][] }>();
  for (const [router, rows] of byRouter) {
    const sourceGroups = [...new Set(rows.map((i) => chosen[i]!.port.securityGroups.join(',')))].map((g) => (g ? g.split(',') : []));
    const memos = sourceGroups.map((groups) => {
      const e = egressChains.id(router, groups);
      let memo = egressMemo.get(e);
      if (!memo) egressMemo.set(e, (memo = new Int32Array(chosen.length).fill(-1)));
      return memo;
    });
    const keys = new Map<number, number>();
    const classOf = new Int32Array(chosen.length);
    const reps: number[][] = [];
    chosen.forEach((to, j) => {
      const b = to.port.ip;
      const f = follow(router, b);
      // The key: the egress decision of every source group list seen on this router (peer b), then where b leads.
      let node = keyRoot;
      if (!('code' in f && (f.code === 'router-address' || f.code === 'no-route'))) // else decided before any chain
        for (let g = 0; g < memos.length; g++) {
          const memo = memos[g]!;
          if (memo[j] === -1) memo[j] = decisionId(verdictKey(evaluateGroups(router, { securityGroups: sourceGroups[g]! } as Port, 'egress', packet('0.0.0.0', b))));
          node = child(node, memo[j]!);
        }
      node = child(node, 'code' in f ? -1 - endCodeIndex(f.code) : 2 * f.final + (f.local ? 1 : 0));
      let c = keys.get(node.id);
      if (c === undefined) {
        c = reps.length;
        keys.set(node.id, c);
        reps.push([]);
      }
      classOf[j] = c;
      reps[c]!.push(j);
    });
    columns.set(router, { classOf, reps });
  }

  // Row keys: router, groups, and the ingress decision for a of every final chain.
  const rowKeys = new Map<string, number>();
  const rowClass = new Int32Array(chosen.length);
  const rowReps: number[][] = [];
  chosen.forEach((from, i) => {
    const a = from.port.ip;
    const ingress = finalReps.map((f) => verdictKey(evaluateGroups(f.router, { securityGroups: f.groups } as Port, 'ingress', packet(a, '0.0.0.0'))));
    const key = `${routerKey(from.router)}|${from.port.securityGroups.join(',')}|${ingress.join(';')}`;
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
    const { classOf } = columns.get(from.router)!;
    const rc = rowClass[i]!;
    const row: EndCode[] = new Array(n);
    // Codes of this row's column classes, looked up once per class.
    const byClass: (EndCode | undefined)[] = [];
    for (let j = 0; j < n; j++) {
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
