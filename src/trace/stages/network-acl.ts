/**
 * Network ACLs: stateless filters at a subnet's boundary, in the router where
 * the packet is forwarded, before the security-group chains (forward path
 * only: a packet the router answers itself never meets one).
 *   - egress: a packet that entered from a local port whose subnet has an ACL,
 *     to a destination outside that subnet's CIDR → the ACL's egress entries,
 *     peer = destination;
 *   - ingress: a packet that leaves into a local port whose subnet has an ACL,
 *     from a source outside that subnet's CIDR → the ACL's ingress entries,
 *     peer = source.
 * Entries in order, the first that matches decides (protocol tcp/udp/icmp/all;
 * ports = destination port ranges, empty = every port; the peer's CIDR); none
 * matching drops. Stateless: replies are evaluated like any packet (conntrack
 * does not bypass an ACL), so a reply needs its own return entry.
 */
import type { AclRule, NetworkAcl, Port } from '../../contract/host-document.js';
import { containsIp, parseIp, type Cidr } from '../../core/cidr.js';
import type { Packet } from '../model.js';
import { documentCidr, type Router } from '../world.js';
import { hop, next, type Outcome, type Stage, type Transit } from './stage.js';

export type AclDirection = 'egress' | 'ingress';

export interface AclDetail {
  direction: AclDirection;
  networkAclId: string;
  subnetId: string;
  subnetCidr: string;
  /** The port whose subnet's boundary the packet crosses. */
  instanceId: string;
  ifname: string;
  /** entry: an entry decided; default: none matched (drop); intra-subnet: the peer is inside the subnet, the ACL does not apply. */
  decision: 'entry' | 'default' | 'intra-subnet';
  action: 'accept' | 'drop';
  entryIndex?: number;
  entry?: AclRule;
}

export type AclVerdict = Pick<AclDetail, 'decision' | 'action' | 'entryIndex' | 'entry'>;

const cidrs = new WeakMap<AclRule, Cidr>();
const cidrOf = (e: AclRule): Cidr => {
  let c = cidrs.get(e);
  if (!c) cidrs.set(e, (c = documentCidr(e.cidr, 'network ACL entry')));
  return c;
};

/** Whether one entry matches a packet whose peer (destination on egress, source on ingress) is `peer`. */
export function aclEntryMatches(e: AclRule, peer: number, p: Packet): boolean {
  switch (e.protocol) {
    case 'tcp':
    case 'udp':
      if (p.protocol !== e.protocol) return false;
      if (e.ports.length && !e.ports.some(([a, b]) => p.dstPort !== undefined && p.dstPort >= Math.min(a, b) && p.dstPort <= Math.max(a, b))) return false;
      break;
    case 'icmp':
      if (p.protocol !== 'icmp') return false;
      break;
    case 'all':
      break;
    default:
      return false;
  }
  return containsIp(cidrOf(e), peer);
}

/** The ACL's verdict for a packet crossing the boundary in `direction`: first matching entry, else drop. */
export function evaluateAcl(acl: NetworkAcl, direction: AclDirection, p: Packet): AclVerdict {
  const peer = parseIp(direction === 'egress' ? p.dst : p.src);
  const entries = acl[direction];
  if (peer !== undefined)
    for (let i = 0; i < entries.length; i++) if (aclEntryMatches(entries[i]!, peer, p)) return { decision: 'entry', action: entries[i]!.action, entryIndex: i, entry: entries[i]! };
  return { decision: 'default', action: 'drop' };
}

/**
 * The ACL a packet meets at `port`'s subnet boundary in `direction`, or
 * undefined when the subnet has none; `inside` says the peer is in the
 * subnet (the ACL does not apply).
 */
export function boundaryOf(router: Router, port: Port, direction: AclDirection, p: Packet): { aclId: string; acl: NetworkAcl; subnetId: string; subnetCidr: string; inside: boolean } | undefined {
  const s = router.subnets.get(port.subnetId);
  const aclId = s?.subnet.networkAclId;
  if (!s || aclId === undefined) return undefined;
  const peer = parseIp(direction === 'egress' ? p.dst : p.src);
  return { aclId, acl: router.acls.get(aclId)!, subnetId: s.subnet.subnetId, subnetCidr: s.subnet.cidr, inside: peer !== undefined && containsIp(s.cidr, peer) };
}

/** `ACCEPT tcp 22,80-90 from 10.0.0.0/16`. */
export function describeAclEntry(e: AclRule, direction: AclDirection): string {
  const ports = e.ports.length ? ` ${e.ports.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}` : '';
  return `${e.action.toUpperCase()} ${e.protocol}${ports} ${direction === 'ingress' ? 'from' : 'to'} ${e.cidr}`;
}

function decide(t: Transit, port: Port, direction: AclDirection): Outcome {
  const b = boundaryOf(t.router, port, direction, t.packet);
  if (!b) return next();
  const base = { direction, networkAclId: b.aclId, subnetId: b.subnetId, subnetCidr: b.subnetCidr, instanceId: port.instanceId, ifname: port.ifname };
  const peerAddr = direction === 'egress' ? t.packet.dst : t.packet.src;
  const what = `network ACL ${b.aclId} of ${b.subnetId} (${direction}${direction === 'egress' ? ` from ${port.instanceId}` : ` into ${port.instanceId}`})`;
  if (b.inside) {
    const detail: AclDetail = { ...base, decision: 'intra-subnet', action: 'accept' };
    return next(hop(t, 'acl', 'pass', `${what}: ${peerAddr} is inside ${b.subnetId} (${b.subnetCidr}); traffic within a subnet does not cross its ACL`, detail));
  }
  const v = evaluateAcl(b.acl, direction, t.packet);
  const detail: AclDetail = { ...base, ...v };
  const peer = direction === 'egress' ? `to ${peerAddr}` : `from ${peerAddr}`;
  // Conntrack holds this flow here, yet the ACL still decides: say why, when it drops.
  const stateless = t.established && v.action === 'drop' ? ' (network ACLs are stateless: a reply is checked like any packet and needs its own entry)' : '';
  const summary =
    v.decision === 'entry'
      ? `${what}: entry ${v.entryIndex} (${describeAclEntry(v.entry!, direction)}) ${v.action === 'accept' ? 'accepts' : 'drops'}${stateless}`
      : `${what}: no ${direction} entry matches ${t.packet.protocol}${t.packet.dstPort !== undefined ? ` port ${t.packet.dstPort}` : ''} ${peer}: an ACL drops what no entry accepts${stateless}`;
  if (v.action === 'accept') return next(hop(t, 'acl', 'pass', summary, detail));
  return { hop: hop(t, 'acl', 'drop', summary, detail), end: { verdict: 'dropped', code: direction === 'egress' ? 'acl-egress' : 'acl-ingress', reason: summary } };
}

/** The ACL of the subnet of the port the packet came in by (forwarded packets only). */
export const aclEgress: Stage = {
  name: 'acl-egress',
  run(t) {
    if (t.ingress.kind !== 'port' || !t.route || t.route.kind === 'local') return next();
    return decide(t, t.ingress.port, 'egress');
  },
};

/** The ACL of the subnet of the port the packet goes out by. */
export const aclIngress: Stage = {
  name: 'acl-ingress',
  run(t) {
    if (t.route?.kind !== 'port') return next();
    return decide(t, t.route.port, 'ingress');
  },
};
