/**
 * The region's LB nodes as the tracer sees them (docs/load-balancers.md):
 * which load balancer holds a VIP, which backend a listener's Maglev table
 * gives a new flow, and the sessions a balanced flow leaves behind. Pure
 * lookups over the world; the stages (stages/load-balancer.ts, internet.ts)
 * say what they decide.
 *
 * Every LB node computes the same table from the same document
 * (core/maglev.ts: a pure function of the backends and the table size), so
 * whichever node the fabric's or the internet router's ECMP picks, a flow
 * gets the same backend: the tracer takes a node by its hash, names every
 * candidate, and the backend does not depend on the pick.
 */
import type { HostDocument, Listener, LoadBalancer, LbTarget } from '../contract/host-document.js';
import { flowSlot } from '../core/maglev.js';
import { listenerTable, tableBackends } from '../dataplane/linux/load-balancer.js';
import type { L4, Packet } from './model.js';
import type { Router, World } from './world.js';

/**
 * One balanced flow: conntrack on the LB node that translated it (VIP:port ↔
 * backend:port, the client kept), and the mark on the backend's host (the flow
 * arrived from that node's MAC), which sends the replies back to that node.
 */
export interface LbSession {
  vpcId: string;
  /** The LB node (host ID) and its number. */
  hostId: string;
  node: number;
  loadBalancerId: string;
  listenerId: string;
  protocol: L4;
  public: boolean;
  vip: { ip: string; port: number };
  backend: { ip: string; port: number; instanceId: string };
  client: { ip: string; port: number };
}

/** A target outside a listener's table, and why. */
export interface LbExcluded {
  target: LbTarget;
  why: 'weight 0' | 'unhealthy';
}

/** A listener's Maglev table: the targets in it (in document order: the index the table holds), those left out. */
export interface LbTable {
  backends: LbTarget[];
  excluded: LbExcluded[];
  table: Int32Array;
}

/** What a listener's table gives a new flow: the slot, and the backend at it (none: the table is empty). */
export interface LbChoice extends LbTable {
  slot: number;
  backend?: LbTarget;
}

/** The node number of an LB node's document (its `lbNode`; 0 when the document lacks it). */
export const lbNodeNumber = (host: HostDocument): number => host.lbNode ?? 0;

export const lbKey = (t: Pick<LbTarget, 'ip' | 'port'>) => `${t.ip}:${t.port}`;

/**
 * A listener's table exactly as the LB node programs it (dataplane/linux/load-balancer.ts: targets with weight > 0
 * that are not unhealthy, by `ip:port` and weight; memoised there), with the targets it leaves out.
 */
export function tableOf(listener: Listener): LbTable {
  const backends = tableBackends(listener);
  const excluded: LbExcluded[] = listener.targets
    .filter((target) => !backends.includes(target))
    .map((target) => ({ target, why: target.weight <= 0 ? 'weight 0' : 'unhealthy' }));
  return { backends, excluded, table: listenerTable(listener).table };
}

/** The backend a new flow gets: the table's entry at the flow's slot (the flow as it reaches the VIP). */
export function chooseBackend(listener: Listener, p: Packet): LbChoice {
  const t = tableOf(listener);
  const slot = flowSlot({ src: p.src, sport: p.srcPort ?? 0, dst: p.dst, dport: p.dstPort ?? 0, protocol: listener.protocol }, listener.tableSize);
  const index = t.table[slot] ?? -1;
  return { ...t, slot, ...(index >= 0 ? { backend: t.backends[index]! } : {}) };
}

/** The load balancer of this router's VPC whose VIP is `ip`. */
export const vipOn = (router: Router, ip: string): LoadBalancer | undefined => router.vpc.loadBalancers?.find((lb) => lb.vip === ip);

/** The listener of a load balancer for the packet's protocol and destination port. */
export const listenerFor = (lb: LoadBalancer, p: Packet): Listener | undefined =>
  p.protocol === 'icmp' ? undefined : lb.listeners.find((l) => l.protocol === p.protocol && l.port === p.dstPort);

/** The public load balancer whose VIP is `ip`, on the LB nodes' documents: its VPC and VNI. */
export function publicVip(world: World, ip: string): { vpcId: string; vni: number; lb: LoadBalancer } | undefined {
  for (const h of world.lbNodes)
    for (const r of world.routers.get(h)?.values() ?? []) {
      const lb = vipOn(r, ip);
      if (lb?.public) return { vpcId: r.vpc.vpcId, vni: r.vpc.vni, lb };
    }
  return undefined;
}

/** The session a packet from a backend belongs to (the reply of a balanced flow): from the backend's end, to the client's. */
export const lbSessionFromBackend = (sessions: readonly LbSession[], vpcId: string, p: Packet): LbSession | undefined =>
  sessions.find((s) => s.vpcId === vpcId && s.protocol === p.protocol && s.backend.ip === p.src && s.backend.port === p.srcPort && s.client.ip === p.dst && s.client.port === p.dstPort);

