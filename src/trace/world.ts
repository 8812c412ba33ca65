/**
 * The region as the tracer sees it: every host's document, indexed for the
 * lookups the kernel does (a router's /32 routes and local addresses, its
 * route tables port-side and tunnel-side, its peering links, a host's VXLAN
 * devices by VNI, hosts by underlay address). Built once, then read by any
 * number of traces. Pure: documents in, maps out.
 *
 * Building a world also checks what the Linux driver would refuse to plan: every
 * CIDR a rule, route or port carries must be a normalised IPv4 CIDR (the
 * compiler normalises; a bare address is already /32), and every table or ACL
 * a subnet names must be in the document. A malformed document throws
 * DocumentError instead of holding a rule that silently never matches.
 */
import type {
  HostDocument,
  NetworkAcl,
  PeeringLink,
  Port,
  RemoteEndpoint,
  RouteTable,
  SubnetContext,
  TableRoute,
  VpcContext,
} from '../contract/host-document.js';
import { parseCidr, type Cidr } from '../core/cidr.js';
import { DocumentError } from './model.js';

/** One route of a table, its destination parsed; tables keep them longest prefix first. */
export interface RouteEntry {
  cidr: Cidr;
  route: TableRoute;
}

/** A route table as a router looks it up. */
export interface TableIndex {
  table: RouteTable;
  /** Longest prefix first (destinations are unique per table), so the first that contains the address wins. */
  routes: RouteEntry[];
}

/**
 * The "in" view of a table for packets from the tunnel whose source is in
 * `subnetId`: the source host already chose this host (one of the next hops
 * is here), so only instance routes with next hops that are local ports
 * exist, restricted to those local members.
 */
export interface TunnelView {
  subnetId: string;
  subnetCidr: string;
  cidr: Cidr;
  table: RouteTable;
  routes: RouteEntry[];
}

/** One VPC's router context on one host (a router namespace on Linux). */
export interface Router {
  hostId: string;
  host: HostDocument;
  vpc: VpcContext;
  /** Local ports by address: `ip/32 dev <port>`. */
  ports: Map<string, Port>;
  /** Remote instances by address: `ip/32 via ip dev vx<vni> onlink`. */
  remotes: Map<string, RemoteEndpoint>;
  /** Subnet gateways on the router's `lo`. */
  gateways: Map<string, SubnetContext>;
  /** Members of referenced groups, as the `m_<sg>` sets hold them. */
  members: Map<string, Set<string>>;
  /** Subnets with a local port, by ID, with their parsed CIDR. */
  subnets: Map<string, { subnet: SubnetContext; cidr: Cidr }>;
  /** Route tables by ID: what a packet from a local port is routed by (its subnet's table). */
  tables: Map<string, TableIndex>;
  /** Tunnel-side views, one per subnet associated with a table: matched by the packet's source. */
  tunnelViews: TunnelView[];
  /** Peering links by peering ID. */
  peerings: Map<string, PeeringLink>;
  /** Network ACLs by ID. */
  acls: Map<string, NetworkAcl>;
  /** Per local port (instance ID): the destinations routed to it, which it may also send from. */
  routed: Map<string, { text: string; cidr: Cidr }[]>;
}

export interface World {
  hosts: Map<string, HostDocument>;
  /** hostId → vpcId → router. */
  routers: Map<string, Map<string, Router>>;
  /** hostId → VNI → router (the VXLAN device a frame with that VNI reaches). */
  byVni: Map<string, Map<number, Router>>;
  /** Underlay address → hostId. */
  byUnderlay: Map<string, string>;
  /** Every local port of every host: instanceId → its router and port. */
  instances: Map<string, { router: Router; port: Port }>;
  /** The same, per VPC, sorted by instance ID. */
  byVpc: Map<string, { router: Router; port: Port }[]>;
  /**
   * Hosts whose document has the gateway role, sorted by ID: the nodes that
   * all announce the cluster's address and the EIP pools (gateways.ts).
   */
  gatewayNodes: string[];
  /**
   * Hosts whose document has the LB role, by node number (`lbNode`; then ID):
   * the nodes that all hold the LB cluster's address and announce the public
   * VIPs (load-balancers.ts).
   */
  lbNodes: string[];
}

export const routerKey = (r: Pick<Router, 'hostId' | 'vpc'>) => `${r.hostId}/${r.vpc.vpcId}`;

/** A normalised IPv4 CIDR (`a.b.c.d/n`, host bits zero), or DocumentError naming where it was found. */
export function documentCidr(text: string, where: string): Cidr {
  const c = typeof text === 'string' ? parseCidr(text, true) : undefined;
  if (!c) throw new DocumentError(`${where}: \`${String(text)}\` is not a normalised IPv4 CIDR (a.b.c.d/n with the host bits zero; a single address is /32)`);
  return c;
}

const byPrefix = (a: RouteEntry, b: RouteEntry) => b.cidr.prefix - a.cidr.prefix || a.cidr.base - b.cidr.base;

function indexRouter(host: HostDocument, vpc: VpcContext): Router {
  const where = `host ${host.hostId}, ${vpc.vpcId}`;
  const ports = new Map(vpc.ports.map((p) => [p.ip, p]));
  const subnets = new Map(vpc.subnets.map((s) => [s.subnetId, { subnet: s, cidr: documentCidr(s.cidr, `${where}, subnet ${s.subnetId}`) }]));

  // Security-group peers: checked here so a malformed one fails the whole document, as it fails the driver's plan.
  for (const [sg, rules] of Object.entries(vpc.securityGroups))
    for (const direction of ['ingress', 'egress'] as const)
      rules[direction].forEach((r, i) => {
        if (!r.group && r.cidr !== undefined) documentCidr(r.cidr, `${where}, ${sg} ${direction} policy ${i}`);
      });

  const acls = new Map(Object.entries(vpc.networkAcls ?? {}));
  for (const [id, acl] of acls)
    for (const direction of ['ingress', 'egress'] as const) acl[direction].forEach((e, i) => documentCidr(e.cidr, `${where}, ${id} ${direction} entry ${i}`));

  const tables = new Map<string, TableIndex>();
  const tunnelViews: TunnelView[] = [];
  for (const table of vpc.routeTables ?? []) {
    const routes = table.routes.map((route) => ({ cidr: documentCidr(route.destination, `${where}, ${table.routeTableId} route to ${route.destination}`), route })).sort(byPrefix);
    tables.set(table.routeTableId, { table, routes });
    const inView: RouteEntry[] = [];
    for (const e of routes) {
      if (e.route.kind !== 'instance') continue;
      const local = e.route.nextHops.filter((h) => ports.has(h.ip));
      if (local.length) inView.push({ cidr: e.cidr, route: { ...e.route, nextHops: local } });
    }
    for (const s of table.subnets)
      tunnelViews.push({ subnetId: s.subnetId, subnetCidr: s.cidr, cidr: documentCidr(s.cidr, `${where}, ${table.routeTableId} subnet ${s.subnetId}`), table, routes: inView });
  }
  for (const { subnet } of subnets.values()) {
    if (subnet.routeTableId !== undefined && !tables.has(subnet.routeTableId))
      throw new DocumentError(`${where}: subnet ${subnet.subnetId} is associated with ${subnet.routeTableId}, which the document does not carry`);
    if (subnet.networkAclId !== undefined && !acls.has(subnet.networkAclId))
      throw new DocumentError(`${where}: subnet ${subnet.subnetId} is bound to ${subnet.networkAclId}, which the document does not carry`);
  }

  // A NAT gateway's SNAT sources, as nat-gateway.ts puts them in nft: a malformed one fails the document.
  for (const g of vpc.nat?.gateways ?? []) for (const rule of g.snat) documentCidr(rule.source, `${where}, ${g.natGatewayId} SNAT rule ${rule.natGatewaySnatId}`);

  // Load balancers, as the LB node's nft maps hold them: a VIP or target that is not an address, or a table size the
  // Maglev table cannot have, fails the document.
  for (const lb of vpc.loadBalancers ?? []) {
    documentCidr(`${lb.vip}/32`, `${where}, ${lb.loadBalancerId} VIP`);
    for (const l of lb.listeners) {
      if (!Number.isInteger(l.tableSize) || l.tableSize < 1) throw new DocumentError(`${where}, ${l.listenerId}: table size ${String(l.tableSize)} is not a positive integer`);
      for (const t of l.targets) documentCidr(`${t.ip}/32`, `${where}, ${l.listenerId} target ${t.instanceId}`);
    }
  }
  for (const vip of vpc.lbVips?.vips ?? []) documentCidr(`${vip}/32`, `${where}, VIP route`);

  const routed = new Map<string, { text: string; cidr: Cidr }[]>();
  for (const p of vpc.ports)
    if (p.routedCidrs?.length) routed.set(p.instanceId, p.routedCidrs.map((text) => ({ text, cidr: documentCidr(text, `${where}, port ${p.ifname} routed CIDR`) })));

  return {
    hostId: host.hostId,
    host,
    vpc,
    ports,
    remotes: new Map(vpc.remotes.map((r) => [r.ip, r])),
    gateways: new Map(vpc.subnets.map((s) => [s.gateway, s])),
    members: new Map(Object.entries(vpc.groupMembers).map(([sg, ips]) => [sg, new Set(ips)])),
    subnets,
    tables,
    tunnelViews,
    peerings: new Map((vpc.peerings ?? []).map((l) => [l.peeringId, l])),
    acls,
    routed,
  };
}

export function buildWorld(documents: readonly HostDocument[]): World {
  const world: World = { hosts: new Map(), routers: new Map(), byVni: new Map(), byUnderlay: new Map(), instances: new Map(), byVpc: new Map(), gatewayNodes: [], lbNodes: [] };
  for (const host of documents) {
    world.hosts.set(host.hostId, host);
    world.byUnderlay.set(host.underlay, host.hostId);
    const routers = new Map<string, Router>();
    const byVni = new Map<number, Router>();
    for (const vpc of host.vpcs) {
      const router = indexRouter(host, vpc);
      routers.set(vpc.vpcId, router);
      byVni.set(vpc.vni, router);
      for (const port of vpc.ports) if (!world.instances.has(port.instanceId)) world.instances.set(port.instanceId, { router, port });
    }
    world.routers.set(host.hostId, routers);
    world.byVni.set(host.hostId, byVni);
    if (host.role === 'gateway') world.gatewayNodes.push(host.hostId);
    if (host.role === 'lb') world.lbNodes.push(host.hostId);
  }
  world.gatewayNodes.sort();
  const nodeNumber = (h: string) => world.hosts.get(h)!.lbNode ?? Number.MAX_SAFE_INTEGER;
  world.lbNodes.sort((a, b) => nodeNumber(a) - nodeNumber(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const i of world.instances.values()) {
    const list = world.byVpc.get(i.router.vpc.vpcId) ?? [];
    list.push(i);
    world.byVpc.set(i.router.vpc.vpcId, list);
  }
  for (const list of world.byVpc.values()) list.sort((a, b) => (a.port.instanceId < b.port.instanceId ? -1 : a.port.instanceId > b.port.instanceId ? 1 : 0));
  return world;
}

/** Every instance of a VPC with a port on some host, sorted by ID. */
export const instancesOf = (world: World, vpcId: string): { router: Router; port: Port }[] => world.byVpc.get(vpcId) ?? [];
