/**
 * Hand-written regions for the Linux driver's tests: VPCs, instances placed on
 * hosts and security groups, turned into one HostDocument per host the way
 * the compiler does (local ports, remotes, bound groups, members of groups
 * referenced by policies). Deliberately simple and independent of
 * src/compile, so these tests pin the contract, not the compiler.
 */
import type { HostDocument, Rule, SecurityGroupRules, VpcContext } from '../../../src/contract/host-document.js';

export interface HostSpec {
  name: string;
  underlay: string;
}

export interface InstanceSpec {
  id: string;
  host: string;
  ip: string;
  subnet: string;
  groups: string[];
}

export interface VpcSpec {
  vpcId: string;
  vni: number;
  subnets: { id: string; cidr: string; gateway: string }[];
  instances: InstanceSpec[];
  groups: Record<string, SecurityGroupRules>;
}

const hex = (n: number) => (n & 255).toString(16).padStart(2, '0');

/** This host's tunnel MAC for a VPC: unique per (host, VNI). */
export const routerMacOf = (hostIndex: number, vni: number) => `02:${hex(hostIndex)}:${hex(vni >> 16)}:${hex(vni >> 8)}:${hex(vni)}:fe`;

/** An instance's MAC: unique per (VPC, address). */
export const macOf = (vni: number, ip: string) => `0a:${hex(vni)}:${ip.split('.').map((o) => hex(Number(o))).join(':')}`;

export const ifnameOf = (instanceId: string) => `p${instanceId.slice(-8)}`;

export function hostDocument(host: HostSpec, hosts: HostSpec[], vpcs: VpcSpec[], revision: number): HostDocument {
  const index = (name: string) => hosts.findIndex((h) => h.name === name) + 1;
  const contexts: VpcContext[] = [];
  for (const v of vpcs) {
    const local = v.instances.filter((i) => i.host === host.name);
    if (!local.length) continue;
    const subnetOf = (i: InstanceSpec) => v.subnets.find((s) => s.id === i.subnet)!;
    const bound = [...new Set(local.flatMap((i) => i.groups))].sort();
    const securityGroups: Record<string, SecurityGroupRules> = {};
    for (const g of bound) securityGroups[g] = structuredClone(v.groups[g] ?? { ingress: [], egress: [] });
    const referenced = new Set(
      Object.values(securityGroups)
        .flatMap((g) => [...g.ingress, ...g.egress])
        .map((r: Rule) => r.group)
        .filter((g): g is string => !!g),
    );
    const groupMembers: Record<string, string[]> = {};
    for (const g of [...referenced].sort()) groupMembers[g] = v.instances.filter((i) => i.groups.includes(g)).map((i) => i.ip).sort();
    contexts.push({
      vpcId: v.vpcId,
      vni: v.vni,
      routerMac: routerMacOf(index(host.name), v.vni),
      subnets: v.subnets
        .filter((s) => local.some((i) => i.subnet === s.id))
        .map((s) => ({ subnetId: s.id, cidr: s.cidr, gateway: s.gateway })),
      ports: local.map((i) => ({
        instanceId: i.id,
        ifname: ifnameOf(i.id),
        ip: i.ip,
        mac: macOf(v.vni, i.ip),
        subnetId: i.subnet,
        prefix: Number(subnetOf(i).cidr.split('/')[1]),
        gateway: subnetOf(i).gateway,
        securityGroups: i.groups,
      })),
      remotes: v.instances
        .filter((i) => i.host !== host.name)
        .map((i) => {
          const h = hosts.find((x) => x.name === i.host)!;
          return { ip: i.ip, instanceId: i.id, hostId: h.name, underlay: h.underlay, routerMac: routerMacOf(index(h.name), v.vni) };
        }),
      securityGroups,
      groupMembers,
    });
  }
  return { hostId: host.name, revision, underlay: host.underlay, vpcs: contexts };
}

// ---- policy shorthands ----
export const allow = (protocol: Rule['protocol'], peer: { cidr?: string; group?: string; ipv6Cidr?: string }, ports: [number, number][] = []): Rule => ({
  protocol,
  ports,
  ...peer,
  action: 'accept',
});
export const deny = (protocol: Rule['protocol'], peer: { cidr?: string; group?: string; ipv6Cidr?: string }, ports: [number, number][] = []): Rule => ({
  protocol,
  ports,
  ...peer,
  action: 'drop',
});
export const ANY = { cidr: '0.0.0.0/0' };
export const OPEN: SecurityGroupRules = { ingress: [allow('all', ANY)], egress: [allow('all', ANY)] };
