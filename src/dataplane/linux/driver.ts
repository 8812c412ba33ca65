/**
 * The Linux driver: makes one host's kernel state match its HostDocument.
 * It reads the actual state (`ip -j`, `bridge -j fdb`, `sysctl`, `nft -j`),
 * plans the difference (plan.ts) and runs it: `ip -batch` per namespace,
 * each VPC's nftables tables in one `nft -f` transaction. Idempotent: when
 * the kernel already matches (also after an agent restart) it changes
 * nothing.
 *
 * In two tiers (applied-memory.ts, docs/reconcile.md): `apply` reads and
 * plans only the routers whose part of the document changed since it last
 * applied them (or whose namespaces went missing); `audit` reads and plans
 * the whole host, and what it then changes is drift.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { HostDocument } from '../../contract/host-document.js';
import {
  CommandError,
  bridgeBatch,
  ip,
  bridgeJson,
  ipBatch,
  ipBatchNetlink,
  ipJson,
  ipJsonBatch,
  ipJsonNetlink,
  listNetns,
  netnsAddAll,
  netnsDel,
  nftApply,
  nftJson,
  run,
  sysctlRead,
  tcBatch,
  sysctlWrite,
} from './exec.js';
import { GATEWAY_INTERNET_LINK } from './edge.js';
import { NAT_TABLE, parseTableComment, type GatewayNsState } from './nat-gateway.js';
import { QOS_TABLE, limitClasses, parseHtbRoot, parseTcClasses, type LimitShare, type LimitsState } from './eip-limits.js';
import type { LimitUsage } from '../../contract/limit-usage.js';
import type { GatewayFlowSample } from '../../contract/agent-report.js';
import { countSessions, flowSamples, parseCounterSet, type Counter } from './nat-flows.js';
import { checkName, checkPrefix, hostNs, instanceNs, routerNs, routerVpcOf } from './names.js';
import { TABLE, tableComments, tablesFromListing, withComments, type NftTable } from './nft-ruleset.js';
import { isGatewayLinkName, LB_SYSCTLS, planHost, sysctlKeys, type DriverContext, type Step, type StepKind } from './plan.js';
import { LB_DIGEST_TABLE, lbWant, type LbApplied } from './load-balancer.js';
import { vpcDigests, vpcsToPlan } from './applied-memory.js';
import type { AuditOutcome } from '../../agent/reconcile-loop.js';
import {
  parseAddrs,
  parseFdb,
  parseLinks,
  parseNeighbours,
  parseNexthops,
  parseRoutes,
  parseRules,
  splitTables,
  type HostState,
  type RouterState,
} from './state.js';

export interface LinuxDriverOptions {
  /** The region's namespace prefix. */
  prefix: string;
  /** This host's name: router namespaces are `<prefix>-<hostName>-<vpcId>`. */
  hostName: string;
  /**
   * Namespace whose underlay the VXLAN sockets use. Defaults to the region-in-a-box
   * host namespace `<prefix>-<hostName>`; null means the root namespace (a real host).
   */
  hostNamespace?: string | null;
}

/** One change made to the kernel. */
export interface AppliedChange {
  vpcId: string;
  kind: StepKind;
  /** Namespace it was made in; null for the root namespace (namespace add/delete). */
  ns: string | null;
  lines: string[];
  note?: string;
}

export interface ApplyReport {
  hostId: string;
  revision: number;
  /** How many changes were made (applied.length); 0 when the kernel already matched the document. */
  changes: number;
  /** What was changed, in order. */
  applied: AppliedChange[];
  /** Milliseconds spent reading the kernel state, planning, and running each kind of step (summed over VPCs). */
  timings: Record<string, number>;
}

/**
 * Thrown by apply when the changes of some VPC failed. The other VPCs were
 * still applied; `report` says what was changed, `failures` what was not.
 */
export class ApplyError extends Error {
  constructor(
    readonly report: ApplyReport,
    readonly failures: { vpcId: string; message: string }[],
  ) {
    super(failures.map((f) => `${f.vpcId}: ${f.message}`).join('\n'));
    this.name = 'ApplyError';
  }
}

export class LinuxDriver {
  readonly ctx: DriverContext;
  private queue: Promise<unknown> = Promise.resolve();
  /** On a gateway: the document last applied, this node's shares of split EIP limits, and the class counters last read. */
  private lastDoc?: HostDocument;
  private limitShares = new Map<string, LimitShare>();
  private counted = new Map<string, { bytes: number; held: number }>();
  private lbApplied = new Map<string, LbApplied>();
  /** Per VPC, the digest of its part of the document when it was last applied without error (applied-memory.ts). */
  private appliedVpcs = new Map<string, string>();
  /**
   * Router namespaces as last read, by namespace: what a normal apply plans
   * against instead of reading them again. A router the apply changed is
   * read again right after it (off the apply's path: the caller has its
   * report by then), before the next apply; one that failed is forgotten.
   */
  private routerCache = new Map<string, RouterState>();
  private stale = new Set<string>();

  constructor(opts: LinuxDriverOptions) {
    const prefix = checkPrefix(opts.prefix);
    const hostName = checkName('host name', opts.hostName);
    this.ctx = {
      prefix,
      hostName,
      hostNs: opts.hostNamespace === undefined ? hostNs(prefix, hostName) : opts.hostNamespace,
      ipv6: existsSync('/proc/sys/net/ipv6'),
    };
  }

  /**
   * Makes the kernel match `doc`. Calls are serialised. A VPC whose changes fail
   * does not stop the others; the call then rejects with ApplyError.
   */
  apply(doc: HostDocument): Promise<ApplyReport> {
    return this.enqueue(doc, false);
  }

  /**
   * The audit: reads the whole host back against `doc` and repairs what
   * differs (its changes are the drift found; a failed one is drift not
   * repaired). Serialised with applies.
   */
  async audit(doc: HostDocument): Promise<AuditOutcome & { report: ApplyReport }> {
    const repair = (c: AppliedChange) => ({ vpcId: c.vpcId, ns: c.ns, kind: c.kind, what: (c.note ? `${c.note}: ` : '') + c.lines.join('; '), repaired: true });
    try {
      const report = await this.enqueue(doc, true);
      return { changes: report.changes, repairs: report.applied.map(repair), report };
    } catch (e) {
      if (!(e instanceof ApplyError)) throw e;
      const failed = e.failures.map((f) => ({ vpcId: f.vpcId, ns: null, kind: 'apply', what: 'changes not made', repaired: false, error: f.message }));
      return { changes: e.report.changes, repairs: [...e.report.applied.map(repair), ...failed], error: e.message, report: e.report };
    }
  }

  private enqueue(doc: HostDocument, full: boolean): Promise<ApplyReport> {
    const next = this.queue.then(() => (full ? this.applyNow(doc, true) : this.applyFromMemory(doc)));
    // The routers the apply changed are read back after it, before anything else runs.
    const refresh = () => this.refreshRouters(doc.role === 'lb');
    this.queue = next.then(refresh, refresh).catch(() => undefined);
    return next;
  }

  /**
   * A normal apply, planned from memory. Memory can be wrong without anyone
   * editing by hand — in a region in a box the hosts share one kernel, and
   * one host re-plugging a moved instance deletes the other's end of its
   * veth — so a VPC that fails is read afresh (a failure drops it from
   * memory) and applied once more before the apply reports failure.
   */
  private async applyFromMemory(doc: HostDocument): Promise<ApplyReport> {
    try {
      return await this.applyNow(doc, false);
    } catch (e) {
      if (!(e instanceof ApplyError)) throw e;
      await this.refreshRouters(doc.role === 'lb');
      const again = await this.applyNow(doc, false).catch((e2: unknown) => {
        if (e2 instanceof ApplyError) {
          e2.report.applied.unshift(...e.report.applied);
          e2.report.changes = e2.report.applied.length;
        }
        throw e2;
      });
      again.applied.unshift(...e.report.applied);
      again.changes = again.applied.length;
      return again;
    }
  }

  private async refreshRouters(lbNode: boolean) {
    const names = [...this.stale];
    this.stale.clear();
    await Promise.all(
      names.map((ns) =>
        readRouter(ns, lbNode).then(
          (state) => void this.routerCache.set(ns, state),
          () => void this.routerCache.delete(ns),
        ),
      ),
    );
  }

  /**
   * On a gateway node: per EIP whose limit is split over the nodes, the bytes
   * its class sent since the last call and whether it held packets back (its
   * drops or overlimits grew). Pinned EIPs are left out: one node enforces all.
   */
  async limitUsage(): Promise<LimitUsage[]> {
    const doc = this.lastDoc;
    const ns = this.ctx.hostNs;
    if (!doc || doc.role !== 'gateway' || ns === null) return [];
    const pinned = new Set(doc.vpcs.flatMap((v) => (v.eips ?? []).filter((e) => e.pinned).map((e) => e.publicIp)));
    const classes = limitClasses(doc, this.limitShares).filter((c) => !pinned.has(c.publicIp));
    if (!classes.length) return [];
    const tc = parseTcClasses((await run(['tc', '-n', ns, '-s', 'class', 'show', 'dev', GATEWAY_INTERNET_LINK])).stdout);
    return classes.flatMap((c) => {
      const k = tc.find((x) => x.minor === c.minor);
      if (!k || k.bytes === undefined) return [];
      const now = { bytes: k.bytes, held: (k.dropped ?? 0) + (k.overlimits ?? 0) };
      const before = this.counted.get(c.publicIp);
      this.counted.set(c.publicIp, now);
      const fresh = !before || now.bytes < before.bytes; // first look, or the class was made again
      return [{ publicIp: c.publicIp, limitBps: c.limitBps, bytes: fresh ? 0 : now.bytes - before.bytes, saturated: !fresh && now.held > before.held }];
    });
  }

  /** On a gateway node: the flow monitor's figures of its monitored NAT gateways (nat-flows.ts), the counters as the kernel holds them. */
  async flowSamples(): Promise<GatewayFlowSample[]> {
    const doc = this.lastDoc;
    const ns = this.ctx.hostNs;
    if (!doc || doc.role !== 'gateway' || ns === null || !doc.vpcs.some((v) => v.nat?.gateways.some((g) => g.flowMonitor))) return [];
    const set = (name: string) => nftJson(ns, ['list', 'set', 'ip', NAT_TABLE, name]).then(parseCounterSet, () => new Map<string, Counter>());
    const [out, inn, fresh, sessions] = await Promise.all([
      set('acct_out'),
      set('acct_in'),
      set('acct_new'),
      run(['ip', 'netns', 'exec', ns, 'conntrack', '-L']).then((r) => countSessions(r.stdout), () => new Map<string, number>()),
    ]);
    return flowSamples(doc, new Date().toISOString(), { out, in: inn, new: fresh, sessions });
  }

  /** Takes this node's shares of split EIP limits (bit/s), each of the limit it was computed for, and applies them with the last document. */
  async setLimitShares(shares: Record<string, number>, limits: Record<string, number>): Promise<void> {
    const next = new Map(Object.entries(shares).flatMap(([ip, bps]) => (limits[ip] ? [[ip, { limitBps: limits[ip], bps }] as const] : [])));
    const same = next.size === this.limitShares.size && [...next].every(([ip, s]) => {
      const old = this.limitShares.get(ip);
      return old?.limitBps === s.limitBps && Math.abs(old.bps - s.bps) <= s.bps * 0.01;
    });
    if (same) return;
    this.limitShares = next;
    if (this.lastDoc) await this.apply(this.lastDoc);
  }

  private async applyNow(doc: HostDocument, full: boolean): Promise<ApplyReport> {
    this.lastDoc = doc;
    const timings: Record<string, number> = {};
    const report: ApplyReport = { hostId: doc.hostId, revision: doc.revision, changes: 0, applied: [], timings };
    const failures: { vpcId: string; message: string }[] = [];
    let t = performance.now();
    const lap = (what: string) => {
      const now = performance.now();
      timings[what] = Math.round((timings[what] ?? 0) + now - t);
      t = now;
    };
    // The cheap tier plans only the VPCs that changed (or lost a namespace); the audit, all of them.
    const digests = vpcDigests(doc);
    const namespaces = await listNetns();
    const only = full ? undefined : vpcsToPlan(doc, digests, this.appliedVpcs, namespaces, this.ctx);
    const inDoc = new Set(digests.keys());
    // Routers of VPCs gone from the document are always read: their removal is planned from what they hold.
    // The audit reads every router; a normal apply takes the ones it read last (after its own changes) from memory.
    if (full) this.routerCache.clear();
    // A router whose namespace went (by hand) is not what memory says: planned from nothing, made again.
    for (const ns of [...this.routerCache.keys()]) if (!namespaces.includes(ns)) this.routerCache.delete(ns);
    const actual = await this.readActual(doc.role === 'lb', { namespaces, read: (vpcId) => !only || only.has(vpcId) || !inDoc.has(vpcId), cache: this.routerCache });
    lap('read');
    const plan = planHost(doc, actual, { ...this.ctx, lbApplied: this.lbApplied }, this.limitShares, only);
    lap('plan');
    // Configuring the inside of an instance touches only its own namespace and
    // costs a process each (no ip batch switches namespaces), mostly start-up
    // time: a run of them goes side by side. A failure stops the VPC after the run.
    const instanceSide = new Set(doc.vpcs.flatMap((v) => v.ports.map((p) => instanceNs(this.ctx.prefix, p.instanceId))));
    const independent = (s: Step) => s.kind === 'ip' && s.ns !== null && instanceSide.has(s.ns);
    for (const group of plan) {
      if (group.error) {
        failures.push({ vpcId: group.vpcId, message: group.error });
        continue;
      }
      for (let i = 0; i < group.steps.length; ) {
        let j = i + 1;
        if (independent(group.steps[i]!)) while (j < group.steps.length && independent(group.steps[j]!)) j++;
        const run = group.steps.slice(i, j);
        i = j;
        const results = await pool(run, INSTANCE_CONCURRENCY, (step) => runStep(step, independent(step)));
        for (const r of results) if (r.ok && r.value) report.applied.push({ vpcId: group.vpcId, ...r.value });
        lap(run[0]!.kind);
        const failed = results.find((r) => !r.ok);
        if (failed && !failed.ok) {
          failures.push({ vpcId: group.vpcId, message: failed.error instanceof Error ? failed.error.message : String(failed.error) });
          break;
        }
      }
    }
    report.changes = report.applied.length;
    // What was changed (or failed part-way) is no longer what was read: read again after this apply.
    const routerNames = new Set(Object.keys(actual.routers));
    for (const g of plan) {
      if (!inDoc.has(g.vpcId) && !g.removal) continue; // the gateway or LB node's own namespace: read every time
      const R = routerNs(this.ctx.prefix, this.ctx.hostName, g.vpcId);
      if (g.removal) this.routerCache.delete(R);
      else if (failures.some((f) => f.vpcId === g.vpcId)) this.routerCache.delete(R);
      else if (g.steps.length) this.stale.add(R);
      for (const step of g.steps) if (step.ns && routerNames.has(step.ns) && step.ns !== R) this.stale.add(step.ns);
    }
    for (const ns of this.stale) this.routerCache.delete(ns);
    // Remember what was applied without error; a VPC that failed is read and planned again next time.
    const failedVpcs = new Set(failures.map((f) => f.vpcId));
    for (const id of [...this.appliedVpcs.keys()]) if (!inDoc.has(id)) this.appliedVpcs.delete(id);
    for (const g of plan) {
      if (g.removal || !inDoc.has(g.vpcId)) continue;
      if (failedVpcs.has(g.vpcId)) this.appliedVpcs.delete(g.vpcId);
      else this.appliedVpcs.set(g.vpcId, digests.get(g.vpcId)!);
    }
    // What the LB tables now hold, for the next plan's slot-by-slot updates (a VPC that failed is re-read next time).
    if (doc.role === 'lb') {
      const failed = new Set(failures.map((f) => f.vpcId));
      this.lbApplied.clear();
      for (const vpc of doc.vpcs) {
        const want = failed.has(vpc.vpcId) ? undefined : lbWant(vpc);
        if (want) this.lbApplied.set(routerNs(this.ctx.prefix, this.ctx.hostName, vpc.vpcId), want.applied);
      }
    }
    if (failures.length) throw new ApplyError(report, failures);
    return report;
  }

  /**
   * The host's actual state: all namespace names, the host's links, and its
   * router namespaces in full — those of the VPCs `o.read` accepts (default all).
   */
  async readActual(lbNode = false, o: { namespaces?: string[]; read?: (vpcId: string) => boolean; cache?: Map<string, RouterState> } = {}): Promise<HostState> {
    const namespaces = o.namespaces ?? (await listNetns());
    const { prefix, hostName, hostNs: hns } = this.ctx;
    const hostLinks = hns === null || namespaces.includes(hns) ? parseLinks(await ipJson(hns, ['-d', 'link', 'show'])) : [];
    // A gateway routes its EIPs into the VPC routers from its own namespace (plan.ts planGatewayLink).
    const gatewayLinks = hostLinks.some((l) => isGatewayLinkName(l.name));
    const hostRoutes = gatewayLinks ? parseRoutes(await ipJson(hns, ['route', 'show'])) : [];
    const hostNeighbours = gatewayLinks ? parseNeighbours(await ipJson(hns, ['neigh', 'show'])) : [];
    const routerNames = namespaces.filter((n) => {
      const vpcId = routerVpcOf(prefix, hostName, n);
      return vpcId && (!o.read || o.read(vpcId));
    });
    const routers: Record<string, RouterState> = {};
    await Promise.all(
      routerNames.map(async (ns) => {
        const known = o.cache?.get(ns);
        routers[ns] = known ?? (await readRouter(ns, lbNode));
        if (!known) o.cache?.set(ns, routers[ns]!);
      }),
    );
    // A gateway node's namespace is the one with the internet link: it holds the NAT gateways (nat-gateway.ts).
    const gateway = hns !== null && hostLinks.some((l) => l.name === GATEWAY_INTERNET_LINK) ? await readGatewayNs(hns) : undefined;
    return { namespaces, hostLinks, hostRoutes, hostNeighbours, routers, ...(gateway ? { gateway } : {}) };
  }
}

async function readGatewayNs(ns: string): Promise<GatewayNsState & { limits: LimitsState }> {
  // Terse (no set elements): only a table's comment, which holds the digest, is compared; absent: not made yet.
  const comment = (table: string) =>
    run(['ip', 'netns', 'exec', ns, 'nft', '-t', 'list', 'table', 'ip', table]).then((r) => parseTableComment(r.stdout), () => undefined);
  const [[rules, routes], natTableComment, qosComment, qdisc, classes] = await Promise.all([
    ipJsonBatch(ns, ['rule show', 'route show table all']),
    comment(NAT_TABLE),
    comment(QOS_TABLE),
    run(['tc', '-n', ns, 'qdisc', 'show', 'dev', GATEWAY_INTERNET_LINK]),
    run(['tc', '-n', ns, '-s', 'class', 'show', 'dev', GATEWAY_INTERNET_LINK]),
  ]);
  return {
    rules: parseRules(rules!),
    tableRoutes: splitTables(parseRoutes(routes!)).numbered,
    ...(natTableComment !== undefined ? { natTableComment } : {}),
    limits: { htbRoot: parseHtbRoot(qdisc.stdout), classes: parseTcClasses(classes.stdout), ...(qosComment !== undefined ? { qosComment } : {}) },
  };
}

/** The comments (digests) of a namespace's tables, which nft's JSON listing leaves out; terse: no set or map contents. */
const commentsOf = (ns: string) => run(['ip', 'netns', 'exec', ns, 'nft', '-t', 'list', 'ruleset']).then((r) => tableComments(r.stdout));

/** A namespace's nftables tables with their comments (the digests they were made with). */
export async function listTables(ns: string): Promise<NftTable[]> {
  const [json, comments] = await Promise.all([nftJson(ns, ['list', 'ruleset']), commentsOf(ns)]);
  return withComments(tablesFromListing(json), comments);
}

/**
 * A router namespace's state. On an LB node (`lbNode`) the ruleset is never
 * listed whole: its Maglev maps take ~0.5 s per listener to list. Its tables
 * are listed one by one instead, and the LB tables by their digest (the
 * comment of ip weftlbd, from the same terse listing as the others').
 */
export async function readRouter(ns: string, lbNode = false): Promise<RouterState> {
  const table = (family: string, name: string) => nftJson(ns, ['list', 'table', family, name]).catch(() => [] as unknown[]);
  const [[addrs, links, routes, neigh, rules, nexthops], fdb, nft, comments] = await Promise.all([
    // `addr show` first: in one batch, a `link show` before it makes it print links without addresses.
    ipJsonBatch(ns, ['addr show dev lo', 'link show', 'route show table all', 'neigh show', 'rule show', 'nexthop show']),
    bridgeJson(ns, ['fdb', 'show']),
    lbNode ? Promise.all([table('inet', TABLE), table('arp', TABLE), table('ip', TABLE)]).then((l) => l.flat()) : nftJson(ns, ['list', 'ruleset']),
    commentsOf(ns),
  ]);
  const lbDigest = lbNode ? comments.get(`ip ${LB_DIGEST_TABLE}`) : undefined;
  const linkStates = parseLinks(links!);
  const tables = splitTables(parseRoutes(routes!));
  return {
    links: linkStates,
    loAddrs: parseAddrs(addrs!, 'lo'),
    routes: tables.main,
    tableRoutes: tables.numbered,
    rules: parseRules(rules!),
    nexthops: parseNexthops(nexthops!),
    neighbours: parseNeighbours(neigh!),
    fdb: parseFdb(fdb),
    sysctl: await sysctlRead(ns, [...sysctlKeys(linkStates), ...(lbNode ? LB_SYSCTLS.map(([k]) => k) : [])]),
    nft: withComments(tablesFromListing(nft), comments).filter((t) => t.name === TABLE && ['inet', 'arp', 'ip'].includes(t.family)),
    ...(lbDigest !== undefined ? { lbDigest } : {}),
  };
}

/** Runs one step; returns what it actually changed (steps that check first may find nothing to do). */
async function runStep(step: Step, inInstance = false): Promise<Omit<AppliedChange, 'vpcId'> | undefined> {
  const { kind, ns, lines, note } = step;
  const done = (l = lines) => (l.length ? { kind, ns, lines: l, ...(note ? { note } : {}) } : undefined);
  switch (kind) {
    case 'netns-add':
      await netnsAddAll(lines);
      return done();
    case 'netns-del':
      for (const n of lines) await netnsDel(n).catch(ignore(/No such file/));
      return done();
    case 'ip':
      // The inside of an instance: addresses, links and routes, netlink only.
      if (inInstance && ns) await ipBatchNetlink(ns, lines);
      else await ipBatch(ns, lines);
      return done();
    case 'bridge':
      await bridgeBatch(ns, lines);
      return done();
    case 'tc':
      await tcBatch(ns, lines);
      return done();
    case 'sysctl':
      await sysctlWrite(ns, lines);
      return done();
    case 'nft':
      await nftApply(ns, lines.join('\n') + '\n');
      return done();
    case 'link-del': {
      const removed: string[] = [];
      for (const ifname of lines) {
        const gone = await ip(ns, ['link', 'del', ifname]).then(
          () => true,
          ignore(/Cannot find device/),
        );
        if (gone) removed.push(ifname);
      }
      return done(removed);
    }
    case 'instance-reset': {
      const removed: string[] = [];
      for (const line of lines) {
        const [n, ifname] = line.split(' ') as [string, string];
        const links = await ipJsonNetlink<{ ifname: string }>(n, ['link', 'show']);
        if (links.some((l) => l.ifname === ifname)) {
          await ipBatchNetlink(n, [`link del ${ifname}`]);
          removed.push(line);
        }
      }
      return done(removed);
    }
    case 'instance-gc': {
      // Only a namespace with nothing but lo left in it is ours to remove: if
      // another host has plugged the instance meanwhile, it stays.
      const removed: string[] = [];
      for (const n of lines) {
        const links = await ipJsonNetlink<{ ifname: string }>(n, ['link', 'show']).catch(() => undefined);
        if (links && links.every((l) => l.ifname === 'lo')) {
          await netnsDel(n).catch(ignore(/No such file/));
          removed.push(n);
        }
      }
      return done(removed);
    }
  }
}

/** Instance namespaces configured at once; a few per core keeps process start-up from serialising. */
const INSTANCE_CONCURRENCY = Math.max(2, Math.min(8, availableParallelism() * 2));

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs `fn` over `items` with at most `n` at a time; every item runs, results in order. */
async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<Settled<R>[]> {
  const out: Settled<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await fn(items[i]!) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

const ignore = (pattern: RegExp) => (e: unknown) => {
  if (!(e instanceof CommandError && pattern.test(e.stderr))) throw e;
};
