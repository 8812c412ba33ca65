/**
 * Digests of a host document's parts: what the data-plane drivers remember
 * they applied per VPC (dataplane/linux/applied-memory.ts) and what an audit
 * compares (dataplane/sim/driver.ts). A VPC's digest covers its VpcContext,
 * the document's own fields but the revision (which moves with any change of
 * the host), and the contexts of the VPCs it peers with on the host.
 */
import { createHash } from 'node:crypto';
import type { HostDocument } from '../contract/host-document.js';

/** The digest of each VPC's part of `doc`, by VPC ID. */
export function vpcDigests(doc: HostDocument): Map<string, string> {
  const { vpcs, revision: _revision, ...header } = doc;
  const head = JSON.stringify(header);
  const own = new Map(vpcs.map((v) => [v.vpcId, createHash('sha256').update(head).update('\n').update(JSON.stringify(v)).digest('hex')]));
  const out = new Map<string, string>();
  for (const v of vpcs) {
    const h = createHash('sha256').update(own.get(v.vpcId)!);
    for (const l of [...(v.peerings ?? [])].sort((a, b) => (a.peerVpcId < b.peerVpcId ? -1 : 1))) h.update(own.get(l.peerVpcId) ?? `missing ${l.peerVpcId}`);
    out.set(v.vpcId, h.digest('hex'));
  }
  return out;
}

