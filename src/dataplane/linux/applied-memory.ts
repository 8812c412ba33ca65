/**
 * What the Linux driver remembers it applied, so that a normal apply does not
 * read the whole kernel back (docs/reconcile.md). Per VPC, the digest of
 * everything its router's plan depends on in the document: its VpcContext
 * and the document's own fields but the revision (role, underlay, LB node …),
 * and the contexts of the VPCs it peers with on this host (their links are
 * planned from both ends). A normal apply reads and plans only the routers
 * whose digest is not the one remembered — changed, never applied, or failed
 * last time — or whose namespaces have gone (a check that costs one `ip netns
 * list`), with the routers they peer with. The audit reads and plans
 * everything, whatever the memory says, and repairs what drifted.
 *
 * Pure: the driver keeps the map and asks which VPCs to plan.
 */
import type { HostDocument } from '../../contract/host-document.js';
import { instanceNs, routerNs } from './names.js';
export { vpcDigests } from '../../core/document-digests.js';

/**
 * The VPCs a normal apply plans: those whose digest is not remembered as
 * applied, or whose router or instance namespaces are missing from
 * `namespaces`, and the VPCs they peer with (both ends of a link are read).
 */
export function vpcsToPlan(
  doc: HostDocument,
  digests: ReadonlyMap<string, string>,
  applied: ReadonlyMap<string, string>,
  namespaces: readonly string[],
  ctx: { prefix: string; hostName: string },
): Set<string> {
  const present = new Set(namespaces);
  const dirty = new Set<string>();
  for (const v of doc.vpcs) {
    const gone = !present.has(routerNs(ctx.prefix, ctx.hostName, v.vpcId)) || v.ports.some((p) => !present.has(instanceNs(ctx.prefix, p.instanceId)));
    if (gone || applied.get(v.vpcId) !== digests.get(v.vpcId)) dirty.add(v.vpcId);
  }
  // Peers, transitively: a link's plan looks at both its ends.
  const byId = new Map(doc.vpcs.map((v) => [v.vpcId, v]));
  const todo = [...dirty];
  while (todo.length) {
    const v = byId.get(todo.pop()!);
    for (const l of v?.peerings ?? [])
      if (byId.has(l.peerVpcId) && !dirty.has(l.peerVpcId)) {
        dirty.add(l.peerVpcId);
        todo.push(l.peerVpcId);
      }
  }
  return dirty;
}
