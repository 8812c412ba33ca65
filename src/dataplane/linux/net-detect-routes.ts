/**
 * The forced paths of network detections (docs/operations.md, "NetDetect"),
 * in a VPC's router namespace. The probes leave from the detection's source
 * addresses (DetectSourceIp; the probing host has them on the router's lo,
 * every other host routes them back to it through the tunnel), and rules for
 * those sources send them through the detection's next hop, whatever the
 * route tables say:
 *
 *   priority 39990 from <source>/32 → the detection's table:
 *       <destination>/32 via <next hop>  (NORMAL_CVM: the instance, on its
 *       port or into the tunnel — the next hop's host has the same rule and
 *       table, so it hands the probe to the port; PEERCONNECTION: the link;
 *       NAT: the owner node; a next hop that is down: blackhole)
 *   priority 39991 from <source>/32 → the subnet's route table ("out"):
 *       NONEXTHOP destinations go where the subnet's own traffic goes.
 *
 * After main (32766), so the VPC's instance /32s still win, as they do for
 * the subnet's traffic; before the ports' and the tunnel's rules, which a
 * probe arriving at its next hop's host would otherwise meet first. Only
 * probes carry these sources. Made with the rest
 * of the routing (route-tables.ts routingWant) and removed with the
 * detection. Pure.
 */
import type { VpcContext } from '../../contract/host-document.js';
import { parseIp } from '../../core/cidr.js';
import type { RouteWant } from './route-tables.js';
import type { RuleState } from './state.js';

/** After main (32766), before the ports' and the tunnel's rules (40000, 40001): a probe arriving over the tunnel at its next hop's host takes the forced path there too. */
export const NETDETECT_RULE_PRIORITY = 39990;
export const NETDETECT_TABLE_RULE_PRIORITY = 39991;
/** One table per detection of the router (by its place in `netDetects`, at most 100 a VPC); below the LB tables (TABLE_BASE - 0x1000 + n). */
export const netDetectTable = (tableBase: number, index: number) => tableBase - 0x3000 + index;

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
  const subnetOf = new Map(vpc.subnets.map((s) => [s.subnetId, s]));
  (vpc.netDetects ?? []).forEach((d, index) => {
    for (const ip of [...d.destinations, ...d.sources]) if (parseIp(ip) === undefined) throw new Error(`${d.netDetectId}: invalid address ${JSON.stringify(ip)}`);
    const table = netDetectTable(o.tableBase, index);
    let forced = false;
    if (d.nextHop.type !== 'NONEXTHOP') {
      const want = via(d.nextHop);
      if (want !== 'deferred') {
        for (const ip of d.destinations) routes.push([`${table} ${ip}/32`, want ?? { blackhole: true }]);
        forced = true;
      }
    }
    // NONEXTHOP: the subnet's route table, on the hosts that carry the subnet (those that probe it).
    const subnet = subnetOf.get(d.subnetId);
    const out = d.nextHop.type === 'NONEXTHOP' && subnet?.routeTableId ? o.outTable(subnet.routeTableId) : undefined;
    for (const source of d.sources) {
      if (forced) rules.push({ priority: NETDETECT_RULE_PRIORITY, src: `${source}/32`, table: String(table) });
      if (out !== undefined) rules.push({ priority: NETDETECT_TABLE_RULE_PRIORITY, src: `${source}/32`, table: String(out) });
    }
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
