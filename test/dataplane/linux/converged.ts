/** What the kernel holds once a document has been applied on h1 of region "wtab", as the driver reads it back (for the pure planner tests). */
import type { HostDocument } from '../../../src/contract/host-document.js';
import { desiredTables } from '../../../src/dataplane/linux/nft-ruleset.js';
import { peeringAlias } from '../../../src/dataplane/linux/peering.js';
import { ROUTER_SYSCTLS, portAlias, portSysctls, tunnelSysctls } from '../../../src/dataplane/linux/plan.js';
import { PEERING_GATEWAY, PUBLIC_GATEWAY, RESILIENT_BUCKETS, RESILIENT_IDLE_TIMER, fnv1a, routingWant } from '../../../src/dataplane/linux/route-tables.js';
import type { HostState, LinkState, NexthopState, RouteState, RouterState } from '../../../src/dataplane/linux/state.js';

const KERNEL_RULES = [
  { priority: 0, src: 'all', table: 'local', protocol: 'kernel' },
  { priority: 32766, src: 'all', table: 'main', protocol: 'kernel' },
  { priority: 32767, src: 'all', table: 'default', protocol: 'kernel' },
];

/** The route tables, next-hop objects and rules of a converged router, as the driver reads them back. */
function convergedRouting(v: HostDocument['vpcs'][number]): Pick<RouterState, 'tableRoutes' | 'rules' | 'nexthops'> {
  const want = routingWant(v, { portUsable: () => true, deferredLinks: new Set() });
  const nexthops: NexthopState[] = want.nexthops.map((n) =>
    n.via
      ? { id: n.id, gateway: n.via.gateway, dev: n.via.dev, onlink: true }
      : { id: n.id, onlink: false, group: n.group!, type: 'resilient', buckets: RESILIENT_BUCKETS, idleTimer: RESILIENT_IDLE_TIMER },
  );
  const tableRoutes: RouteState[] = [...want.routes].map(([key, w]) => {
    const [table, dst] = key.split(' ') as [string, string];
    if ('blackhole' in w) return { dst, type: 'blackhole', onlink: false, protocol: 'boot', table };
    if ('unreachable' in w) return { dst, type: 'unreachable', onlink: false, protocol: 'boot', table };
    if ('nhid' in w) return { dst, type: 'unicast', onlink: false, protocol: 'boot', table, nhid: w.nhid };
    return { dst, type: 'unicast', dev: w.dev, gateway: w.gateway, onlink: true, protocol: 'boot', table };
  });
  return { tableRoutes, rules: [...KERNEL_RULES, ...want.rules.map((r) => ({ ...r, protocol: 'boot' }))], nexthops };
}

/** Both ends of each peering link: a veth pair whose ends know each other's index. */
function peeringEnds(v: HostDocument['vpcs'][number]): LinkState[] {
  return (v.peerings ?? []).map((l) => {
    const base = 1000 + (fnv1a(l.peeringId) % 10000) * 2;
    const [mine, theirs] = v.vpcId < l.peerVpcId ? [base, base + 1] : [base + 1, base];
    return { name: l.ifname, kind: 'veth', mac: l.mac, mtu: 1500, up: true, alias: peeringAlias(l.peeringId, l.peerVpcId), ifindex: mine, peerIndex: theirs };
  });
}

/** The whole host once `doc` has been applied. */
export function converged(doc: HostDocument): HostState {
  const routers: Record<string, RouterState> = {};
  const namespaces = ['wtab-fab', 'wtab-h1'];
  for (const v of doc.vpcs) {
    const ns = `wtab-h1-${v.vpcId}`;
    namespaces.push(ns, ...v.ports.map((p) => `wtab-${p.instanceId}`));
    const vx = `vx${v.vni}`;
    const remoteHosts = new Map(v.remotes.map((r) => [r.routerMac, r.underlay]));
    const cluster = v.publicGateway && v.ports.some((p) => p.publicIp) ? v.publicGateway : undefined;
    if (cluster) remoteHosts.set(cluster.routerMac, cluster.underlay);
    routers[ns] = {
      links: [
        { name: 'lo', mac: '00:00:00:00:00:00', mtu: 65536, up: true },
        { name: vx, kind: 'vxlan', mac: v.routerMac, mtu: 1500, up: true, vxlan: { id: v.vni, local: doc.underlay, port: 4789, learning: false } },
        ...v.ports.map((p) => ({ name: p.ifname, kind: 'veth', mac: 'aa:aa:aa:aa:aa:aa', mtu: 1500, up: true, alias: portAlias(p, 'eth0') })),
        ...peeringEnds(v),
      ],
      loAddrs: v.subnets.map((s) => `${s.gateway}/32`),
      routes: [
        ...v.ports.map((p) => ({ dst: `${p.ip}/32`, type: 'unicast', dev: p.ifname, onlink: false, protocol: 'boot' })),
        ...v.remotes.map((r) => ({ dst: `${r.ip}/32`, type: 'unicast', dev: vx, gateway: r.ip, onlink: true, protocol: 'boot' })),
      ],
      neighbours: [
        ...v.ports.map((p) => ({ dst: p.ip, dev: p.ifname, lladdr: p.mac.toLowerCase(), permanent: true })),
        ...v.remotes.map((r) => ({ dst: r.ip, dev: vx, lladdr: r.routerMac, permanent: true })),
        { dst: '10.0.1.99', dev: 'p00000001', lladdr: 'aa:bb:cc:dd:ee:ff', permanent: false },
        ...(v.peerings ?? []).map((l) => ({ dst: PEERING_GATEWAY, dev: l.ifname, lladdr: l.peerMac, permanent: true })),
        ...(cluster ? [{ dst: PUBLIC_GATEWAY, dev: vx, lladdr: cluster.routerMac, permanent: true }] : []),
      ],
      ...convergedRouting(v),
      fdb: [...remoteHosts].map(([mac, dst]) => ({ mac, dev: vx, dst, permanent: true })),
      sysctl: Object.fromEntries([
        ...ROUTER_SYSCTLS,
        ...tunnelSysctls(vx),
        ...v.ports.flatMap((p) => portSysctls(p.ifname)),
        ...(v.peerings ?? []).flatMap((l) => tunnelSysctls(l.ifname)),
      ]),
      nft: desiredTables(v),
    };
  }
  return { namespaces, hostLinks: [{ name: 'u0', kind: 'veth', mac: 'aa:aa:aa:aa:aa:ab', mtu: 9000, up: true }], routers };
}

