/**
 * Hand-written host documents with route tables, network ACLs and peering
 * links, built the way the contract describes them (src/contract/host-document.ts),
 * independently of the compiler: a host holds a router for each VPC with an
 * instance there and for each VPC peered with one of those; every route table
 * with an associated subnet is in every router of its VPC, next hops resolved
 * to placed instances (sorted by address); a next hop's port carries the
 * destinations routed to it.
 */
import type { AclRule, HostDocument, NetworkAcl, PeeringLink, Port, RemoteEndpoint, RouteTable, Rule, SecurityGroupRules, TableRoute, VpcContext } from '../../src/contract/host-document.js';
import { parseIp } from '../../src/core/cidr.js';

export interface RouteSpec {
  destination: string;
  /** Next hops by instance ID (kind instance); down ones are left out by the spec's author. */
  via?: string[];
  /** Peering ID (kind peering). */
  peering?: string;
  ids: string[];
}

export interface RoutingSpec {
  hosts: Record<string, string>;
  vpcs: {
    id: string;
    vni: number;
    cidr: string;
    subnets: Record<string, { cidr: string; table?: string; acl?: string }>;
    tables: Record<string, { main?: boolean; routes: RouteSpec[] }>;
    acls?: Record<string, NetworkAcl>;
  }[];
  peerings: { id: string; a: string; b: string }[];
  instances: { id: string; vpc: string; subnet: string; ip: string; host: string | null; groups: string[] }[];
  groups: Record<string, SecurityGroupRules>;
}

const hex = (n: number) => (n & 255).toString(16).padStart(2, '0');
const mac = (seed: string) => {
  let h = 7;
  for (const ch of seed) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return ['0a', hex(h >>> 24), hex(h >>> 16), hex(h >>> 8), hex(h), hex(seed.length)].join(':');
};
const byIp = (a: { ip: string }, b: { ip: string }) => parseIp(a.ip)! - parseIp(b.ip)!;
const gatewayOf = (cidr: string) => {
  const [base] = cidr.split('/');
  const o = base!.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.${o[3]! + 1}`;
};

export function routingDocuments(s: RoutingSpec, revision = 1): HostDocument[] {
  const placed = s.instances.filter((i) => i.host);
  const inst = new Map(s.instances.map((i) => [i.id, i]));
  return Object.entries(s.hosts).map(([hostId, underlay]) => {
    const home = new Set(placed.filter((i) => i.host === hostId).map((i) => i.vpc));
    const links = s.peerings.filter((p) => home.has(p.a) || home.has(p.b));
    const present = new Set([...home, ...links.flatMap((p) => [p.a, p.b])]);
    const vpcs: VpcContext[] = [];
    for (const v of [...s.vpcs].sort((x, y) => (x.id < y.id ? -1 : 1))) {
      if (!present.has(v.id)) continue;
      const members = placed.filter((i) => i.vpc === v.id);
      const local = members.filter((i) => i.host === hostId);
      const routed = new Map<string, string[]>();
      for (const t of Object.values(v.tables))
        for (const r of t.routes) for (const id of r.via ?? []) routed.set(id, [...new Set([...(routed.get(id) ?? []), r.destination])].sort());
      const ports: Port[] = local.map((i) => {
        const cidr = v.subnets[i.subnet]!.cidr;
        const port: Port = {
          instanceId: i.id,
          ifname: `p${i.id.slice(4)}`,
          ip: i.ip,
          mac: mac(i.id),
          subnetId: i.subnet,
          prefix: Number(cidr.split('/')[1]),
          gateway: gatewayOf(cidr),
          securityGroups: i.groups,
        };
        if (routed.get(i.id)) port.routedCidrs = routed.get(i.id);
        return port;
      });
      const remotes: RemoteEndpoint[] = members
        .filter((i) => i.host !== hostId)
        .map((i) => ({ ip: i.ip, instanceId: i.id, hostId: i.host!, underlay: s.hosts[i.host!]!, routerMac: mac(`${i.host}/${v.vni}`) }));
      const subnetIds = [...new Set(local.map((i) => i.subnet))].sort();
      const acls: Record<string, NetworkAcl> = {};
      for (const id of subnetIds) {
        const a = v.subnets[id]!.acl;
        if (a) acls[a] = v.acls![a]!;
      }
      const mainId = Object.entries(v.tables).find(([, t]) => t.main)?.[0];
      const routeTables: RouteTable[] = Object.entries(v.tables)
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .flatMap(([id, t]) => {
          const subnets = Object.entries(v.subnets)
            .filter(([, sn]) => (sn.table ?? mainId) === id)
            .map(([subnetId, sn]) => ({ subnetId, cidr: sn.cidr }))
            .sort((x, y) => (x.subnetId < y.subnetId ? -1 : 1));
          if (!subnets.length) return [];
          const routes: TableRoute[] = t.routes.map((r) => {
            if (r.peering) {
              const p = s.peerings.find((x) => x.id === r.peering)!;
              return { destination: r.destination, kind: 'peering' as const, peeringId: p.id, peerVpcId: p.a === v.id ? p.b : p.a, routeIds: r.ids };
            }
            const nextHops = (r.via ?? [])
              .map((id) => inst.get(id)!)
              .filter((i) => i.host)
              .map((i) => ({ ip: i.ip, instanceId: i.id }))
              .sort(byIp);
            return { destination: r.destination, kind: 'instance' as const, nextHops, routeIds: r.ids };
          });
          return [{ routeTableId: id, main: !!t.main, subnets, routes: routes.sort((x, y) => (x.destination < y.destination ? -1 : 1)) }];
        });
      const securityGroups: Record<string, SecurityGroupRules> = {};
      for (const g of [...new Set(local.flatMap((i) => i.groups))].sort()) securityGroups[g] = s.groups[g]!;
      const peerings: PeeringLink[] = links
        .filter((p) => p.a === v.id || p.b === v.id)
        .map((p) => {
          const peer = p.a === v.id ? p.b : p.a;
          return { peeringId: p.id, peerVpcId: peer, ifname: `pc${p.id.slice(4)}`, mac: mac(`${p.id}/${v.id}`), peerMac: mac(`${p.id}/${peer}`) };
        });
      const ctx: VpcContext = {
        vpcId: v.id,
        vni: v.vni,
        routerMac: mac(`${hostId}/${v.vni}`),
        subnets: subnetIds.map((id) => ({
          subnetId: id,
          cidr: v.subnets[id]!.cidr,
          gateway: gatewayOf(v.subnets[id]!.cidr),
          ...((v.subnets[id]!.table ?? mainId) ? { routeTableId: v.subnets[id]!.table ?? mainId } : {}),
          ...(v.subnets[id]!.acl ? { networkAclId: v.subnets[id]!.acl } : {}),
        })),
        ports,
        remotes,
        securityGroups,
        groupMembers: {},
        cidr: v.cidr,
      };
      if (routeTables.length) ctx.routeTables = routeTables;
      if (Object.keys(acls).length) ctx.networkAcls = acls;
      if (peerings.length) ctx.peerings = peerings;
      vpcs.push(ctx);
    }
    return { hostId, revision, underlay, vpcs };
  });
}

export const acl = (protocol: AclRule['protocol'], cidr: string, action: AclRule['action'], ports: [number, number][] = []): AclRule => ({ protocol, ports, cidr, action });
const OPEN: Rule = { protocol: 'all', ports: [], cidr: '0.0.0.0/0', action: 'accept' };

/**
 * The routing region of the tests.
 *
 *   vpc-aaaaaaaa 10.0.0.0/16, VNI 100        vpc-bbbbbbbb 172.16.0.0/16, VNI 200     vpc-cccccccc 192.168.0.0/16, VNI 300
 *     subnet-a1 10.0.1.0/24 → rtb-a1           subnet-b1 172.16.1.0/24 → rtb-b1        subnet-c1 192.168.1.0/24 → rtb-c1
 *     subnet-a2 10.0.2.0/24 → rtb-a2 (main),   b1 172.16.1.5 h2                        c1 192.168.1.5 h1
 *                 network ACL acl-a2
 *     a1 10.0.1.5 h1   a2 10.0.1.6 h1 (a next hop)
 *     a3 10.0.2.7 h2 (a next hop)   a4 10.0.2.8 h2 (a next hop)   a5 10.0.2.9 not placed (a down next hop)
 *   peerings pcx-ab (A–B), pcx-bc (B–C); every security group accepts everything.
 */
export const routingScenario = (): RoutingSpec => ({
  hosts: { h1: '100.64.0.11', h2: '100.64.0.12' },
  vpcs: [
    {
      id: 'vpc-aaaaaaaa',
      vni: 100,
      cidr: '10.0.0.0/16',
      subnets: { 'subnet-a1': { cidr: '10.0.1.0/24', table: 'rtb-a1' }, 'subnet-a2': { cidr: '10.0.2.0/24', acl: 'acl-a2' } },
      tables: {
        'rtb-a1': {
          routes: [
            { destination: '100.64.100.0/24', via: ['ins-a2'], ids: ['rt-1'] },
            { destination: '100.64.0.0/16', via: ['ins-a3'], ids: ['rt-2'] },
            { destination: '203.0.113.0/24', via: ['ins-a3', 'ins-a2'], ids: ['rt-3', 'rt-4'] },
            { destination: '198.51.100.0/24', via: ['ins-a5'], ids: ['rt-5'] },
            { destination: '198.0.0.0/8', via: ['ins-a2'], ids: ['rt-6'] },
            { destination: '10.99.0.0/16', via: ['ins-a3'], ids: ['rt-7'] },
            { destination: '172.16.0.0/16', peering: 'pcx-ab000000', ids: ['rt-8'] },
            { destination: '192.168.0.0/16', peering: 'pcx-ab000000', ids: ['rt-9'] },
          ],
        },
        'rtb-a2': {
          main: true,
          routes: [
            { destination: '10.99.0.0/16', via: ['ins-a4'], ids: ['rt-20'] },
            { destination: '172.16.0.0/16', peering: 'pcx-ab000000', ids: ['rt-21'] },
          ],
        },
      },
      acls: {
        'acl-a2': {
          ingress: [acl('tcp', '10.0.1.0/24', 'accept', [[22, 22]]), acl('icmp', '0.0.0.0/0', 'accept'), acl('all', '172.16.0.0/16', 'accept')],
          egress: [acl('tcp', '0.0.0.0/0', 'drop', [[80, 80]]), acl('icmp', '0.0.0.0/0', 'accept'), acl('all', '172.16.0.0/16', 'accept')],
        },
      },
    },
    {
      id: 'vpc-bbbbbbbb',
      vni: 200,
      cidr: '172.16.0.0/16',
      subnets: { 'subnet-b1': { cidr: '172.16.1.0/24', table: 'rtb-b1' } },
      tables: {
        'rtb-b1': {
          main: true,
          routes: [
            { destination: '10.0.0.0/16', peering: 'pcx-ab000000', ids: ['rt-30'] },
            { destination: '192.168.0.0/16', peering: 'pcx-bc000000', ids: ['rt-31'] },
          ],
        },
      },
    },
    {
      id: 'vpc-cccccccc',
      vni: 300,
      cidr: '192.168.0.0/16',
      subnets: { 'subnet-c1': { cidr: '192.168.1.0/24', table: 'rtb-c1' } },
      tables: { 'rtb-c1': { main: true, routes: [{ destination: '172.16.0.0/16', peering: 'pcx-bc000000', ids: ['rt-40'] }] } },
    },
  ],
  peerings: [
    { id: 'pcx-ab000000', a: 'vpc-aaaaaaaa', b: 'vpc-bbbbbbbb' },
    { id: 'pcx-bc000000', a: 'vpc-bbbbbbbb', b: 'vpc-cccccccc' },
  ],
  instances: [
    { id: 'ins-a1', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a1', ip: '10.0.1.5', host: 'h1', groups: ['sg-open0000'] },
    { id: 'ins-a2', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a1', ip: '10.0.1.6', host: 'h1', groups: ['sg-open0000'] },
    { id: 'ins-a3', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a2', ip: '10.0.2.7', host: 'h2', groups: ['sg-open0000'] },
    { id: 'ins-a4', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a2', ip: '10.0.2.8', host: 'h2', groups: ['sg-open0000'] },
    { id: 'ins-a5', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a2', ip: '10.0.2.9', host: null, groups: ['sg-open0000'] },
    { id: 'ins-b1', vpc: 'vpc-bbbbbbbb', subnet: 'subnet-b1', ip: '172.16.1.5', host: 'h2', groups: ['sg-open0000'] },
    { id: 'ins-c1', vpc: 'vpc-cccccccc', subnet: 'subnet-c1', ip: '192.168.1.5', host: 'h1', groups: ['sg-open0000'] },
  ],
  groups: { 'sg-open0000': { ingress: [OPEN], egress: [OPEN] } },
});
