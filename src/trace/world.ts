/**
 * The region as the tracer sees it: every host's document, indexed for the
 * lookups the kernel does (a router's /32 routes and local addresses, a
 * host's VXLAN devices by VNI, hosts by underlay address). Built once, then
 * read by any number of traces. Pure: documents in, maps out.
 */
import type { HostDocument, Port, RemoteEndpoint, SubnetContext, VpcContext } from '../contract/host-document.js';

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
}

export const routerKey = (r: Pick<Router, 'hostId' | 'vpc'>) => `${r.hostId}/${r.vpc.vpcId}`;

export function buildWorld(documents: readonly HostDocument[]): World {
  const world: World = { hosts: new Map(), routers: new Map(), byVni: new Map(), byUnderlay: new Map(), instances: new Map(), byVpc: new Map() };
  for (const host of documents) {
    world.hosts.set(host.hostId, host);
    world.byUnderlay.set(host.underlay, host.hostId);
    const routers = new Map<string, Router>();
    const byVni = new Map<number, Router>();
    for (const vpc of host.vpcs) {
      const router: Router = {
        hostId: host.hostId,
        host,
        vpc,
        ports: new Map(vpc.ports.map((p) => [p.ip, p])),
        remotes: new Map(vpc.remotes.map((r) => [r.ip, r])),
        gateways: new Map(vpc.subnets.map((s) => [s.gateway, s])),
        members: new Map(Object.entries(vpc.groupMembers).map(([sg, ips]) => [sg, new Set(ips)])),
      };
      routers.set(vpc.vpcId, router);
      byVni.set(vpc.vni, router);
      for (const port of vpc.ports) if (!world.instances.has(port.instanceId)) world.instances.set(port.instanceId, { router, port });
    }
    world.routers.set(host.hostId, routers);
    world.byVni.set(host.hostId, byVni);
  }
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
