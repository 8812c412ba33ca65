/**
 * Security groups, exactly as the Linux driver's nftables evaluate them
 * (src/dataplane/linux/README.md, nft-ruleset.ts), in the router where the
 * packet is forwarded:
 *   - forward hook, chain egress (priority 0): `ct state established,related
 *     accept`, then the chain of the port the packet came in by; chain ingress
 *     (priority 10): the same for the port it goes out by. A packet from or to
 *     the tunnel has no port chain on that side, so a packet crossing hosts is
 *     checked for egress on the source host and for ingress on the destination
 *     host; between two ports of one host it passes both in one traversal.
 *   - a port chain jumps to each bound group's chain in bound order, then
 *     drops: the first matching policy across the groups decides, no match
 *     drops, and a port with no group drops everything.
 *   - a group chain is its policies in PolicyIndex order; the peer is the
 *     destination on egress, the source on ingress; a group peer matches the
 *     addresses of the group's members (`@m_<sg>`), a CIDR (normalised by
 *     the compiler: an address is a /32) its addresses, an IPv6 peer no IPv4 packet;
 *     tcp/udp with ports match the destination port, without ports any;
 *     icmp matches ICMP, icmpv6 no IPv4 packet, all anything.
 */
import type { Port, Rule } from '../../contract/host-document.js';
import { containsIp, parseIp } from '../../core/cidr.js';
import type { Packet } from '../model.js';
import { documentCidr, type Router } from '../world.js';
import { hop, next, type Outcome, type Stage, type Transit } from './stage.js';

export type SgDirection = 'egress' | 'ingress';

export interface SecurityGroupDetail {
  direction: SgDirection;
  instanceId: string;
  ifname: string;
  /** Groups bound to the port, in evaluation order. */
  groups: string[];
  /**
   * policy: a policy decided; default: no policy of the bound groups matched
   * (the port chain's final drop); no-groups: the port has no group (its chain
   * is a bare drop); established: conntrack accepted a reply before any chain.
   */
  decision: 'policy' | 'default' | 'no-groups' | 'established';
  action: 'accept' | 'drop';
  securityGroupId?: string;
  policyIndex?: number;
  policy?: Rule;
}

/** The verdict of a port's groups for a packet, without conntrack. */
export type GroupVerdict = Pick<SecurityGroupDetail, 'decision' | 'action' | 'securityGroupId' | 'policyIndex' | 'policy'>;

type Matcher = (peer: number, packet: Packet, members: (sg: string) => Set<string> | undefined, peerText: string) => boolean;
const matchers = new WeakMap<Rule, Matcher>();

function compileRule(rule: Rule): Matcher {
  let address: (peer: number, peerText: string, members: (sg: string) => Set<string> | undefined) => boolean;
  if (rule.group) {
    const sg = rule.group;
    address = (_peer, text, members) => members(sg)?.has(text) ?? false;
  } else if (rule.cidr !== undefined) {
    // Normalised by the compiler (a bare address is already /32); anything else is refused, never silently unmatched.
    const c = documentCidr(rule.cidr, 'security group policy');
    address = (peer) => containsIp(c, peer);
  } else {
    address = () => false; // an IPv6 peer never matches an IPv4 packet
  }
  let proto: (p: Packet) => boolean;
  switch (rule.protocol) {
    case 'tcp':
    case 'udp': {
      const want = rule.protocol;
      const ranges = rule.ports;
      proto = ranges.length
        ? (p) => p.protocol === want && p.dstPort !== undefined && ranges.some(([a, b]) => p.dstPort! >= Math.min(a, b) && p.dstPort! <= Math.max(a, b))
        : (p) => p.protocol === want;
      break;
    }
    case 'icmp':
      proto = (p) => p.protocol === 'icmp';
      break;
    case 'all':
      proto = () => true;
      break;
    default:
      proto = () => false; // icmpv6 (and gre): no IPv4 echo/tcp/udp packet is one
  }
  return (peer, packet, members, text) => proto(packet) && address(peer, text, members);
}

const matcherOf = (rule: Rule): Matcher => {
  let m = matchers.get(rule);
  if (!m) matchers.set(rule, (m = compileRule(rule)));
  return m;
};

/** Whether one policy matches a packet in a direction (`members`: the router's `m_<sg>` sets). */
export function ruleMatches(rule: Rule, direction: SgDirection, packet: Packet, members: (sg: string) => Set<string> | undefined): boolean {
  const peerText = direction === 'ingress' ? packet.src : packet.dst;
  const peer = parseIp(peerText);
  return peer !== undefined && matcherOf(rule)(peer, packet, members, peerText);
}

/** Evaluates a port's chain for a new packet: its groups in bound order, first match decides, else drop. */
export function evaluateGroups(router: Router, port: Port, direction: SgDirection, packet: Packet): GroupVerdict {
  const members = (sg: string) => router.members.get(sg);
  const peerText = direction === 'ingress' ? packet.src : packet.dst;
  const peer = parseIp(peerText);
  if (peer !== undefined)
    for (const sg of port.securityGroups) {
      const rules = router.vpc.securityGroups[sg]?.[direction] ?? [];
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i]!;
        if (matcherOf(rule)(peer, packet, members, peerText))
          return { decision: 'policy', action: rule.action, securityGroupId: sg, policyIndex: i, policy: rule };
      }
    }
  return { decision: port.securityGroups.length ? 'default' : 'no-groups', action: 'drop' };
}

/** `ACCEPT tcp 22,8000-8010 from 10.0.0.0/16`, `DROP all to members of sg-x`. */
export function describeRule(rule: Rule, direction: SgDirection): string {
  const ports = rule.ports.length ? ` ${rule.ports.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}` : '';
  const peer = rule.group ? `members of ${rule.group}` : (rule.cidr ?? rule.ipv6Cidr ?? '?');
  return `${rule.action.toUpperCase()} ${rule.protocol}${ports} ${direction === 'ingress' ? 'from' : 'to'} ${peer}`;
}

function decide(t: Transit, port: Port, direction: SgDirection): Outcome {
  const base = { direction, instanceId: port.instanceId, ifname: port.ifname, groups: [...port.securityGroups] };
  if (t.established) {
    if (t.conntrackSaid) return next();
    t.conntrackSaid = true;
    const detail: SecurityGroupDetail = { ...base, decision: 'established', action: 'accept' };
    return next(
      hop(t, 'security-group', 'pass', `conntrack on ${t.router.hostId}: a reply of an accepted flow (ct state established) is accepted before any security group chain`, detail),
    );
  }
  const v = evaluateGroups(t.router, port, direction, t.packet);
  const detail: SecurityGroupDetail = { ...base, ...v };
  const peer = direction === 'egress' ? `to ${t.packet.dst}` : `from ${t.packet.src}`;
  const what = `${direction} of ${port.instanceId} (port ${port.ifname})`;
  let summary: string;
  if (v.decision === 'policy') {
    summary = `${what}: ${v.securityGroupId} ${direction} policy ${v.policyIndex} (${describeRule(v.policy!, direction)}) ${v.action === 'accept' ? 'accepts' : 'drops'}`;
  } else if (v.decision === 'no-groups') {
    summary = `${what}: the port has no security group, so its chain is a bare drop: dropped`;
  } else {
    summary = `${what}: no ${direction} policy of ${port.securityGroups.join(', ')} matches ${t.packet.protocol}${t.packet.dstPort !== undefined ? ` port ${t.packet.dstPort}` : ''} ${peer}: the port chain ends in drop`;
  }
  if (v.action === 'accept') return next(hop(t, 'security-group', 'pass', summary, detail));
  const code = v.decision === 'policy' ? (`${direction}-policy` as const) : (`${direction}-default` as const);
  return { hop: hop(t, 'security-group', 'drop', summary, detail), end: { verdict: 'dropped', code, reason: summary } };
}

/** The egress chain of the port the packet came in by (forwarded packets only). */
export const egressSecurityGroups: Stage = {
  name: 'security-group-egress',
  run(t) {
    if (t.ingress.kind !== 'port' || !t.route || t.route.kind === 'local') return next();
    return decide(t, t.ingress.port, 'egress');
  },
};

/** The ingress chain of the port the packet goes out by. */
export const ingressSecurityGroups: Stage = {
  name: 'security-group-ingress',
  run(t) {
    if (t.route?.kind !== 'port') return next();
    return decide(t, t.route.port, 'ingress');
  },
};
