/**
 * The forced paths of network detections (docs/operations.md, "NetDetect"),
 * in a VPC's router namespace: the agent's probes leave from the subnet's
 * gateway address (on the router's lo), and a rule for that source sends
 * them through the detection's next hop, whatever the route tables say:
 *
 *   priority 40020 from <gateway>/32 → a table of the subnet's detections:
 *       <destination>/32 via <next hop>  (NORMAL_CVM: the instance, on its
 *       port or into the tunnel; PEERCONNECTION: the link; NAT: the owner
 *       node; a next hop that is down: blackhole)
 *   priority 40021 from <gateway>/32 → the subnet's route table ("out"):
 *       NONEXTHOP destinations go where the subnet's own traffic goes.
 *
 * After main (32766), so the VPC's instance /32s still win, as they do for
 * the subnet's traffic; the router's own packets from the gateway address
 * are otherwise only answers, which main or local route. Made with the rest
 * of the routing (route-tables.ts routingWant) and removed with the
 * detection. Pure.
 */
import type { VpcContext } from '../../contract/host-document.js';
import { parseIp } from '../../core/cidr.js';
import type { RouteWant } from './route-tables.js';
import type { RuleState } from './state.js';

export const NETDETECT_RULE_PRIORITY = 40020;
export const NETDETECT_TABLE_RULE_PRIORITY = 40021;
/** One table per subnet of the router (by its place in `subnets`); below the LB tables (TABLE_BASE - 0x1000 + n). */
export const netDetectTable = (tableBase: number, subnetIndex: number) => tableBase - 0x3000 + subnetIndex;

export interface NetDetectRouting {
  rules: RuleState[];
  /** By `<table> <destination>`, as route-tables.ts keys them. */
  routes: [string, RouteWant][];
}

/**
 * `hop(ip)`: how this router reaches an instance of the VPC (its port, or the
 * tunnel), undefined when it is not up anywhere. `outTable`: the kernel table
 * of a route table. `gateways`: the peering and owner-node next hops.
 */
export function netDetectRouting(
  vpc: VpcContext,
  o: {
    tableBase: number;
    hop: (ip: string) => { gateway: string; dev: string } | undefined;
    outTable: (routeTableId: string) => number | undefined;
    peeringGateway: string;
    ownerGateway: string;
    vxlan: string;
    deferredLinks: ReadonlySet<string>;
  },
): NetDetectRouting {
  const rules: RuleState[] = [];
  const routes: [string, RouteWant][] = [];
  const linkOf = new Map((vpc.peerings ?? []).map((l) => [l.peeringId, l.ifname]));
  vpc.subnets.forEach((s, index) => {
    const detections = (vpc.netDetects ?? []).filter((d) => d.subnetId === s.subnetId);
    if (!detections.length) return;
    if (parseIp(s.gateway) === undefined) throw new Error(`subnet ${s.subnetId}: invalid gateway ${JSON.stringify(s.gateway)}`);
    const table = netDetectTable(o.tableBase, index);
    const src = `${s.gateway}/32`;
    const taken = new Set<string>();
    let forced = false;
    for (const d of detections) {
      for (const ip of d.destinations) if (parseIp(ip) === undefined) throw new Error(`${d.netDetectId}: invalid destination ${JSON.stringify(ip)}`);
      if (d.nextHop.type === 'NONEXTHOP') continue;
      for (const ip of d.destinations) {
        const key = `${table} ${ip}/32`;
        if (taken.has(key)) continue; // the API refuses two detections of one subnet to one address; first by ID wins
        taken.add(key);
        const want = via(d.nextHop);
        if (want === 'deferred') continue;
        routes.push([key, want ?? { blackhole: true }]);
        forced = true;
      }
    }
    if (forced) rules.push({ priority: NETDETECT_RULE_PRIORITY, src, table: String(table) });
    const out = s.routeTableId ? o.outTable(s.routeTableId) : undefined;
    if (out !== undefined && detections.some((d) => d.nextHop.type === 'NONEXTHOP')) rules.push({ priority: NETDETECT_TABLE_RULE_PRIORITY, src, table: String(out) });
  });
  return { rules, routes };

  function via(h: NonNullable<VpcContext['netDetects']>[number]['nextHop']): RouteWant | undefined | 'deferred' {
    if (h.type === 'NORMAL_CVM') {
      if (parseIp(h.ip) === undefined) throw new Error(`invalid next hop ${JSON.stringify(h.ip)}`);
      return o.hop(h.ip);
    }
    if (h.type === 'PEERCONNECTION') {
      const link = linkOf.get(h.peeringId);
      if (!link) return undefined;
      return o.deferredLinks.has(link) ? 'deferred' : { gateway: o.peeringGateway, dev: link };
    }
    if (h.type === 'NAT') return vpc.ownerGateway ? { gateway: o.ownerGateway, dev: o.vxlan } : undefined;
    return undefined;
  }
}
