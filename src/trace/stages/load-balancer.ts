/**
 * Load balancers (docs/load-balancers.md): a VIP's traffic reaches any LB
 * node, whose router for the VPC sends a new flow to the backend the
 * listener's Maglev table gives it, and the backend's replies come back to
 * that node to be translated back.
 *
 * On a host (ROUTER_STAGES):
 *   vipRoute     an internal VIP (VpcContext.lbVips): `VIP/32 via
 *                169.254.254.1 dev vx<vni> onlink`, over the tunnel to the LB
 *                cluster's address, to the cluster MAC (main table: like the
 *                instances' /32s it wins over every route table);
 *   returnRoute  a reply of a flow that arrived from LB node n's MAC (the host
 *                marks it n in conntrack): back over the tunnel to node n
 *                (VpcContext.lbNodes), before any other route — the client
 *                may be on this very host, and only the node can translate
 *                the reply back;
 *   lbTunnel     the frame: to the cluster address, where the fabric router's
 *                ECMP picks any LB node (the tracer takes one by its hash and
 *                names all), or to node n's own address and MAC.
 * On an LB node (LB_STAGES in trace.ts: the node's VPC routers have no ports):
 *   lbBalance    nft prerouting dstnat, `ip daddr . meta l4proto . th dport`
 *                → the listener; a new flow goes to the backend at the
 *                listener's Maglev slot `flowSlot(flow, tableSize)` (DNAT to
 *                backend ip:port, the client's source kept; conntrack keeps
 *                the flow there); a reply is translated back by its session
 *                (source = VIP:port). No listener, or an empty table: the VIP
 *                is an address of the router itself, which answers (ICMP
 *                echo reply, TCP reset, UDP port unreachable);
 *   lbRouting    an instance of the VPC: /32 over the tunnel to its host, sent
 *                from the node's own MAC (so that host marks the flow for this
 *                node); the reply of a public VIP: to the node's namespace and
 *                the internet router (then `internetExit`).
 */
import type { Listener, LoadBalancer } from '../../contract/host-document.js';
import { lbNodeMac } from '../../compile/compile.js';
import { LB_GATEWAY, LB_MARK, LB_RULE_PRIORITY, lbNodeHop, lbTable } from '../../dataplane/linux/route-tables.js';
import { chooseBackend, lbKey, lbNodeNumber, lbSessionFromBackend, listenerFor, vipOn, type LbChoice } from '../load-balancers.js';
import type { Packet } from '../model.js';
import { pickNode } from '../tables.js';
import type { Router } from '../world.js';
import type { RouteDetail } from './route.js';
import { describePacket, hop, next, type Outcome, type Stage, type Transit } from './stage.js';
import { tunnelDropped, type TunnelDetail } from './tunnel.js';

export interface LbDetail {
  /** balance: a new flow sent to a backend; reply: translated back by its session; no-listener / no-backend: the node answers for the VIP. */
  action: 'balance' | 'reply' | 'no-listener' | 'no-backend';
  /** The LB node (host ID) and its number. */
  lbNode: string;
  node: number;
  loadBalancerId: string;
  vip: string;
  public: boolean;
  listenerId?: string;
  /** The listener's protocol and port. */
  protocol?: 'tcp' | 'udp';
  port?: number;
  /** The Maglev table: its size, the flow's slot, how many backends it holds and how many targets are registered. */
  tableSize?: number;
  slot?: number;
  backends?: number;
  targets?: number;
  /** Registered targets left out of the table, and why. */
  excluded?: { ip: string; port: number; instanceId: string; why: 'weight 0' | 'unhealthy' }[];
  /** The backend chosen (balance: with its weight), or whose reply it is. */
  backend?: { ip: string; port: number; instanceId: string; weight?: number };
  /** The translation (`ip:port`). */
  from?: string;
  to?: string;
  /** no-listener: the listeners the VIP has (`tcp 80`). */
  listeners?: string[];
}

export interface LbTunnelDetail extends TunnelDetail {
  /** lb: to the cluster address (a VIP); lb-node: to one node (the reply of a flow it sent). */
  via: 'lb' | 'lb-node';
  /** The LB nodes the view knows. */
  lbNodes: string[];
  /** To the cluster: the fabric router's ECMP over the nodes — the tracer's hash and the member it takes. */
  ecmp?: { hash: number; index: number; note: string };
  /** The node number the frame reaches. */
  node?: number;
}

const endpoint = (ip: string, port?: number) => (port === undefined ? ip : `${ip}:${port}`);
const vxName = (r: Router) => `vx${r.vpc.vni}`;
const nodeOf = (r: Router) => lbNodeNumber(r.host);

/** An internal VIP on a host: the main table's `VIP/32` over the tunnel to the LB cluster. Undefined: not a VIP here. */
export function vipRoute(t: Transit, ttlExceeded: (t: Transit, d: RouteDetail) => Outcome): Outcome | undefined {
  const r = t.router;
  const lb = r.vpc.lbVips;
  const dst = t.packet.dst;
  if (!lb || !lb.vips.includes(dst)) return undefined;
  const detail: RouteDetail = { destination: dst, kind: 'lb', route: `${dst}/32 via ${LB_GATEWAY} dev ${vxName(r)} onlink` };
  if (t.packet.ttl <= 1) return ttlExceeded(t, detail);
  t.route = { kind: 'lb', underlay: lb.underlay, routerMac: lb.routerMac, vip: dst };
  return next(hop(t, 'route', 'forward', `route ${dst}/32 via ${vxName(r)}: ${dst} is a VIP of a load balancer of ${r.vpc.vpcId}, over the tunnel to the LB cluster at ${lb.underlay}`, detail));
}

/**
 * The reply of a balanced flow on the backend's host: the flow arrived from LB
 * node n's MAC and is marked n, so its replies go back to node n, whatever the
 * main table says of the client. Undefined: not such a reply.
 */
export function returnRoute(t: Transit, drop: (t: Transit, reason: string, d: RouteDetail) => Outcome): Outcome | undefined {
  const r = t.router;
  const s = lbSessionFromBackend(t.lbSessions, r.vpc.vpcId, t.packet);
  if (!s || !r.ports.has(s.backend.ip)) return undefined;
  const dst = t.packet.dst;
  const entry = r.vpc.lbNodes?.find((n) => n.node === s.node);
  const why = `the reply of a flow ${s.backend.instanceId} got from LB node ${s.node} (${s.hostId}) for ${s.loadBalancerId}: it arrived from that node's MAC, so conntrack marks it for node ${s.node}`;
  if (!entry) {
    const reason = `${why}, but ${r.hostId}'s document names no LB node ${s.node} (documents out of step): the reply has no way back to the node that translates it; dropped`;
    return drop(t, reason, { destination: dst, kind: 'none' });
  }
  const mark = `0x${(LB_MARK + s.node).toString(16)}`;
  const detail: RouteDetail = { destination: dst, kind: 'lb', route: `default via ${lbNodeHop(s.node)} dev ${vxName(r)} table ${lbTable(s.node)} (rule ${LB_RULE_PRIORITY}: fwmark ${mark})` };
  t.route = { kind: 'lb-node', node: s.node, underlay: entry.underlay, mac: entry.mac };
  const summary = `${why} (${mark}), which the reply carries as its packet mark; rule ${LB_RULE_PRIORITY} (fwmark ${mark}, before the main table) takes node ${s.node}'s table: default via ${lbNodeHop(s.node)} dev ${vxName(r)}, back to ${s.hostId} at ${entry.underlay}, which translates it back`;
  return next(hop(t, 'route', 'forward', summary, detail));
}

const WORDS = {
  router: 'fabric router',
  what: 'LB nodes',
  one: 'LB node',
  alike: 'every node chooses the same backend',
  note: "every LB node holds the LB cluster's address; the fabric router hashes the flow with its own function, so on Linux another node may take it — every node computes the same Maglev table, so the backend is the same",
};

/** The frame to the LB cluster (any node, by ECMP) or to one node. */
export const lbTunnel: Stage = {
  name: 'lb-tunnel',
  run(t) {
    const route = t.route;
    if (route?.kind !== 'lb' && route?.kind !== 'lb-node') return next();
    const r = t.router;
    const vni = r.vpc.vni;
    const nodes = t.world.lbNodes;
    const sentMac = route.kind === 'lb' ? route.routerMac : route.mac;
    const detail: LbTunnelDetail = { vni, fromHostId: r.hostId, fromUnderlay: r.host.underlay, toUnderlay: route.underlay, routerMac: sentMac, via: route.kind, lbNodes: [...nodes] };
    const via = `VXLAN VNI ${vni} from ${r.host.underlay} to ${route.underlay}`;
    let node: string;
    let why: string;
    if (route.kind === 'lb') {
      if (!nodes.length) return tunnelDropped(t, 'tunnel-no-host', `${via}, the LB cluster: no LB node is in the view to receive it; the frame is lost on the underlay`, detail);
      const pick = pickNode(nodes, t.packet, t.choose, WORDS);
      node = pick.node;
      why = pick.why;
      if (pick.ecmp) detail.ecmp = pick.ecmp;
    } else {
      const h = t.world.byUnderlay.get(route.underlay);
      const host = h === undefined ? undefined : t.world.hosts.get(h);
      if (!h || host?.role !== 'lb' || lbNodeNumber(host) !== route.node) {
        const what = !h ? 'no host has that address' : `${h} is not LB node ${route.node}`;
        return tunnelDropped(t, 'tunnel-no-host', `${via}, LB node ${route.node}: ${what} (documents out of step); the frame is lost`, detail);
      }
      node = h;
      why = `LB node ${route.node}, ${h}`;
    }
    detail.toHostId = node;
    detail.node = lbNodeNumber(t.world.hosts.get(node)!);
    const target = t.world.byVni.get(node)?.get(vni);
    if (!target) return tunnelDropped(t, 'tunnel-no-vpc', `${via} (${why}): ${node} has no router for ${r.vpc.vpcId} (VNI ${vni}) — its document holds no load balancer of the VPC (documents out of step); the frame is dropped`, detail);
    const expected = route.kind === 'lb' ? target.vpc.routerMac : lbNodeMac(vni, route.node);
    detail.receiverMac = expected;
    if (expected.toLowerCase() !== sentMac.toLowerCase()) {
      const whose = route.kind === 'lb' ? `the LB cluster MAC of ${r.vpc.vpcId}'s router on ${node}` : `${node}'s own MAC in ${r.vpc.vpcId}`;
      return tunnelDropped(t, 'tunnel-mac-mismatch', `${via} (${why}): the frame is addressed to ${sentMac} but ${whose} is ${expected}; not for it, dropped`, detail);
    }
    const mac = route.kind === 'lb' ? `the cluster MAC ${sentMac}` : `its own MAC ${sentMac}`;
    return {
      hop: hop(t, 'tunnel', 'forward', `${via} (${why}; ${mac}): ${describePacket(t.packet)}`, detail),
      to: { router: target, ingress: { kind: 'tunnel', fromHostId: r.hostId, vni, via: route.kind } },
    };
  },
};

function baseDetail(r: Router, lb: LoadBalancer, action: LbDetail['action']): LbDetail {
  return { action, lbNode: r.hostId, node: nodeOf(r), loadBalancerId: lb.loadBalancerId, vip: lb.vip, public: lb.public };
}

/** The node answers for its VIP itself: no listener for the packet, or a listener whose table is empty. */
function answer(t: Transit, code: 'lb-no-listener' | 'lb-no-backend', why: string, detail: LbDetail): Outcome {
  const p = t.packet;
  const kind = p.protocol === 'icmp' ? 'answers the echo itself' : `has no ${p.protocol} service there (${p.protocol === 'tcp' ? 'TCP reset' : 'ICMP port unreachable'})`;
  const reason = `${why}: the packet reaches ${p.dst}, an address of ${t.router.vpc.vpcId}'s router on ${t.router.hostId}, which ${kind}`;
  return { hop: hop(t, 'lb', 'answer', reason, detail), end: { verdict: 'answered', code, reason, hostId: t.router.hostId } };
}

function excludedText(c: LbChoice): string {
  if (!c.excluded.length) return '';
  const out = c.excluded.map((e) => `${lbKey(e.target)} (${e.target.instanceId}) ${e.why === 'weight 0' ? 'has weight 0 (draining)' : 'is unhealthy'}`);
  return `; left out: ${out.join(', ')}`;
}

function balance(t: Transit, lb: LoadBalancer, listener: Listener): Outcome {
  const r = t.router;
  const p = t.packet;
  const c = chooseBackend(listener, p);
  const detail: LbDetail = {
    ...baseDetail(r, lb, 'balance'),
    listenerId: listener.listenerId,
    protocol: listener.protocol,
    port: listener.port,
    tableSize: listener.tableSize,
    slot: c.slot,
    backends: c.backends.length,
    targets: listener.targets.length,
    ...(c.excluded.length ? { excluded: c.excluded.map((e) => ({ ip: e.target.ip, port: e.target.port, instanceId: e.target.instanceId, why: e.why })) } : {}),
  };
  const on = `listener ${listener.listenerId} (${listener.protocol} ${listener.port}) of ${lb.loadBalancerId} on ${r.hostId}`;
  if (!c.backend) {
    detail.action = 'no-backend';
    const none = listener.targets.length ? `none of its ${listener.targets.length} target(s) can take new flows${excludedText(c)}` : 'no target is registered';
    return answer(t, 'lb-no-backend', `${on}: its Maglev table is empty (${none})`, detail);
  }
  const b = c.backend;
  detail.backend = { ip: b.ip, port: b.port, instanceId: b.instanceId, weight: b.weight };
  detail.from = endpoint(p.dst, p.dstPort);
  detail.to = lbKey(b);
  const session = {
    vpcId: r.vpc.vpcId,
    hostId: r.hostId,
    node: nodeOf(r),
    loadBalancerId: lb.loadBalancerId,
    listenerId: listener.listenerId,
    protocol: p.protocol,
    public: lb.public,
    vip: { ip: p.dst, port: p.dstPort! },
    backend: { ip: b.ip, port: b.port, instanceId: b.instanceId },
    client: { ip: p.src, port: p.srcPort! },
  };
  t.lbSessions.push(session);
  const weights = new Set(c.backends.map((x) => x.weight)).size > 1 ? `, weight ${b.weight}` : '';
  const summary = `${on}: Maglev slot ${c.slot} of ${listener.tableSize} → backend ${lbKey(b)} (${b.instanceId}${weights}), one of ${c.backends.length} backend(s) in the table${excludedText(c)}; DNAT ${detail.from} → ${detail.to}, the client's source ${p.src} kept; conntrack keeps the flow there (every LB node computes the same table)`;
  return { hop: hop(t, 'lb', 'pass', summary, detail), rewrite: { ...p, dst: b.ip, dstPort: b.port } };
}

/** The LB node router's dstnat: a new flow to a VIP, or the reply of one, translated back. */
export const lbBalance: Stage = {
  name: 'lb',
  run(t) {
    if (t.ingress.kind === 'local') return next();
    const r = t.router;
    const p = t.packet;
    const s = lbSessionFromBackend(t.lbSessions, r.vpc.vpcId, p);
    if (s && s.hostId === r.hostId) {
      const lb = vipOn(r, s.vip.ip);
      const detail: LbDetail = {
        ...(lb ? baseDetail(r, lb, 'reply') : { action: 'reply', lbNode: r.hostId, node: nodeOf(r), loadBalancerId: s.loadBalancerId, vip: s.vip.ip, public: s.public }),
        listenerId: s.listenerId,
        backend: { ...s.backend },
        from: endpoint(p.src, p.srcPort),
        to: endpoint(s.vip.ip, s.vip.port),
      };
      const summary = `conntrack on ${r.hostId}: the reply of ${s.loadBalancerId}'s flow (listener ${s.listenerId}) from backend ${s.backend.instanceId}, translated back: source ${detail.from} → VIP ${detail.to}`;
      return { hop: hop(t, 'lb', 'pass', summary, detail), rewrite: { ...p, src: s.vip.ip, srcPort: s.vip.port } };
    }
    const lb = vipOn(r, p.dst);
    if (!lb) return next();
    const listener = listenerFor(lb, p);
    if (!listener) {
      const listeners = lb.listeners.map((l) => `${l.protocol} ${l.port}`);
      const detail: LbDetail = { ...baseDetail(r, lb, 'no-listener'), listeners };
      const what = p.protocol === 'icmp' ? 'icmp' : `${p.protocol} port ${p.dstPort}`;
      const has = listeners.length ? `it listens on ${listeners.join(', ')}` : 'it has no listener';
      const why = `${lb.loadBalancerId} (VIP ${lb.vip}) on ${r.hostId}: no listener for ${what} (${has}${p.protocol === 'icmp' ? '; listeners are TCP or UDP' : ''})`;
      return answer(t, 'lb-no-listener', why, detail);
    }
    return balance(t, lb, listener);
  },
};

/** The LB node router's routes: the VPC's instances over the tunnel (from the node's own MAC), a public VIP's replies to the internet. */
export const lbRouting: Stage = {
  name: 'lb-route',
  run(t) {
    const r = t.router;
    const p: Packet = t.packet;
    const remote = r.remotes.get(p.dst);
    if (remote) {
      t.route = { kind: 'tunnel', remote };
      const detail: RouteDetail = { destination: p.dst, kind: 'tunnel', route: `${p.dst}/32 via ${p.dst} dev ${vxName(r)} onlink`, instanceId: remote.instanceId, hostId: remote.hostId };
      const mark = vipOn(r, p.src)
        ? ''
        : `; sent from ${r.hostId}'s own MAC ${lbNodeMac(r.vpc.vni, nodeOf(r))}, so ${remote.hostId} marks the flow for node ${nodeOf(r)} and sends its replies back here`;
      return next(hop(t, 'route', 'forward', `route ${p.dst}/32 via ${vxName(r)}: ${remote.instanceId} is on host ${remote.hostId}${mark}`, detail));
    }
    if (vipOn(r, p.src)?.public) {
      t.route = { kind: 'internet' };
      const detail: RouteDetail = { destination: p.dst, kind: 'lb', route: 'default via the node namespace (public VIP)' };
      return next(hop(t, 'route', 'forward', `route default: from the public VIP ${p.src}, from ${r.vpc.vpcId}'s router to ${r.hostId}'s own namespace, where the internet is`, detail));
    }
    const vip = t.ingress.kind === 'tunnel' && t.ingress.via === 'lb';
    const reason = vip
      ? `${r.hostId} holds no load balancer of ${r.vpc.vpcId} with VIP ${p.dst} (documents out of step: the hosts route it here); no route, dropped`
      : `no route to ${p.dst} on ${r.hostId} (${r.vpc.vpcId}): no running instance of the VPC has this address (a backend stopped, terminated or not placed: documents out of step); dropped`;
    return { hop: hop(t, 'route', 'drop', reason, { destination: p.dst, kind: 'none' } satisfies RouteDetail), end: { verdict: 'dropped', code: 'no-route', reason } };
  },
};
