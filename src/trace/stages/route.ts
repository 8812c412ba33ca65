/**
 * The routing decision of a VPC's router (distributed routing: the source
 * host routes, whatever the subnets). Linux, in the router namespace:
 *   local table  each local subnet's gateway on `lo` → the router answers itself
 *                (input path: no forward hook, so no security group is consulted);
 *   main table   `ip/32 dev <port>` per local instance,
 *                `ip/32 via ip dev vx<vni> onlink` per instance on another host;
 *   nothing else: no default route, so any other address is unreachable (and
 *   within the instance's own subnet proxy ARP does not answer for it).
 * Forwarding decrements the TTL; a packet that arrives with TTL 1 is dropped.
 */
import { containsIp, parseCidr, parseIp } from '../../core/cidr.js';
import type { Router } from '../world.js';
import { hop, next, type Stage, type Transit } from './stage.js';

export interface RouteDetail {
  destination: string;
  /** local: an address of the router itself; port: a local instance; tunnel: an instance on another host; none: no route. */
  kind: 'local' | 'port' | 'tunnel' | 'none';
  /** The route as `ip route` would show it. */
  route?: string;
  instanceId?: string;
  /** For a tunnel route: the host the instance is on. */
  hostId?: string;
}

const vxName = (r: Router) => `vx${r.vpc.vni}`;

function sameSubnet(t: Transit): boolean {
  if (t.ingress.kind !== 'port') return false;
  const c = parseCidr(`${t.ingress.port.ip}/${t.ingress.port.prefix}`, false);
  const d = parseIp(t.packet.dst);
  return !!c && d !== undefined && containsIp(c, d);
}

export const routing: Stage = {
  name: 'route',
  run(t) {
    const r = t.router;
    const dst = t.packet.dst;
    const at = `${r.hostId} (${r.vpc.vpcId})`;
    const gw = r.gateways.get(dst);
    if (gw) {
      t.route = { kind: 'local', subnet: gw };
      const detail: RouteDetail = { destination: dst, kind: 'local', route: `local ${dst} dev lo` };
      const what =
        t.packet.protocol === 'icmp'
          ? 'answers the echo itself'
          : `has no ${t.packet.protocol} service there (${t.packet.protocol === 'tcp' ? 'TCP reset' : 'ICMP port unreachable'})`;
      const reason = `${dst} is the gateway of ${gw.subnetId} (${gw.cidr}), an address of the router on ${at}: the router ${what}; local traffic takes the input path, where no security group applies`;
      return { hop: hop(t, 'route', 'answer', reason, detail), end: { verdict: 'answered', code: 'router-address', reason, hostId: r.hostId } };
    }
    const port = r.ports.get(dst);
    const remote = port ? undefined : r.remotes.get(dst);
    if (!port && !remote) {
      const detail: RouteDetail = { destination: dst, kind: 'none' };
      const arp = sameSubnet(t) ? ` (in ${t.ingress.kind === 'port' ? t.ingress.port.subnetId : 'the subnet'}: proxy ARP does not answer for it)` : '';
      const reason = `no route to ${dst} on ${at}${arp}: no instance of ${r.vpc.vpcId} has this address here or on another host, and the router has no default route — host unreachable`;
      return { hop: hop(t, 'route', 'drop', reason, detail), end: { verdict: 'dropped', code: 'no-route', reason } };
    }
    if (t.packet.ttl <= 1) {
      const detail: RouteDetail = { destination: dst, kind: port ? 'port' : 'tunnel' };
      const reason = `TTL exceeded on ${at}: the packet arrived with TTL ${t.packet.ttl} and cannot be forwarded`;
      return { hop: hop(t, 'route', 'drop', reason, detail), end: { verdict: 'dropped', code: 'ttl-exceeded', reason } };
    }
    if (port) {
      t.route = { kind: 'port', port };
      const detail: RouteDetail = { destination: dst, kind: 'port', route: `${dst}/32 dev ${port.ifname}`, instanceId: port.instanceId };
      return next(hop(t, 'route', 'forward', `route ${dst}/32 dev ${port.ifname}: ${port.instanceId}, a local instance on ${r.hostId}`, detail));
    }
    t.route = { kind: 'tunnel', remote: remote! };
    const detail: RouteDetail = {
      destination: dst,
      kind: 'tunnel',
      route: `${dst}/32 via ${dst} dev ${vxName(r)} onlink`,
      instanceId: remote!.instanceId,
      hostId: remote!.hostId,
    };
    return next(hop(t, 'route', 'forward', `route ${dst}/32 via ${vxName(r)}: ${remote!.instanceId} is on host ${remote!.hostId}`, detail));
  },
};
