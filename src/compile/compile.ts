/**
 * The compiler: a host's span of the region state → its HostDocument. Pure
 * and deterministic (everything sorted), so equal state gives byte-equal
 * documents and a changed document means a changed host.
 */
import { createHash } from 'node:crypto';
import { formatIp, parseCidr } from '../core/cidr.js';
import { gatewayOf } from '../core/ipam.js';
import { portSpec } from '../core/sg-policy.js';
import type { HostDocument, Port, RemoteEndpoint, Rule, SecurityGroupRules, VpcContext } from '../contract/host-document.js';

/** What the compiler reads for one host (loaded by load.ts). */
export interface HostSpan {
  host: { id: string; underlay: string };
  revision: number;
  /** Underlay address of every host that has an instance in a spanned VPC. */
  underlays: Record<string, string>;
  vpcs: { id: string; vni: number }[];
  /** Every instance of the spanned VPCs. */
  instances: { id: string; vpc_id: string; subnet_id: string; private_ip: string; mac: string; host_id: string | null }[];
  subnets: { id: string; cidr: string }[];
  /** Group bindings of every instance in `instances`. */
  bindings: { instance_id: string; sg_id: string; position: number }[];
  /** Policies of the groups bound to this host's instances. */
  policies: { sg_id: string; direction: 'ingress' | 'egress'; position: number; protocol: string; port: string; cidr: string; ipv6_cidr: string; ref_sg_id: string; action: string }[];
}

/** MAC of a host's tunnel end for one VPC: locally administered, the same wherever it is computed. */
export function routerMac(hostId: string, vni: number): string {
  const h = createHash('sha256').update(`${hostId}/${vni}`).digest();
  return ['0a', ...Array.from(h.subarray(0, 5), (b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Router-side interface name of an instance's port (IFNAMSIZ allows 15 bytes). */
export const portName = (instanceId: string) => `p${instanceId.replace(/^ins-/, '')}`;

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** A stored Port (`ALL`, `80`, `80,443`, `8000-8010`) as inclusive ranges; [] means every port. */
export function portRanges(port: string): [number, number][] {
  const spec = portSpec(port);
  return spec === 'ALL' ? [] : spec.map(([lo, hi]) => [lo, hi]);
}

export function toRule(p: HostSpan['policies'][number]): Rule {
  const protocol = p.protocol.toLowerCase() as Rule['protocol'];
  const rule: Rule = {
    protocol,
    ports: protocol === 'tcp' || protocol === 'udp' ? portRanges(p.port) : [],
    action: p.action.toUpperCase() === 'ACCEPT' ? 'accept' : 'drop',
  };
  if (p.ref_sg_id) rule.group = p.ref_sg_id;
  else if (p.ipv6_cidr) rule.ipv6Cidr = p.ipv6_cidr;
  else rule.cidr = p.cidr || '0.0.0.0/0';
  return rule;
}

export function compileHost(span: HostSpan): HostDocument {
  const hostId = span.host.id;
  const subnetCidr = new Map(span.subnets.map((s) => [s.id, s.cidr]));
  const bound = new Map<string, string[]>();
  for (const b of [...span.bindings].sort((a, b) => a.position - b.position)) {
    bound.set(b.instance_id, [...(bound.get(b.instance_id) ?? []), b.sg_id]);
  }
  const rulesOf = new Map<string, SecurityGroupRules>();
  for (const p of [...span.policies].sort((a, b) => a.position - b.position)) {
    const g = rulesOf.get(p.sg_id) ?? { ingress: [], egress: [] };
    g[p.direction].push(toRule(p));
    rulesOf.set(p.sg_id, g);
  }

  const vpcs: VpcContext[] = [];
  for (const vpc of [...span.vpcs].sort(byKey((v) => v.id))) {
    const members = span.instances.filter((i) => i.vpc_id === vpc.id).sort(byKey((i) => i.id));
    const local = members.filter((i) => i.host_id === hostId);
    if (!local.length) continue;
    const ports: Port[] = local.map((i) => {
      const cidr = parseCidr(subnetCidr.get(i.subnet_id)!)!;
      return {
        instanceId: i.id,
        ifname: portName(i.id),
        ip: i.private_ip,
        mac: i.mac,
        subnetId: i.subnet_id,
        prefix: cidr.prefix,
        gateway: formatIp(gatewayOf(cidr)),
        securityGroups: bound.get(i.id) ?? [],
      };
    });
    const remotes: RemoteEndpoint[] = members
      .filter((i) => i.host_id && i.host_id !== hostId && span.underlays[i.host_id])
      .map((i) => ({
        ip: i.private_ip,
        instanceId: i.id,
        hostId: i.host_id!,
        underlay: span.underlays[i.host_id!]!,
        routerMac: routerMac(i.host_id!, vpc.vni),
      }));
    const groups = [...new Set(ports.flatMap((p) => p.securityGroups))].sort();
    const securityGroups: Record<string, SecurityGroupRules> = {};
    for (const g of groups) securityGroups[g] = rulesOf.get(g) ?? { ingress: [], egress: [] };
    const referenced = referencedGroups(securityGroups);
    const groupMembers: Record<string, string[]> = {};
    for (const g of referenced)
      groupMembers[g] = members
        .filter((i) => bound.get(i.id)?.includes(g))
        .map((i) => i.private_ip)
        .sort();
    const subnetIds = [...new Set(ports.map((p) => p.subnetId))].sort();
    vpcs.push({
      vpcId: vpc.id,
      vni: vpc.vni,
      routerMac: routerMac(hostId, vpc.vni),
      subnets: subnetIds.map((id) => {
        const c = parseCidr(subnetCidr.get(id)!)!;
        return { subnetId: id, cidr: subnetCidr.get(id)!, gateway: formatIp(gatewayOf(c)) };
      }),
      ports,
      remotes,
      securityGroups,
      groupMembers,
    });
  }
  return { hostId, revision: span.revision, underlay: span.host.underlay, vpcs };
}

/** Groups that the policies of `securityGroups` reference, sorted: their members must be known. */
export function referencedGroups(securityGroups: Record<string, SecurityGroupRules>): string[] {
  const refs = Object.values(securityGroups).flatMap((g) => [...g.ingress, ...g.egress].flatMap((r) => (r.group ? [r.group] : [])));
  return [...new Set(refs)].sort();
}

/** A digest of a document's content, ignoring the revision it was compiled at. */
export function documentDigest(doc: HostDocument): string {
  return createHash('sha256').update(JSON.stringify({ ...doc, revision: 0 })).digest('hex').slice(0, 16);
}
