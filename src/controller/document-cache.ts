/**
 * Compiled host documents, kept until a change touches them. A commit names
 * what it changed (store.onCommit; the change log for commits of other
 * replicas); an index built from the cached documents says which hosts each
 * of those resources reaches, so a commit recompiles only the hosts it spans
 * and a long-poll woken by anything else costs nothing.
 *
 * Correctness rules (an agent must never miss a change that affects it):
 * - What a document depends on is read from the document itself: its VPCs
 *   (every instance of a VPC is in the span of every host of that VPC), its
 *   subnets, the groups it binds or references, the hosts of its remotes.
 *   A host without a cached document compiles fresh when asked.
 * - An instance change reaches the hosts of its VPC before the change (index)
 *   and after it (read from the store once committed: the VPC, and the host it
 *   is now placed on). Instance → VPC is remembered from every span compiled,
 *   so a deleted instance still finds the hosts that held it.
 * - A compile in flight when any commit arrives is not cached (it may have
 *   read the state before that commit), and its waiters are woken to try again;
 *   so are the waiters of any host without a cached document, on every commit
 *   (nothing in the index would lead a change to them).
 * - A route table's change reaches the hosts holding it (index); a host that
 *   comes to hold it is named by the change: its subnet ('subnet') or its
 *   instance being a next hop ('host_document', the host itself). Network
 *   ACLs, peerings and elastic IPs ('address') reach documents through their
 *   VPCs: their actions record a 'vpc' change for each VPC they affect (an
 *   EIP's: the VPC of the instance it is bound to, or was until the change);
 *   an 'address' change also reaches every gateway, which may come to hold
 *   that VPC. NAT gateways ('nat_gateway', also their SNAT and DNAT rules)
 *   likewise record a 'vpc' change of their VPC and reach every gateway.
 * - A change of a kind this module does not know drops every document.
 * - Commits on other controller replicas are read from the change log when
 *   the store tells of them (PostgreSQL NOTIFY) and every `pollMs` besides,
 *   and go through the same path.
 *
 * Hosts asked for in the same turn of the event loop (all the long-polls a
 * wide change wakes) have their spans read together (load.ts loadSpans), 500
 * at a time. Each VPC is compiled once for all of them (compile.ts
 * SharedCompile): the compiled VPCs are kept for the revision the spans were
 * read at, across batches, and dropped for a fresh set when a batch reads a
 * newer revision. That needs no invalidation of its own: a revision names
 * the store's state, so forms compiled at it are right for every span read at
 * it (compileHost refuses a span of another revision), and the rules above
 * still decide which hosts recompile.
 */
import { compileHost, serialiseDocument, sharedCompile, type HostSpan, type SharedCompile } from '../compile/compile.js';
import type { HostDocument } from '../contract/host-document.js';
import { loadSpans } from '../compile/load.js';
import type { Change, Store } from '../store/store.js';

/** What a cached document depends on, besides its own host row. */
export interface Dependencies {
  vpcs: string[];
  subnets: string[];
  /** Groups bound to its ports, and groups referenced by their policies. */
  groups: string[];
  /** Hosts whose underlay address it holds. */
  remoteHosts: string[];
  /** Route tables it holds. */
  routeTables: string[];
}

export function dependenciesOf(doc: HostDocument): Dependencies {
  const set = (f: (v: HostDocument['vpcs'][number]) => string[]) => [...new Set(doc.vpcs.flatMap(f))];
  return {
    vpcs: doc.vpcs.map((v) => v.vpcId),
    subnets: set((v) => v.subnets.map((s) => s.subnetId)),
    groups: set((v) => [...Object.keys(v.securityGroups), ...Object.keys(v.groupMembers)]),
    remoteHosts: set((v) => v.remotes.map((r) => r.hostId)),
    routeTables: set((v) => (v.routeTables ?? []).map((t) => t.routeTableId)),
  };
}

export interface CachedDocument {
  document: HostDocument;
  digest: string;
  /** The distribution endpoint's answer, serialised once, in parts (sent one after the other). */
  body: Buffer[];
  /** The API requests whose changes led to this compile (core/log.ts); not part of the digest. */
  requestIds: string[];
}

interface Entry extends CachedDocument {
  deps: Dependencies;
}

/** A compiled document with its endpoint answer. */
function cachedDocument(document: HostDocument, requestIds: string[]): CachedDocument {
  const { json, digest } = serialiseDocument(document);
  const tail = `,"digest":"${digest}","requestIds":${JSON.stringify(requestIds)}}`;
  return { document, digest, body: [Buffer.from('{"document":'), ...json, Buffer.from(tail)], requestIds };
}

/**
 * The same content under another revision: the one an agent resuming on
 * this replica holds it at (distribution.ts), given out so that its reports
 * of that revision count. The digest does not cover the revision.
 */
export const revised = (doc: CachedDocument, revision: number): CachedDocument => cachedDocument({ ...doc.document, revision }, []);

type IndexName = keyof Dependencies;
const INDEXES: IndexName[] = ['vpcs', 'subnets', 'groups', 'remoteHosts', 'routeTables'];
const INSTANCE_BATCH = 500;
/** Hosts whose spans are read together (IN-lists stay well under both engines' parameter limits). */
const SPAN_BATCH = 500;
/** Compiled VPCs kept for one revision at most (bounds memory in a region of a million VPCs). */
const MAX_FORMS = 200_000;

/** `gatewayAddress`: the region's gateway cluster on the underlay (core/region.ts), which compiled documents name. */
export function createDocumentCache(store: Store, o: { pollMs?: number; log?: (msg: string) => void; gatewayAddress?: string } = {}) {
  const log = o.log ?? ((m: string) => console.error(`distribution: ${m}`));
  const cache = new Map<string, Entry>();
  const index: Record<IndexName, Map<string, Set<string>>> = { vpcs: new Map(), subnets: new Map(), groups: new Map(), remoteHosts: new Map(), routeTables: new Map() };
  const instanceVpc = new Map<string, string>();
  const waiters = new Map<string, Set<() => void>>();
  /** Bumped whenever a host's document may have changed: a compile started before is not cached. */
  const epochs = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const stats = { compiles: 0, hits: 0, invalidations: 0 };
  /** Per host, the API requests whose changes may have changed its document since its last compile; the commit being applied's. */
  const causes = new Map<string, Set<string>>();
  let commitRequests: string[] = [];

  function link(host: string, deps: Dependencies) {
    for (const name of INDEXES)
      for (const key of deps[name]) {
        let s = index[name].get(key);
        if (!s) index[name].set(key, (s = new Set()));
        s.add(host);
      }
  }
  function unlink(host: string, deps: Dependencies) {
    for (const name of INDEXES)
      for (const key of deps[name]) {
        const s = index[name].get(key);
        s?.delete(host);
        if (s && !s.size) index[name].delete(key);
      }
  }

  function invalidate(host: string) {
    epochs.set(host, (epochs.get(host) ?? 0) + 1);
    if (commitRequests.length) {
      let c = causes.get(host);
      if (!c) causes.set(host, (c = new Set()));
      for (const r of commitRequests) c.add(r);
    }
    const e = cache.get(host);
    if (e) {
      cache.delete(host);
      unlink(host, e.deps);
      stats.invalidations++;
    }
    for (const w of waiters.get(host) ?? []) w();
  }
  const invalidateAll = (hosts: Iterable<string> | undefined) => {
    for (const h of [...(hosts ?? [])]) invalidate(h);
  };

  /** Hosts a change reaches by what the cached documents hold; instance IDs whose after-state must be read. */
  function apply(changes: readonly Change[]): string[] {
    commitRequests = [...new Set(changes.flatMap((c) => (c.requestId ? [c.requestId] : [])))];
    // A compile in flight may have read the state before this commit.
    invalidateAll(inFlight.keys());
    // A host whose last compile raced a commit holds an uncached document, so no index leads to it: its
    // waiters (long-polls holding that document) are woken by every commit until a compile is cached.
    invalidateAll([...waiters.keys()].filter((h) => !cache.has(h)));
    const instances: string[] = [];
    for (const c of changes) {
      switch (c.kind) {
        case 'instance': {
          const vpc = instanceVpc.get(c.id);
          if (vpc) invalidateAll(index.vpcs.get(vpc));
          instances.push(c.id);
          break;
        }
        case 'security_group':
          invalidateAll(index.groups.get(c.id));
          break;
        case 'subnet':
          invalidateAll(index.subnets.get(c.id));
          break;
        case 'vpc':
          invalidateAll(index.vpcs.get(c.id));
          break;
        case 'host':
          invalidate(c.id);
          invalidateAll(index.remoteHosts.get(c.id));
          break;
        case 'account':
          break; // accounts appear in no document
        case 'route_table':
          // The hosts holding the table; hosts that come to hold it are named by the change (subnet, host_document).
          invalidateAll(index.routeTables.get(c.id));
          break;
        case 'host_document':
          invalidate(c.id);
          break;
        case 'address':
        case 'nat_gateway':
          // Gateways hold the VPCs with bound EIPs or NAT gateways: a first one in a VPC reaches them through no index.
          // (The action also records a change of the VPC, which reaches its hosts.)
          invalidateAll([...cache].filter(([, e]) => e.document.role === 'gateway').map(([h]) => h));
          break;
        case 'load_balancer':
          // LB nodes hold the VPCs with load balancers (the action also records a change of the VPC, for its hosts).
          invalidateAll([...cache].filter(([, e]) => e.document.role === 'lb').map(([h]) => h));
          break;
        case 'network_acl':
        case 'peering':
        case 'net_detect':
          // Their actions also record a change of every VPC whose hosts they affect (both VPCs of a peering; an EIP's
          // action, the VPC of the instance it is or was bound to; a NAT gateway's, its VPC; a network detection's, its VPC).
          break;
        default:
          // A kind added later and not taught here: correct before fast.
          invalidateAll(new Set([...cache.keys(), ...waiters.keys()]));
      }
    }
    return instances;
  }

  /** After-state of changed instances: their VPC's hosts (now) and the host each is placed on. */
  async function applyInstances(ids: readonly string[]) {
    for (let i = 0; i < ids.length; i += INSTANCE_BATCH) {
      const batch = ids.slice(i, i + INSTANCE_BATCH);
      const rows = await store.db.selectFrom('instances').select(['id', 'vpc_id', 'host_id']).where('id', 'in', batch).execute();
      const found = new Set<string>();
      for (const r of rows) {
        found.add(r.id);
        instanceVpc.set(r.id, r.vpc_id);
        invalidateAll(index.vpcs.get(r.vpc_id));
        if (r.host_id) invalidate(r.host_id);
      }
      for (const id of batch) if (!found.has(id)) instanceVpc.delete(id);
    }
  }

  let queue: Promise<void> = Promise.resolve();
  const seen = new Set<number>();
  function changed(revision: number, changes: readonly Change[]) {
    if (seen.has(revision)) return;
    seen.add(revision);
    const instances = apply(changes);
    if (!instances.length) return;
    const requests = commitRequests;
    queue = queue
      .then(() => {
        commitRequests = requests;
        return applyInstances(instances);
      })
      .catch((e: unknown) => {
        log(`reading changed instances failed (${String(e)}); dropping every document`);
        invalidateAll(new Set([...cache.keys(), ...waiters.keys()]));
      });
  }
  const unsubscribe = store.onCommit(changed);

  // Commits of other replicas: the change log, read from the last revision seen.
  let floor = -1;
  const ready = store.revision().then((r) => void (floor = r));
  /** The read of the log in flight, and the one queued after it (shared by every caller meanwhile). */
  let reading: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  /** Resolves once a read of the log that began after this call has been applied. */
  function poll(): Promise<void> {
    if (floor < 0) return Promise.resolve();
    if (!reading) return (reading = readLog().finally(() => (reading = undefined)));
    // The read in flight may have begun before the caller's commit: one more after it.
    return (queued ??= reading.then(() => {
      queued = undefined;
      return poll();
    }));
  }
  async function readLog(): Promise<void> {
    try {
      const rows = await store.db
        .selectFrom('changes')
        .select(['revision', 'account', 'kind', 'resource_id', 'op', 'request_id'])
        .where('revision', '>', floor)
        .orderBy('revision')
        .execute();
      const byRevision = new Map<number, Change[]>();
      for (const r of rows) {
        const list = byRevision.get(r.revision) ?? [];
        list.push({ account: r.account, kind: r.kind, id: r.resource_id, op: r.op, ...(r.request_id ? { requestId: r.request_id } : {}) });
        byRevision.set(r.revision, list);
      }
      for (const [revision, list] of byRevision) changed(revision, list);
      if (rows.length) floor = Math.max(floor, rows[rows.length - 1]!.revision);
      for (const r of seen) if (r < floor - 10_000) seen.delete(r);
    } catch (e) {
      log(`reading the change log failed: ${String(e)}`);
    }
  }
  // Other replicas' commits: at once when the store tells (PostgreSQL NOTIFY), and by a slower poll in case it did not.
  const unnotice = store.onNotice((r) => {
    if (r === undefined || r > floor) void poll();
  });
  const timer = setInterval(() => void poll(), o.pollMs ?? 2000);
  timer.unref();

  // Spans asked for in the same turn of the event loop (a commit waking many hosts) are read together.
  type Loaded = { span: HostSpan; shared: SharedCompile } | undefined;
  const wanted = new Map<string, { promise: Promise<Loaded>; ok: (s: Loaded) => void; fail: (e: unknown) => void }>();
  let flushing = false;
  /** The VPCs compiled at the revision of the last batch read, for the next batches read at it. */
  let forms: { revision: number; shared: SharedCompile } | undefined;
  function loadSpan(hostId: string): Promise<Loaded> {
    let w = wanted.get(hostId);
    if (!w) {
      let ok!: (s: Loaded) => void;
      let fail!: (e: unknown) => void;
      const promise = new Promise<Loaded>((a, b) => ((ok = a), (fail = b)));
      wanted.set(hostId, (w = { promise, ok, fail }));
      if (!flushing) {
        flushing = true;
        setImmediate(() => void flush());
      }
    }
    return w.promise;
  }
  async function flush() {
    try {
      while (wanted.size) {
        const batch = [...wanted].slice(0, SPAN_BATCH);
        for (const [h] of batch) wanted.delete(h);
        try {
          const spans = await loadSpans(store, batch.map(([h]) => h));
          const revision = spans.values().next().value?.revision ?? -1;
          if (!forms || forms.revision !== revision || forms.shared.size > MAX_FORMS) forms = { revision, shared: sharedCompile() };
          const shared = forms.shared;
          for (const [h, w] of batch) {
            const span = spans.get(h);
            if (span && o.gatewayAddress) span.gatewayAddress = o.gatewayAddress;
            w.ok(span && { span, shared });
            // One host per turn of the event loop: its document goes out while the next ones compile.
            await new Promise((next) => setImmediate(next));
          }
        } catch (e) {
          for (const [, w] of batch) w.fail(e);
        }
      }
    } finally {
      flushing = false;
    }
  }

  /** The host's current document (compiled, or cached while nothing it depends on changed). */
  async function get(hostId: string): Promise<CachedDocument | undefined> {
    await ready;
    const hit = cache.get(hostId);
    if (hit) {
      stats.hits++;
      return hit;
    }
    const epoch = epochs.get(hostId) ?? 0;
    const requestIds = [...(causes.get(hostId) ?? [])];
    causes.delete(hostId);
    inFlight.set(hostId, (inFlight.get(hostId) ?? 0) + 1);
    let loaded;
    try {
      loaded = await loadSpan(hostId);
    } finally {
      const n = inFlight.get(hostId)! - 1;
      if (n) inFlight.set(hostId, n);
      else inFlight.delete(hostId);
    }
    if (!loaded) return undefined;
    stats.compiles++;
    for (const i of loaded.span.instances) instanceVpc.set(i.id, i.vpc_id);
    const document = compileHost(loaded.span, loaded.shared);
    const entry: Entry = { ...cachedDocument(document, requestIds), deps: dependenciesOf(document) };
    if ((epochs.get(hostId) ?? 0) === epoch && !cache.has(hostId)) {
      cache.set(hostId, entry);
      link(hostId, entry.deps);
    }
    return entry;
  }

  /** Registers `wake` to be called when the host's document may have changed; returns the unsubscribe. */
  function watch(hostId: string, wake: () => void): () => void {
    let s = waiters.get(hostId);
    if (!s) waiters.set(hostId, (s = new Set()));
    s.add(wake);
    return () => {
      s.delete(wake);
      if (!s.size && waiters.get(hostId) === s) waiters.delete(hostId);
    };
  }

  return {
    get,
    watch,
    poll,
    stats,
    /** Resolves once the changes committed so far have reached the hosts they touch. */
    settled: () => queue,
    /** Hosts with a cached document (for tests and figures). */
    cached: () => new Set(cache.keys()),
    close() {
      unsubscribe();
      unnotice();
      clearInterval(timer);
    },
  };
}
