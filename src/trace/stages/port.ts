/**
 * Instance ports: where a packet enters a router from an instance
 * (anti-spoofing) and where it leaves the router into one (delivery).
 *
 * Linux (table inet weft, chain prerouting, priority -150): a packet from a
 * port must carry the port's own MAC and IP as source, else it is dropped
 * before routing; packets from the tunnel or the router itself are not
 * checked. (ARP from a port is held to the same pair by table arp weft.)
 */
import { describePacket, hop, next, type Stage } from './stage.js';

export interface PortDetail {
  instanceId: string;
  ifname: string;
  ip: string;
  mac: string;
  /** The packet's source address (anti-spoofing). */
  source?: string;
}

export const antiSpoofing: Stage = {
  name: 'port',
  run(t) {
    if (t.ingress.kind !== 'port') return next();
    const p = t.ingress.port;
    const detail: PortDetail = { instanceId: p.instanceId, ifname: p.ifname, ip: p.ip, mac: p.mac, source: t.packet.src };
    if (t.packet.src !== p.ip) {
      const reason = `anti-spoofing: ${p.instanceId} sent from ${t.packet.src}, but its port ${p.ifname} may only send from ${p.ip} (${p.mac}); dropped in prerouting`;
      return { hop: hop(t, 'port', 'drop', reason, detail), end: { verdict: 'dropped', code: 'anti-spoofing', reason } };
    }
    return next(hop(t, 'port', 'pass', `from ${p.instanceId} on port ${p.ifname} (${p.ip}, ${p.mac}): source matches the port — ${describePacket(t.packet)}`, detail));
  },
};

export const delivery: Stage = {
  name: 'deliver',
  run(t) {
    if (t.route?.kind !== 'port') return next();
    const p = t.route.port;
    const detail: PortDetail = { instanceId: p.instanceId, ifname: p.ifname, ip: p.ip, mac: p.mac };
    const reason = `delivered to ${p.instanceId} (${p.ip}) on ${t.router.hostId} through port ${p.ifname}`;
    return {
      hop: hop(t, 'deliver', 'deliver', reason, detail),
      end: { verdict: 'delivered', code: 'delivered', reason, instanceId: p.instanceId, hostId: t.router.hostId },
    };
  },
};
