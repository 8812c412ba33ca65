/**
 * Planning: from a HostDocument and the actual kernel state of the host, the
 * commands that make the state match the document, and nothing else — a
 * kernel that already matches gets an empty plan. Pure; driver.ts reads the
 * state and runs the plan.
 *
 * Per VPC on the host (docs/dataplane.md):
 *   router ns <prefix>-<host>-<vpcId>: lo with the subnets' gateways (/32),
 *     vx<vni> (created in the host ns, moved in), one veth per port whose
 *     peer is eth0 of the instance ns <prefix>-<instanceId>; /32 routes and
 *     permanent neighbours for local and remote instances, FDB entries for
 *     remote hosts, sysctls, the nftables tables of nft-ruleset.ts; the route
 *     tables, next-hop groups and rules of route-tables.ts; peering links to
 *     other VPCs' routers on this host (peering.ts).
 * Router namespaces of VPCs no longer in the document are removed with their
 * instance namespaces.
 *
 * A port's veth carries its instance-side configuration in its alias
 * ("weft:<instanceId>,<ip>/<prefix>,<mac>,<gateway>,<peer>"): the kernel itself
 * remembers which instance a port belongs to, so a restarted agent knows what
 * to remove, and a port whose configuration changed is re-plugged.
 */
import type { HostDocument, Port, VpcContext } from '../../contract/host-document.js';
import { parseCidr, parseIp } from '../../core/cidr.js';
import {
  INSTANCE_MTU,
  VXLAN_PORT,
  checkIfname,
  checkName,
  instanceNs,
  routerNs,
  routerVpcOf,
  vxlanName,
} from './names.js';
import { desiredTables, mac as macText, planNft } from './nft-ruleset.js';
import { isPeeringAlias, linkPlan, makeLinkLines, type LinkPlan } from './peering.js';
import { LB_GATEWAY, OWNER_GATEWAY, PEERING_GATEWAY, PUBLIC_GATEWAY, checkRouteTable, lbNodeHop, planRouting, routingWant } from './route-tables.js';
import { LB_LINK, lbLocalAddresses, planLbAnnouncements, planLbTable, publicVips, type LbApplied } from './load-balancer.js';
import { lbNodeMac } from '../../compile/compile.js';
import { NAT_LINK, PUBLIC_LINK } from './nft-ruleset.js';
import { ANNOUNCE_TABLE, planGatewayNat } from './nat-gateway.js';
import { limitClasses, planLimits, qosClasses, type LimitShare } from './eip-limits.js';
import { emptyRouter, type HostState, type LinkState, type RouteState, type RouterState } from './state.js';

export interface DriverContext {
  prefix: string;
  hostName: string;
  /** Namespace VXLAN devices are created in (the host's); null for the root namespace. */
  hostNs: string | null;
  /** False when the kernel has no IPv6 (ipv6.disable=1): its sysctls do not exist then. */
  ipv6?: boolean;
  /** On an LB node: what it last applied to each router's LB tables, by namespace (the driver's memory; load-balancer.ts). */
  lbApplied?: ReadonlyMap<string, LbApplied>;
}

export type StepKind =
  | 'netns-add' // lines: namespace names
  | 'netns-del' // lines: namespace names
  | 'ip' // lines: `ip -batch` input, run in ns
  | 'bridge' // lines: `bridge -batch` input, run in ns
  | 'tc' // lines: `tc -batch` input, run in ns
  | 'sysctl' // lines: key=value, written in ns
  | 'nft' // lines: `nft -f` input, run in ns, one transaction
  | 'link-del' // lines: interface names deleted in ns, those already gone forgiven (a peering link's other end takes it along)
  | 'instance-reset' // lines: "<ns> <ifname>": a stale interface removed from an instance namespace before re-plugging
  | 'instance-gc'; // lines: instance namespaces removed if nothing but lo is left in them

export interface Step {
  kind: StepKind;
  /** Namespace the step runs in; null for the root namespace (netns add/del). */
  ns: string | null;
  lines: string[];
  note?: string;
}

/** The steps for one VPC, run in order; a failing step stops its group only. */
export interface StepGroup {
  vpcId: string;
  /** The VPC left the document: its router namespace is being removed. */
  removal: boolean;
  steps: Step[];
  /** Set when the VPC's part of the document cannot be planned (nothing is changed for it). */
  error?: string;
}

/** Sysctls of the whole router namespace; set before devices are created, so they inherit `default`. */
/** An LB node's VPC router picks up flows mid-stream (another node started them): no TCP window checks there. */
export const LB_SYSCTLS: [string, string][] = [['net.netfilter.nf_conntrack_tcp_be_liberal', '1']];

export const ROUTER_SYSCTLS: [string, string][] = [
  ['net.ipv4.ip_forward', '1'],
  ['net.ipv4.conf.default.forwarding', '1'],
  // rp_filter and arp_ignore are inherited from the machine's own settings; the
  // effective value is max(all, device), so both must be 0. nftables does the
  // source checks (anti-spoofing) instead, and the gateway on lo must answer ARP
  // arriving on a port.
  ['net.ipv4.conf.all.rp_filter', '0'],
  ['net.ipv4.conf.default.rp_filter', '0'],
  ['net.ipv4.conf.all.arp_ignore', '0'],
  ['net.ipv4.conf.default.arp_ignore', '0'],
  // ECMP spreads flows by their 5-tuple (the default hashes addresses only).
  ['net.ipv4.fib_multipath_hash_policy', '1'],
  // Instances are IPv4; the router takes no part in IPv6 (ports drop it anyway).
  ['net.ipv6.conf.all.disable_ipv6', '1'],
  ['net.ipv6.conf.default.disable_ipv6', '1'],
];

export const portSysctls = (ifname: string): [string, string][] => [
  [`net.ipv4.conf.${ifname}.forwarding`, '1'],
  [`net.ipv4.conf.${ifname}.proxy_arp`, '1'],
  [`net.ipv4.conf.${ifname}.rp_filter`, '0'],
  [`net.ipv4.conf.${ifname}.arp_ignore`, '0'],
  // Proxy ARP answers after a random delay of up to 0.8 s by default (there
  // is no neigh/default in a namespace other than the machine's own).
  [`net.ipv4.neigh.${ifname}.proxy_delay`, '0'],
];

export const tunnelSysctls = (ifname: string): [string, string][] => [
  [`net.ipv4.conf.${ifname}.forwarding`, '1'],
  [`net.ipv4.conf.${ifname}.rp_filter`, '0'],
];

/** Sysctl keys to read in a router namespace holding these links. */
export function sysctlKeys(links: LinkState[]): string[] {
  const keys = ROUTER_SYSCTLS.map(([k]) => k);
  for (const l of links) if (l.name !== 'lo') keys.push(...portSysctls(l.name).map(([k]) => k));
  return keys;
}

/**
 * A gateway's VPC router is joined to the gateway's own namespace (where the
 * internet is) by a veth: `pub0` in the router, `x<vni>` on the gateway. No
 * addresses: each side routes to an address nobody has, resolved by a
 * permanent neighbour to the other end's MAC (as peering links do).
 */
export const gatewayLinkName = (vni: number) => `x${vni}`;
export const isGatewayLinkName = (name: string) => /^x\d+$/.test(name);
const GATEWAY_ROOT_MAC = '0a:ef:00:00:00:01';
const GATEWAY_ROUTER_MAC = '0a:ef:00:00:00:02';
const GATEWAY_ROOT_HOP = '169.254.0.1'; // the gateway's end, as the router sees it
const GATEWAY_ROUTER_HOP = '169.254.0.2'; // the router's end, as the gateway sees it

export const portAlias = (p: Port, peer: string) => `weft:${p.instanceId},${p.ip}/${p.prefix},${macText(p.mac)},${p.gateway},${peer}`;
export const aliasInstance = (alias: string | undefined) => /^weft:([^,]+),/.exec(alias ?? '')?.[1];

/**
 * The plan for a whole host: one group per VPC in the document, one per VPC
 * gone from it (first). With `only`, the groups of those VPCs alone (the
 * driver's cheap tier: `actual` then holds only their routers, and those of
 * VPCs gone); the gateway or LB node's own namespace is planned either way.
 */
export function planHost(
  doc: HostDocument,
  actual: HostState,
  ctx: DriverContext,
  limitShares: ReadonlyMap<string, LimitShare> = new Map(),
  only?: ReadonlySet<string>,
): StepGroup[] {
  const wanted = new Set(doc.vpcs.map((v) => v.vpcId));
  const removals: StepGroup[] = [];
  for (const [ns, state] of Object.entries(actual.routers).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const vpcId = routerVpcOf(ctx.prefix, ctx.hostName, ns);
    if (vpcId && !wanted.has(vpcId)) removals.push(planRemoval(vpcId, ns, state, actual, ctx));
  }
  const groups = doc.vpcs.filter((v) => !only || only.has(v.vpcId)).map((vpc): StepGroup => {
    try {
      return { vpcId: vpc.vpcId, removal: false, steps: planVpc(vpc, doc, actual, ctx) };
    } catch (e) {
      return { vpcId: vpc.vpcId, removal: false, steps: [], error: (e as Error).message };
    }
  });
  // An LB node's own namespace: the public VIPs it announces.
  if (doc.role === 'lb' && actual.gateway && ctx.hostNs) {
    const lines = planLbAnnouncements(doc, actual.gateway.tableRoutes, ANNOUNCE_TABLE);
    groups.push({ vpcId: '(LB node)', removal: false, steps: nonEmpty([{ kind: 'ip', ns: ctx.hostNs, lines, note: 'public VIPs announced' }]) });
  } else if (actual.gateway && ctx.hostNs) {
    // The gateway node's own namespace last: its reply routes go over the VPC routers' links made above.
    try {
      const nat = planGatewayNat(doc, actual.gateway, gatewayLinkName);
      const limits = planLimits(limitClasses(doc, limitShares), actual.gateway.limits ?? { htbRoot: false, classes: [] }, qosClasses(doc));
      const steps = nonEmpty([
        { kind: 'nft', ns: ctx.hostNs, lines: nat.nft ? nat.nft.trimEnd().split('\n') : [], note: 'NAT gateways: replace table ip weftnat' },
        { kind: 'ip', ns: ctx.hostNs, lines: nat.ip, note: 'NAT gateways: reply tables and announced EIPs' },
        { kind: 'tc', ns: ctx.hostNs, lines: limits.tc, note: "EIP limits: this node's shares" },
        { kind: 'nft', ns: ctx.hostNs, lines: limits.nft ? limits.nft.trimEnd().split('\n') : [], note: 'EIP limits: replace table ip weftqos' },
      ]);
      groups.push({ vpcId: '(gateway node)', removal: false, steps });
    } catch (e) {
      groups.push({ vpcId: '(gateway node)', removal: false, steps: [], error: (e as Error).message });
    }
  }
  return [...removals, ...groups];
}

function planRemoval(vpcId: string, ns: string, state: RouterState, actual: HostState, ctx: DriverContext): StepGroup {
  // Links are deleted explicitly first: a namespace dies asynchronously, and the
  // VNI's socket and the instances' peers should be gone when this returns.
  const links = state.links.filter((l) => l.name !== 'lo');
  const instances = unique(links.map((l) => aliasInstance(l.alias)).filter((i): i is string => !!i)).map((i) => instanceNs(ctx.prefix, i));
  return {
    vpcId,
    removal: true,
    steps: nonEmpty([
      { kind: 'ip', ns, lines: links.filter((l) => !isPeeringAlias(l.alias)).map((l) => `link del ${l.name}`) },
      // Two routers removed together share their link: the first takes both ends.
      { kind: 'link-del', ns, lines: links.filter((l) => isPeeringAlias(l.alias)).map((l) => l.name) },
      { kind: 'netns-del', ns: null, lines: [ns] },
      { kind: 'instance-gc', ns: null, lines: instances.filter((i) => actual.namespaces.includes(i)) },
    ]),
  };
}

interface PortPlan {
  port: Port;
  ns: string;
  peer: string;
  alias: string;
}

export function planVpc(vpc: VpcContext, doc: HostDocument, actual: HostState, ctx: DriverContext): Step[] {
  validate(vpc, doc);
  const R = routerNs(ctx.prefix, ctx.hostName, vpc.vpcId);
  const have = actual.routers[R];
  const a = have ?? emptyRouter();
  const vx = vxlanName(vpc.vni);
  const routerMac = macText(vpc.routerMac);

  // Ports and the names of their instance-side interfaces (eth0, eth1 … per instance).
  const perInstance = new Map<string, number>();
  const ports: PortPlan[] = vpc.ports.map((port) => {
    const n = perInstance.get(port.instanceId) ?? 0;
    perInstance.set(port.instanceId, n + 1);
    const peer = `eth${n}`;
    return { port, ns: instanceNs(ctx.prefix, port.instanceId), peer, alias: portAlias(port, peer) };
  });
  const portByIf = new Map(ports.map((p) => [p.port.ifname, p]));
  const peerLinks: LinkPlan[] = (vpc.peerings ?? []).map((l) => linkPlan(doc, actual, vpc, R, routerNs(ctx.prefix, ctx.hostName, l.peerVpcId), l));
  const linkByIf = new Map(peerLinks.map((lp) => [lp.link.ifname, lp]));

  // On a gateway (or an LB node, for public VIPs): the link to its own namespace, right when both ends are veths with their MACs.
  const lbVpc = doc.role === 'lb' && vpc.loadBalancers !== undefined;
  const gatewayVpc = (doc.role === 'gateway' && vpc.eips !== undefined) || lbVpc;
  const xName = gatewayLinkName(vpc.vni);
  const rootEnd = actual.hostLinks.find((l) => l.name === xName);
  const routerEnd = a.links.find((l) => l.name === PUBLIC_LINK);
  const publicLinkOk =
    gatewayVpc && rootEnd?.kind === 'veth' && rootEnd.mac === GATEWAY_ROOT_MAC && routerEnd?.kind === 'veth' && routerEnd.mac === GATEWAY_ROUTER_MAC;
  // A macvlan over the tunnel (made again with the tunnel): on a gateway, the router answers the VPC's owner MAC
  // there; on an LB node, it sends to the hosts from the node's own MAC, so that replies come back to this node.
  const macLink =
    doc.role === 'gateway' && gatewayVpc && vpc.ownerMac
      ? { name: NAT_LINK, mac: macText(vpc.ownerMac) }
      : lbVpc && doc.lbNode
        ? { name: LB_LINK, mac: macText(lbNodeMac(vpc.vni, doc.lbNode)) }
        : undefined;
  const macEnd = macLink && a.links.find((l) => l.name === macLink.name);

  // ---- links ----
  const linkDel: string[] = [];
  const peerDel: string[] = [];
  const gone = new Set<string>(); // links deleted or (re)created: whatever hung on them is gone too
  const gcInstances = new Set<string>();
  const create: PortPlan[] = [];
  const links = new Map(a.links.map((l) => [l.name, l]));
  let vxNew = false;
  for (const l of a.links) {
    if (l.name === 'lo') continue;
    if (l.name === vx) {
      const v = l.vxlan;
      if (l.kind !== 'vxlan' || !v || v.id !== vpc.vni || v.local !== doc.underlay || v.port !== VXLAN_PORT || v.learning !== false) {
        linkDel.push(`link del ${vx}`);
        gone.add(vx);
        vxNew = true;
      }
      continue;
    }
    if (l.name === PUBLIC_LINK && publicLinkOk) continue;
    if (macLink && l.name === macLink.name && l.kind === 'macvlan' && l.mac === macLink.mac) continue;
    const lp = linkByIf.get(l.name);
    if (lp || isPeeringAlias(l.alias)) {
      if (lp?.ok) continue;
      peerDel.push(l.name);
      gone.add(l.name);
      continue;
    }
    const want = portByIf.get(l.name);
    // A port whose instance namespace lost its name (deleted while a process kept it alive) is re-plugged too.
    if (want && l.kind === 'veth' && l.alias === want.alias && actual.namespaces.includes(want.ns)) continue;
    linkDel.push(`link del ${l.name}`);
    gone.add(l.name);
    const inst = aliasInstance(l.alias);
    if (inst) gcInstances.add(inst);
  }
  if (!links.has(vx)) vxNew = true;
  for (const p of ports) if (!links.has(p.port.ifname) || gone.has(p.port.ifname)) create.push(p);
  for (const p of create) gone.add(p.port.ifname);
  if (vxNew) gone.add(vx);
  // A link that is not right is made again (by the later VPC's plan): nothing on it survives.
  for (const lp of peerLinks) if (!lp.ok) gone.add(lp.link.ifname);

  const nsAdd = unique([...(have ? [] : [R]), ...create.map((p) => p.ns).filter((n) => !actual.namespaces.includes(n))]);
  // An instance namespace that already exists may still hold an interface of that name
  // (plugged by another host before the instance moved, or left by hand).
  const nsReset = create.filter((p) => actual.namespaces.includes(p.ns)).map((p) => `${p.ns} ${p.peer}`);

  // ---- the rest of the router namespace ----
  const main: string[] = [];
  for (const p of create) {
    main.push(
      `link add ${p.port.ifname} mtu ${INSTANCE_MTU} type veth peer name ${p.peer} netns ${p.ns} address ${macText(p.port.mac)} mtu ${INSTANCE_MTU}`,
      `link set ${p.port.ifname} alias ${p.alias}`,
    );
  }
  const lo = links.get('lo');
  if (!lo?.up) main.push('link set lo up');
  const gatewayHostPre: string[] = [];
  if (gatewayVpc) {
    if (!publicLinkOk) {
      if (rootEnd) gatewayHostPre.push(`link del ${xName}`);
      main.push(`link add ${PUBLIC_LINK} address ${GATEWAY_ROUTER_MAC} mtu ${INSTANCE_MTU} type veth peer name ${xName} netns ${ctx.hostNs} address ${GATEWAY_ROOT_MAC} mtu ${INSTANCE_MTU}`);
      gone.add(PUBLIC_LINK);
    }
    if (!publicLinkOk || !routerEnd?.up) main.push(`link set ${PUBLIC_LINK} up`);
  }
  const macOk = !!macLink && macEnd?.kind === 'macvlan' && macEnd.mac === macLink.mac && !gone.has(vx);
  if (macLink && !macOk) {
    main.push(`link add ${macLink.name} link ${vx} address ${macLink.mac} mtu ${INSTANCE_MTU} type macvlan mode private`);
    gone.add(macLink.name);
  }
  if (macLink && !(macOk && macEnd?.up)) main.push(`link set ${macLink.name} up`);
  const vxLink = vxNew ? undefined : links.get(vx);
  if (vxLink && vxLink.mac !== routerMac) main.push(`link set ${vx} address ${routerMac}`);
  if (vxLink && vxLink.mtu !== INSTANCE_MTU) main.push(`link set ${vx} mtu ${INSTANCE_MTU}`);
  if (!vxLink?.up) main.push(`link set ${vx} up`);
  for (const p of ports) {
    const l = gone.has(p.port.ifname) ? undefined : links.get(p.port.ifname);
    if (l && l.mtu !== INSTANCE_MTU) main.push(`link set ${l.name} mtu ${INSTANCE_MTU}`);
    if (!l?.up) main.push(`link set ${p.port.ifname} up`);
  }
  const okLinks = peerLinks.filter((lp) => lp.ok).map((lp) => ({ lp, l: links.get(lp.link.ifname)! }));
  for (const { l } of okLinks) {
    if (l.mtu !== INSTANCE_MTU) main.push(`link set ${l.name} mtu ${INSTANCE_MTU}`);
    if (!l.up) main.push(`link set ${l.name} up`);
  }

  // Gateways on lo: the kernel answers ARP for a local address on any interface.
  // On an LB node, its VIPs and health-check source too; on a probing host, the network detections' sources here.
  const gateways = unique([...vpc.subnets.map((s) => `${s.gateway}/32`), ...lbLocalAddresses(vpc, doc), ...(vpc.netDetects ?? []).flatMap((d) => d.local.map((ip) => `${ip}/32`))]);
  for (const addr of a.loAddrs) if (!gateways.includes(addr)) main.push(`addr del ${addr} dev lo`);
  for (const addr of gateways) if (!a.loAddrs.includes(addr)) main.push(`addr add ${addr} dev lo`);

  // Routes: /32 per instance, local ones to the port, remote ones into the tunnel.
  interface RouteWant {
    dev: string;
    gateway?: string;
  }
  const routes = new Map<string, RouteWant>();
  const neigh = new Map<string, { dev: string; dst: string; lladdr: string }>();
  for (const p of vpc.ports) {
    routes.set(`${p.ip}/32`, { dev: p.ifname });
    neigh.set(`${p.ifname} ${p.ip}`, { dev: p.ifname, dst: p.ip, lladdr: macText(p.mac) });
  }
  // The static next hop of each peering link: the peer end's MAC.
  for (const { lp } of okLinks) neigh.set(`${lp.link.ifname} ${PEERING_GATEWAY}`, { dev: lp.link.ifname, dst: PEERING_GATEWAY, lladdr: macText(lp.link.peerMac) });
  const fdb = new Map<string, string>();
  // An LB node reaches the instances from its own MAC (the macvlan); the tunnel's FDB still carries the frames.
  const toRemotes = lbVpc && macLink ? macLink.name : vx;
  for (const r of vpc.remotes) {
    if (routes.has(`${r.ip}/32`)) continue; // a local port wins over a stale remote entry
    routes.set(`${r.ip}/32`, { dev: toRemotes, gateway: r.ip });
    neigh.set(`${toRemotes} ${r.ip}`, { dev: toRemotes, dst: r.ip, lladdr: macText(r.routerMac) });
    fdb.set(macText(r.routerMac), r.underlay);
  }
  // Internal VIPs: to the LB cluster (any node; the fabric's ECMP picks). Proxy ARP answers for them on the ports.
  if (vpc.lbVips) {
    for (const vip of vpc.lbVips.vips) if (!routes.has(`${vip}/32`)) routes.set(`${vip}/32`, { dev: vx, gateway: LB_GATEWAY });
    neigh.set(`${vx} ${LB_GATEWAY}`, { dev: vx, dst: LB_GATEWAY, lladdr: macText(vpc.lbVips.routerMac) });
    fdb.set(macText(vpc.lbVips.routerMac), vpc.lbVips.underlay);
  }
  // Each LB node, for the replies of the flows it brought here (route-tables.ts LB_MARK).
  if (vpc.ports.length)
    for (const n of vpc.lbNodes ?? []) {
      neigh.set(`${vx} ${lbNodeHop(n.node)}`, { dev: vx, dst: lbNodeHop(n.node), lladdr: macText(n.mac) });
      fdb.set(macText(n.mac), n.underlay);
    }
  // On a gateway: what is not the VPC's leaves towards the gateway's namespace (translated by the eip table).
  if (gatewayVpc) {
    routes.set('0.0.0.0/0', { dev: PUBLIC_LINK, gateway: GATEWAY_ROOT_HOP });
    neigh.set(`${PUBLIC_LINK} ${GATEWAY_ROOT_HOP}`, { dev: PUBLIC_LINK, dst: GATEWAY_ROOT_HOP, lladdr: GATEWAY_ROOT_MAC });
  }
  // The gateway cluster, for ports with an elastic IP (route-tables.ts PUBLIC_TABLE).
  if (vpc.publicGateway) {
    neigh.set(`${vx} ${PUBLIC_GATEWAY}`, { dev: vx, dst: PUBLIC_GATEWAY, lladdr: macText(vpc.publicGateway.routerMac) });
    fdb.set(macText(vpc.publicGateway.routerMac), vpc.publicGateway.underlay);
  }
  // The VPC's owner node, for routes to a NAT gateway and pinned EIPs (route-tables.ts OWNER_GATEWAY).
  if (vpc.ownerGateway) {
    neigh.set(`${vx} ${OWNER_GATEWAY}`, { dev: vx, dst: OWNER_GATEWAY, lladdr: macText(vpc.ownerGateway.routerMac) });
    fdb.set(macText(vpc.ownerGateway.routerMac), vpc.ownerGateway.underlay);
  }
  const liveRoutes = a.routes.filter((r) => r.protocol !== 'kernel' && !(r.dev && gone.has(r.dev)));
  const routeOk = (r: RouterState['routes'][number], w: RouteWant) =>
    r.type === 'unicast' && r.dev === w.dev && r.gateway === w.gateway && (w.gateway ? r.onlink : true);
  for (const r of liveRoutes) {
    const w = routes.get(r.dst);
    if (w && routeOk(r, w)) continue;
    // Another entry for a wanted destination is left to `route replace`, unless a good one exists too.
    if (w && !liveRoutes.some((x) => x.dst === r.dst && routeOk(x, w))) continue;
    main.push(`route del ${r.type === 'unicast' ? '' : `${r.type} `}${r.dst}${r.dev ? ` dev ${r.dev}` : ''}`);
  }
  for (const [dst, w] of routes) {
    if (liveRoutes.some((r) => r.dst === dst && routeOk(r, w))) continue;
    main.push(w.gateway ? `route replace ${dst} via ${w.gateway} dev ${w.dev} onlink` : `route replace ${dst} dev ${w.dev}`);
  }

  // Neighbours: permanent, so nothing is ever resolved by ARP inside the VPC.
  const liveNeigh = a.neighbours.filter((n) => !gone.has(n.dev));
  for (const n of liveNeigh) if (n.permanent && !neigh.has(`${n.dev} ${n.dst}`)) main.push(`neigh del ${n.dst} dev ${n.dev}`);
  for (const w of neigh.values()) {
    const ok = liveNeigh.some((n) => n.dev === w.dev && n.dst === w.dst && n.permanent && n.lladdr === w.lladdr);
    if (!ok) main.push(`neigh replace ${w.dst} lladdr ${w.lladdr} dev ${w.dev} nud permanent`);
  }

  // FDB of the tunnel: one entry per remote host, nothing to flood to.
  const bridge: string[] = [];
  const liveFdb = gone.has(vx) ? [] : a.fdb.filter((f) => f.dev === vx);
  const fdbOk = (f: (typeof liveFdb)[number]) => f.permanent && f.dst !== undefined && fdb.get(f.mac) === f.dst;
  for (const f of liveFdb) if (!fdbOk(f)) bridge.push(`fdb del ${f.mac} dev ${vx}${f.dst ? ` dst ${f.dst}` : ''} self`);
  for (const [m, dst] of fdb) if (!liveFdb.some((f) => f.mac === m && fdbOk(f))) bridge.push(`fdb replace ${m} dev ${vx} dst ${dst} self permanent`);

  // On a gateway: its EIPs route into this router, over the link's gateway end.
  const gatewayHostPost: string[] = [];
  if (gatewayVpc) {
    const fresh = !publicLinkOk;
    if (fresh || !rootEnd?.up) gatewayHostPost.push(`link set ${xName} up`);
    const want = new Set([...(vpc.eips ?? []).map((e) => e.publicIp), ...publicVips(vpc)].map((ip) => `${ip}/32`));
    const have = fresh ? [] : (actual.hostRoutes ?? []).filter((r) => r.dev === xName);
    const right = (r: RouteState) => r.type === 'unicast' && r.gateway === GATEWAY_ROUTER_HOP && r.onlink && want.has(r.dst);
    for (const r of have) if (!right(r)) gatewayHostPost.push(`route del ${r.dst} dev ${xName}`);
    for (const dst of want) if (!have.some((r) => r.dst === dst && right(r))) gatewayHostPost.push(`route replace ${dst} via ${GATEWAY_ROUTER_HOP} dev ${xName} onlink`);
    const hop = fresh ? undefined : (actual.hostNeighbours ?? []).find((n) => n.dev === xName && n.dst === GATEWAY_ROUTER_HOP);
    if (!hop?.permanent || hop.lladdr !== GATEWAY_ROUTER_MAC) gatewayHostPost.push(`neigh replace ${GATEWAY_ROUTER_HOP} lladdr ${GATEWAY_ROUTER_MAC} dev ${xName} nud permanent`);
  }

  // ---- sysctls ----
  const sysctlDiff = (want: [string, string][], fresh: boolean) => want.filter(([k, v]) => fresh || a.sysctl[k] !== v).map(([k, v]) => `${k}=${v}`);
  const routerSysctls = ctx.ipv6 === false ? ROUTER_SYSCTLS.filter(([k]) => !k.startsWith('net.ipv6.')) : ROUTER_SYSCTLS;
  const pre = sysctlDiff(routerSysctls, !have);
  const post = [
    ...sysctlDiff(tunnelSysctls(vx), gone.has(vx)),
    ...ports.flatMap((p) => sysctlDiff(portSysctls(p.port.ifname), gone.has(p.port.ifname))),
    ...okLinks.flatMap(({ lp }) => sysctlDiff(tunnelSysctls(lp.link.ifname), false)),
    ...(gatewayVpc ? sysctlDiff(tunnelSysctls(PUBLIC_LINK), !publicLinkOk) : []),
    ...(macLink ? sysctlDiff(tunnelSysctls(macLink.name), gone.has(macLink.name)) : []),
    // An LB node picks up a flow that another node started (ECMP moved it): no TCP window checks.
    ...(lbVpc ? sysctlDiff(LB_SYSCTLS, !have) : []),
  ];

  // ---- peering links this plan makes (both ends), and the route tables ----
  const made = peerLinks.filter((lp) => !lp.ok && lp.maker);
  const making = made.map((lp) => ({ lp, ...makeLinkLines(vpc, lp) }));
  const theirEnd = (lp: LinkPlan) => actual.routers[lp.peerNs]?.links.some((l) => l.name === lp.link.ifname) ?? false;
  const usable = (ifname: string) => {
    if (create.some((p) => p.port.ifname === ifname)) return true; // plugged by this plan, its carrier is up before the routes go in
    const l = links.get(ifname);
    return !!l && !gone.has(ifname) && l.up && !l.noCarrier;
  };
  const deferred = new Set(peerLinks.filter((lp) => !lp.ok && !lp.maker).map((lp) => lp.link.ifname));
  const routing = planRouting(routingWant(vpc, { portUsable: usable, deferredLinks: deferred }), a, gone);

  // ---- nftables ----
  const nft = planNft(desiredTables(vpc), a.nft);
  const lbNft = lbVpc || a.lbDigest !== undefined ? planLbTable(vpc, a.lbDigest, ctx.lbApplied?.get(R)) : [];

  // ---- the VXLAN device: created where its UDP socket must live, then moved ----
  const hostLines: string[] = [];
  if (vxNew) {
    if (actual.hostLinks.some((l) => l.name === vx)) hostLines.push(`link del ${vx}`);
    hostLines.push(
      `link add ${vx} address ${routerMac} mtu ${INSTANCE_MTU} type vxlan id ${vpc.vni} local ${doc.underlay} dstport ${VXLAN_PORT} nolearning`,
      `link set ${vx} netns ${R}`,
    );
  }

  // Removed ports: their instance namespaces go too, unless another port here still uses them.
  const keep = new Set(vpc.ports.map((p) => p.instanceId));
  const gc = [...gcInstances].filter((i) => !keep.has(i)).map((i) => instanceNs(ctx.prefix, i)).filter((n) => actual.namespaces.includes(n));

  return nonEmpty([
    { kind: 'netns-add', ns: null, lines: nsAdd },
    { kind: 'sysctl', ns: R, lines: pre },
    // Rules before ports: a new port is never up without its chains.
    { kind: 'nft', ns: R, lines: nft ? nft.text.trimEnd().split('\n') : [], note: nft ? nftNote(nft) : undefined },
    { kind: 'ip', ns: R, lines: linkDel },
    { kind: 'link-del', ns: R, lines: peerDel },
    { kind: 'ip', ns: ctx.hostNs, lines: [...hostLines, ...gatewayHostPre] },
    { kind: 'instance-reset', ns: null, lines: nsReset },
    { kind: 'ip', ns: R, lines: main },
    { kind: 'ip', ns: ctx.hostNs, lines: gatewayHostPost, note: 'the gateway: EIPs into this VPC' },
    { kind: 'bridge', ns: R, lines: bridge },
    { kind: 'nft', ns: R, lines: lbNft, note: 'load balancers: replace tables ip weftlb, weftlbd' },
    { kind: 'sysctl', ns: R, lines: post },
    ...create.map(
      (p): Step => ({
        kind: 'ip',
        ns: p.ns,
        lines: [
          `addr add ${p.port.ip}/${p.port.prefix} dev ${p.peer}`,
          `link set ${p.peer} up`,
          'link set lo up',
          ...(p.peer === 'eth0' ? [`route replace default via ${p.port.gateway} dev ${p.peer}`] : []),
        ],
      }),
    ),
    ...making.flatMap(({ lp, here, there }): Step[] => [
      { kind: 'link-del', ns: lp.peerNs, lines: theirEnd(lp) ? [lp.link.ifname] : [], note: `${lp.link.peeringId}: the peer's end` },
      { kind: 'ip', ns: R, lines: here, note: `${lp.link.peeringId}: link to ${lp.link.peerVpcId}` },
      { kind: 'ip', ns: lp.peerNs, lines: there, note: `${lp.link.peeringId}: ${lp.link.peerVpcId}'s end and routes` },
      { kind: 'sysctl', ns: R, lines: tunnelSysctls(lp.link.ifname).map(([k, v]) => `${k}=${v}`) },
      { kind: 'sysctl', ns: lp.peerNs, lines: tunnelSysctls(lp.link.ifname).map(([k, v]) => `${k}=${v}`) },
    ]),
    // Routes last: a next-hop object needs its port's carrier, which the instance side brings up.
    { kind: 'ip', ns: R, lines: routing },
    { kind: 'instance-gc', ns: null, lines: gc },
  ]);
}

function nftNote(c: { replaced: string[]; sets: string[] }): string {
  return [...c.replaced.map((t) => `replace table ${t}`), ...c.sets.map((s) => `update set ${s}`)].join('; ');
}

const MAC = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/;

/** What the document must satisfy before anything derived from it reaches a command line. */
function validate(vpc: VpcContext, doc: HostDocument): void {
  checkName('VPC ID', vpc.vpcId);
  if (!/^vpc-[a-z0-9]+$/.test(vpc.vpcId)) throw new Error(`invalid VPC ID ${JSON.stringify(vpc.vpcId)}`);
  if (!Number.isInteger(vpc.vni) || vpc.vni < 1 || vpc.vni > 0xffffff) throw new Error(`${vpc.vpcId}: invalid VNI ${vpc.vni}`);
  if (parseIp(doc.underlay) === undefined) throw new Error(`invalid underlay address ${JSON.stringify(doc.underlay)}`);
  if (!MAC.test(vpc.routerMac)) throw new Error(`${vpc.vpcId}: invalid routerMac ${JSON.stringify(vpc.routerMac)}`);
  for (const s of vpc.subnets) if (parseIp(s.gateway) === undefined) throw new Error(`${s.subnetId}: invalid gateway ${JSON.stringify(s.gateway)}`);
  const ifnames = new Set<string>();
  for (const p of vpc.ports) {
    checkName('instance ID', p.instanceId);
    checkIfname(p.ifname);
    if (p.ifname === 'lo' || p.ifname === vxlanName(vpc.vni) || ifnames.has(p.ifname)) throw new Error(`${p.instanceId}: interface name ${p.ifname} is taken`);
    ifnames.add(p.ifname);
    if (parseIp(p.ip) === undefined || parseIp(p.gateway) === undefined) throw new Error(`${p.instanceId}: invalid address`);
    if (!Number.isInteger(p.prefix) || p.prefix < 1 || p.prefix > 32) throw new Error(`${p.instanceId}: invalid prefix ${p.prefix}`);
    if (!MAC.test(p.mac)) throw new Error(`${p.instanceId}: invalid MAC ${JSON.stringify(p.mac)}`);
    for (const sg of p.securityGroups) checkName('security group ID', sg);
  }
  for (const r of vpc.remotes) {
    if (parseIp(r.ip) === undefined || parseIp(r.underlay) === undefined) throw new Error(`${r.instanceId}: invalid remote address`);
    if (!MAC.test(r.routerMac)) throw new Error(`${r.instanceId}: invalid routerMac ${JSON.stringify(r.routerMac)}`);
  }
  for (const p of vpc.ports) if (p.publicIp !== undefined && parseIp(p.publicIp) === undefined) throw new Error(`${p.instanceId}: invalid public address ${JSON.stringify(p.publicIp)}`);
  for (const e of vpc.eips ?? [])
    if (parseIp(e.publicIp) === undefined || parseIp(e.privateIp) === undefined) throw new Error(`${e.instanceId}: invalid elastic IP ${JSON.stringify(e)}`);
  for (const g of [vpc.publicGateway, vpc.ownerGateway])
    if (g && (parseIp(g.underlay) === undefined || !MAC.test(g.routerMac))) throw new Error(`${vpc.vpcId}: invalid gateway cluster ${JSON.stringify(g)}`);
  if (vpc.ownerMac !== undefined && !MAC.test(vpc.ownerMac)) throw new Error(`${vpc.vpcId}: invalid owner MAC ${JSON.stringify(vpc.ownerMac)}`);
  const cidr = (what: string, c: string) => {
    if (!parseCidr(c)) throw new Error(`${what}: invalid CIDR ${JSON.stringify(c)}`);
  };
  if (vpc.cidr !== undefined) cidr(`${vpc.vpcId} CIDR`, vpc.cidr);
  for (const s of vpc.subnets) {
    checkName('subnet ID', s.subnetId);
    cidr(s.subnetId, s.cidr);
    if (s.routeTableId !== undefined && !(vpc.routeTables ?? []).some((t) => t.routeTableId === s.routeTableId))
      throw new Error(`${s.subnetId}: route table ${s.routeTableId} is not in the document`);
    if (s.networkAclId !== undefined) checkName('network ACL ID', s.networkAclId);
  }
  for (const p of vpc.ports) for (const c of p.routedCidrs ?? []) cidr(`${p.instanceId} routed`, c);
  for (const t of vpc.routeTables ?? []) {
    checkName('route table ID', t.routeTableId);
    checkRouteTable(t, t.routeTableId);
    for (const r of t.routes)
      if (r.kind === 'peering' && !(vpc.peerings ?? []).some((l) => l.peeringId === r.peeringId))
        throw new Error(`${t.routeTableId} ${r.destination}: peering ${r.peeringId} has no link here`);
  }
  for (const id of Object.keys(vpc.networkAcls ?? {})) checkName('network ACL ID', id);
  for (const l of vpc.peerings ?? []) {
    checkName('peering ID', l.peeringId);
    if (!/^vpc-[a-z0-9]+$/.test(l.peerVpcId) || l.peerVpcId === vpc.vpcId) throw new Error(`${l.peeringId}: invalid peer VPC ${JSON.stringify(l.peerVpcId)}`);
    checkIfname(l.ifname);
    if (l.ifname === 'lo' || l.ifname === vxlanName(vpc.vni) || ifnames.has(l.ifname)) throw new Error(`${l.peeringId}: interface name ${l.ifname} is taken`);
    ifnames.add(l.ifname);
    if (!MAC.test(l.mac) || !MAC.test(l.peerMac)) throw new Error(`${l.peeringId}: invalid MAC`);
  }
  for (const [sg, rules] of Object.entries(vpc.securityGroups)) {
    checkName('security group ID', sg);
    for (const r of [...rules.ingress, ...rules.egress]) if (r.group) checkName('security group ID', r.group);
  }
}

const unique = <T>(xs: T[]) => [...new Set(xs)];
const nonEmpty = (steps: Step[]) => steps.filter((s) => s.lines.length > 0);
