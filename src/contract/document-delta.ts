/**
 * A host document as a change against one the agent already holds
 * (docs/distribution.md "Deltas"). A document is mostly its VPC contexts,
 * and a change (an instance started, a policy edited) touches the contexts
 * of the VPCs it is in and leaves the rest byte-equal; a host with many VPCs
 * is sent the contexts that differ instead of all of them.
 *
 * The unit is the whole VpcContext (keyed by vpcId): finer grains (ports,
 * remotes, groups) would make the delta smaller still, but every field of a
 * context would need its own merge rule, and a context is small next to a
 * host's hundred VPCs. The top-level fields other than `vpcs` (`head`) are
 * few and small and always sent, so applying a delta never has to know
 * which of them exist.
 *
 * Pure: `diff(a, b)` and `apply(a, delta)` with `apply(a, diff(a, b))`
 * deep-equal to `b`, VPC order included. The receiver checks the result
 * against the digest sent beside the delta (compile.ts documentDigest) and
 * asks for the whole document when it differs.
 */
import { createHash } from 'node:crypto';
import type { HostDocument, VpcContext } from './host-document.js';

export interface DocumentDelta {
  /** The new document's revision. */
  revision: number;
  /** Every top-level field but `revision` and `vpcs`, as in the new document. */
  head: Omit<HostDocument, 'revision' | 'vpcs'>;
  /** VPC contexts added or changed, whole, in the new document's order. */
  put: VpcContext[];
  /** VPC IDs of contexts the new document no longer has. */
  removed: string[];
  /**
   * The new document's VPC IDs in order, when that order is not by vpcId
   * (the compiler sorts them, so this is normally absent: apply then sorts).
   */
  order?: string[];
}

/**
 * Each context's fingerprint (SHA-256 of its JSON), computed once per
 * context: compiled documents are not changed afterwards, and the
 * controller diffs the document it holds for a host against every new one.
 * A fingerprint rather than the JSON itself, so the documents a controller
 * caches for 100,000 hosts do not carry a second copy of themselves.
 */
const fingerprints = new WeakMap<VpcContext, string>();
function fingerprint(v: VpcContext): string {
  let s = fingerprints.get(v);
  if (s === undefined) fingerprints.set(v, (s = createHash('sha256').update(JSON.stringify(v)).digest('base64')));
  return s;
}

const byId = (a: VpcContext, b: VpcContext) => (a.vpcId < b.vpcId ? -1 : a.vpcId > b.vpcId ? 1 : 0);
const sortedById = (vs: readonly VpcContext[]) => vs.every((v, i) => i === 0 || byId(vs[i - 1]!, v) < 0);

/** What turns `a` into `b`. */
export function diff(a: HostDocument, b: HostDocument): DocumentDelta {
  const { revision, vpcs, ...head } = b;
  const before = new Map(a.vpcs.map((v) => [v.vpcId, v]));
  const put = vpcs.filter((v) => {
    const old = before.get(v.vpcId);
    return !old || (old !== v && fingerprint(old) !== fingerprint(v));
  });
  const after = new Set(vpcs.map((v) => v.vpcId));
  const removed = a.vpcs.filter((v) => !after.has(v.vpcId)).map((v) => v.vpcId);
  return { revision, head, put, removed, ...(sortedById(vpcs) ? {} : { order: vpcs.map((v) => v.vpcId) }) };
}

/** `a` changed by `delta`; a context named in `order` that neither `a` nor the delta holds is an error (the delta was not made against `a`). */
export function apply(a: HostDocument, delta: DocumentDelta): HostDocument {
  const vpcs = new Map(a.vpcs.map((v) => [v.vpcId, v]));
  for (const id of delta.removed) vpcs.delete(id);
  for (const v of delta.put) vpcs.set(v.vpcId, v);
  let list: VpcContext[];
  if (delta.order) {
    list = delta.order.map((id) => {
      const v = vpcs.get(id);
      if (!v) throw new Error(`the delta orders VPC ${id}, which neither it nor the document holds`);
      return v;
    });
  } else list = [...vpcs.values()].sort(byId);
  return { revision: delta.revision, ...delta.head, vpcs: list };
}

/** The delta as JSON (the wire format: docs/distribution.md). */
export const deltaJson = (d: DocumentDelta): string => JSON.stringify(d);
