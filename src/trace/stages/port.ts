/**
 * Instance ports: where a packet enters a router from an instance
 * (anti-spoofing) and where it leaves the router into one (delivery).
 *
 * Linux (table inet weft, chain prerouting, priority -150): a packet from a
 * port must carry the port's own MAC and, as source, the port's own IP or an
 * address inside one of the port's routed CIDRs (Port.routedCidrs: the
 * instance is a next hop for those destinations, so it may forward from
 * them); else it is dropped before routing. Packets from the tunnel, a
 * peering link or the router itself are not checked. (ARP from a port is held
 * to the port's own pair by table arp weft.)
 */
import { containsIp, parseIp } from '../../core/cidr.js';
import { describePacket, hop, next, type Stage } from './stage.js';

export interface PortDetail {
  instanceId: string;
  ifname: string;
  ip: string;
  mac: string;
  /** The packet's source address (anti-spoofing). */
  source?: string;
  /** The routed CIDR of the port that holds the source, when it is not the port's own address. */
  routedCidr?: string;
  /** Delivery to a next hop: the destination of the table route that chose it. */
  nextHopFor?: string;
}

export const antiSpoofing: Stage = {
  name: 'port',
  run(t) {
    if (t.ingress.kind !== 'port') return next();
    const p = t.ingress.port;
    const detail: PortDetail = { instanceId: p.instanceId, ifname: p.ifname, ip: p.ip, mac: p.mac, source: t.packet.src };
    if (t.packet.src === p.ip)
      return next(hop(t, 'port', 'pass', `from ${p.instanceId} on port ${p.ifname} (${p.ip}, ${p.mac}): source matches the port — ${describePacket(t.packet)}`, detail));
    const routed = t.router.routed.get(p.instanceId) ?? [];
    const src = parseIp(t.packet.src);
    const via = src === undefined ? undefined : routed.find((c) => containsIp(c.cidr, src));
    if (via) {
      detail.routedCidr = via.text;
      return next(
        hop(t, 'port', 'pass', `from ${p.instanceId} on port ${p.ifname} (${p.ip}, ${p.mac}): source ${t.packet.src} is inside ${via.text}, routed to ${p.instanceId} as a next hop, so it may forward from it — ${describePacket(t.packet)}`, detail),
      );
    }
    const also = routed.length ? ` or from ${routed.map((c) => c.text).join(', ')} (routed to it as a next hop)` : '';
    const reason = `anti-spoofing: ${p.instanceId} sent from ${t.packet.src}, but its port ${p.ifname} may only send from ${p.ip} (${p.mac})${also}; dropped in prerouting`;
    return { hop: hop(t, 'port', 'drop', reason, detail), end: { verdict: 'dropped', code: 'anti-spoofing', reason } };
  },
};

export const delivery: Stage = {
  name: 'deliver',
  run(t) {
    if (t.route?.kind !== 'port') return next();
    const p = t.route.port;
    const detail: PortDetail = { instanceId: p.instanceId, ifname: p.ifname, ip: p.ip, mac: p.mac };
    if (t.route.nextHopFor !== undefined) detail.nextHopFor = t.route.nextHopFor;
    const asNextHop =
      t.route.nextHopFor !== undefined && t.packet.dst !== p.ip
        ? ` as the next hop for ${t.route.nextHopFor} (the packet is for ${t.packet.dst}; what the instance does with it is up to the instance)`
        : '';
    const reason = `delivered to ${p.instanceId} (${p.ip}) on ${t.router.hostId} through port ${p.ifname}${asNextHop}`;
    return {
      hop: hop(t, 'deliver', 'deliver', reason, detail),
      end: { verdict: 'delivered', code: 'delivered', reason, instanceId: p.instanceId, hostId: t.router.hostId },
    };
  },
};
