/**
 * The region as the packet tracer needs it for one account: the document the
 * controller compiles for every host that has one of the account's
 * instances (what distribution.ts serves the agents), reduced to the
 * account's VPCs, so a trace or a matrix can neither start in nor see another
 * tenant's network. A tunnel only ever leads to a host of the same VPC, so
 * nothing outside this view is needed.
 *
 * These are the desired documents: what every agent converges to. Whether a
 * host has applied its document yet is the agent's report (hosts table).
 */
import { compileHost } from '../compile/compile.js';
import type { HostDocument } from '../compile/host-document.js';
import { loadSpan } from '../compile/load.js';
import type { PolicyLists } from '../core/sg-edits.js';
import { loadPolicyLists } from '../store/sg-policies.js';
import type { Store } from '../store/store.js';

export interface RegionView {
  /** Highest revision the documents were compiled at. */
  revision: number;
  documents: HostDocument[];
}

/** Compiles one host's document, as the distribution endpoint does for its agent. */
export async function compileDocument(store: Store, hostId: string): Promise<HostDocument | undefined> {
  const span = await loadSpan(store, hostId);
  return span && compileHost(span);
}

export async function accountView(store: Store, account: string, o: { vpcIds?: readonly string[] } = {}): Promise<RegionView> {
  let hostsQ = store.db.selectFrom('instances').select('host_id').distinct().where('account', '=', account).where('host_id', 'is not', null);
  if (o.vpcIds) hostsQ = o.vpcIds.length ? hostsQ.where('vpc_id', 'in', [...o.vpcIds]) : hostsQ.where('id', '=', '');
  const [hosts, vpcs] = await Promise.all([
    hostsQ.execute(),
    store.db.selectFrom('vpcs').select('id').where('account', '=', account).execute(),
  ]);
  const own = new Set(vpcs.map((v) => v.id));
  const docs = await Promise.all(hosts.map((h) => compileDocument(store, h.host_id!)));
  const documents = docs
    .filter((d): d is HostDocument => !!d)
    .map((d) => ({ ...d, vpcs: d.vpcs.filter((v) => own.has(v.vpcId)) }))
    .sort((a, b) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0));
  return { revision: Math.max(0, ...documents.map((d) => d.revision)), documents };
}

/** A group's stored policy lists (exactly as the policy actions edit them) and its Version. */
export async function storedPolicies(store: Store, sgId: string): Promise<{ lists: PolicyLists; version: number } | undefined> {
  const group = await store.db.selectFrom('security_groups').select('version').where('id', '=', sgId).executeTakeFirst();
  if (!group) return undefined;
  const lists: PolicyLists = await loadPolicyLists(store.db, sgId);
  return { lists, version: group.version };
}
