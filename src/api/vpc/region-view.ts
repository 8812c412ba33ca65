/**
 * The region as the packet tracer needs it for one account: the document of
 * every host that has one of the account's instances (what distribution.ts
 * serves the agents), reduced to the account's VPCs, so a trace or a matrix
 * can neither start in nor see another tenant's network. A tunnel only ever
 * leads to a host of the same VPC, so nothing outside this view is needed.
 *
 * Inside a controller the documents come from its distribution cache (a
 * `DocumentSource`): the very documents the agents are sent, whole hosts with
 * every account's VPCs, which is why the reduction here is what keeps tenants
 * apart. The one exception is a VPC actively peered with one of the account's:
 * traffic crosses into it, so the tracer must see its routers to follow it. Without one (an API used alone) every host is compiled from the
 * store. The gateway nodes are always in the view (reduced like any host to
 * the visible VPCs: their EIP pairs and NAT rules are per VPC), so a trace
 * can follow a packet out to the internet, and in from it; so are the LB
 * nodes (their load balancers are per VPC), so a trace can follow a packet to
 * a VIP.
 *
 * These are the desired documents: what every agent converges to. Whether a
 * host has applied its document yet is the agent's report (hosts table):
 * `pendingHosts`.
 */
import type { DocumentSource } from '../../contract/document-source.js';
import { compileHost, sharedCompile } from '../../compile/compile.js';
import type { HostDocument } from '../../contract/host-document.js';
import { loadSpans } from '../../compile/load.js';
import type { PolicyLists } from '../../core/sg-edits.js';
import { loadPolicyLists } from '../../store/security-groups.js';
import type { Store } from '../../store/store.js';
import { buildWorld, type World } from '../../trace/world.js';

export interface RegionView {
  /** Highest revision the documents carry (from the distribution: where each host's content last changed). */
  revision: number;
  documents: HostDocument[];
  /** What the view was made from: store, account, VPC scope and each host's document revision (see worldOf). */
  key: string;
}

/** Compiles hosts' documents from one snapshot, as the distribution endpoint does for their agents. */
export async function compileDocuments(store: Store, hostIds: readonly string[]): Promise<(HostDocument | undefined)[]> {
  const spans = await loadSpans(store, hostIds);
  const shared = sharedCompile(); // one snapshot
  return hostIds.map((h) => {
    const span = spans.get(h);
    return span && compileHost(span, shared);
  });
}

export async function accountView(store: Store, account: string, o: { vpcIds?: readonly string[]; documents?: DocumentSource } = {}): Promise<RegionView> {
  const owned = (await store.db.selectFrom('vpcs').select('id').where('account', '=', account).execute()).map((v) => v.id);
  const scope = o.vpcIds ? o.vpcIds.filter((v) => owned.includes(v)) : owned;
  // A trace may cross into an actively peered VPC (another account's too): its routers and hosts are part of the view.
  const peers = scope.length
    ? await store.db
        .selectFrom('peerings')
        .select(['vpc_id', 'peer_vpc_id'])
        .where('state', '=', 'ACTIVE')
        .where((eb) => eb.or([eb('vpc_id', 'in', scope), eb('peer_vpc_id', 'in', scope)]))
        .execute()
    : [];
  const visible = new Set([...owned, ...peers.flatMap((p) => [p.vpc_id, p.peer_vpc_id])]);
  const spanned = [...new Set([...scope, ...peers.flatMap((p) => [p.vpc_id, p.peer_vpc_id])])];
  const hosts = spanned.length
    ? await store.db.selectFrom('instances').select('host_id').distinct().where('vpc_id', 'in', spanned).where('host_id', 'is not', null).execute()
    : [];
  // Gateway nodes carry the public traffic of every VPC; a trace to or from the internet crosses one. LB nodes
  // carry every VPC's load balancers; a trace to a VIP crosses one.
  const gateways = spanned.length ? await store.db.selectFrom('hosts').select('id').where('role', 'in', ['gateway', 'lb']).orderBy('id').execute() : [];
  const hostIds = [...new Set([...hosts.map((h) => h.host_id!), ...gateways.map((g) => g.id)])];
  const docs = o.documents ? await o.documents(hostIds) : await compileDocuments(store, hostIds);
  const documents = docs
    .filter((d): d is HostDocument => !!d)
    .map((d) => ({ ...d, vpcs: d.vpcs.filter((v) => visible.has(v.vpcId)) }))
    // A gateway with none of the visible VPCs is still a node the cluster's ECMP may pick.
    .sort((a, b) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0));
  const key = [storeId(store), account, o.vpcIds ? [...o.vpcIds].sort().join(',') : '*', ...documents.map((d) => `${d.hostId}@${d.revision}`)].join('|');
  return { revision: Math.max(0, ...documents.map((d) => d.revision)), documents, key };
}

/** Stores told apart in world keys: tests run several regions, each with its own store, in one process. */
const storeIds = new WeakMap<Store, number>();
let stores = 0;
function storeId(store: Store): number {
  let id = storeIds.get(store);
  if (id === undefined) storeIds.set(store, (id = ++stores));
  return id;
}

/** Worlds kept for the views asked for most recently (one of 10,000 instances is tens of MB). */
const WORLDS = 4;
const worlds = new Map<string, World>();

/**
 * The tracer's indexed world of a view, built once per distinct view: a
 * host's document revision moves whenever its content does, so views with the
 * same key hold the same documents. Building it is most of a trace's cost
 * (~150 ms at 10,000 instances; the trace itself is microseconds), and
 * consecutive traces of a VPC that did not change reuse it. Worlds are only
 * read, never changed, by trace and reachability.
 */
export function worldOf(view: RegionView): World {
  let world = worlds.get(view.key);
  if (world) worlds.delete(view.key);
  else world = buildWorld(view.documents);
  worlds.set(view.key, world); // most recent last
  if (worlds.size > WORLDS) worlds.delete(worlds.keys().next().value!);
  return world;
}

/** A host of a view whose agent has not reported applying the revision of its document. */
export interface PendingHost {
  hostId: string;
  /** The revision the host's document carries: the one its agent reports once it has applied it. */
  documentRevision: number;
  /** The highest revision its agent reported applying (0: none yet). */
  appliedRevision: number;
}

/**
 * Of `hostIds` (hosts of the view), those whose agents have not applied
 * their document yet, by host ID. Compared as DescribeInstances derives
 * RUNNING: applied_revision against a revision. With documents from the
 * distribution cache, a document's revision moves only when its content does,
 * so a host is listed exactly while its kernel may lag the view; compiled
 * fresh, documents carry the store's current revision, and a host whose
 * agent is current but saw no change since is listed too (conservative).
 */
export async function pendingHosts(store: Store, view: RegionView, hostIds: Iterable<string>): Promise<PendingHost[]> {
  const revisionOf = new Map(view.documents.map((d) => [d.hostId, d.revision]));
  const ids = [...new Set(hostIds)].filter((h) => revisionOf.has(h));
  if (!ids.length) return [];
  const rows = await store.db.selectFrom('hosts').select(['id', 'applied_revision']).where('id', 'in', ids).execute();
  return rows
    .map((r) => ({ hostId: r.id, documentRevision: revisionOf.get(r.id)!, appliedRevision: Number(r.applied_revision) }))
    .filter((p) => p.appliedRevision < p.documentRevision)
    .sort((a, b) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0));
}

/** A group's stored policy lists (exactly as the policy actions edit them) and its Version. */
export async function storedPolicies(store: Store, sgId: string): Promise<{ lists: PolicyLists; version: number } | undefined> {
  const group = await store.db.selectFrom('security_groups').select('version').where('id', '=', sgId).executeTakeFirst();
  if (!group) return undefined;
  const lists: PolicyLists = await loadPolicyLists(store.db, sgId);
  return { lists, version: group.version };
}
