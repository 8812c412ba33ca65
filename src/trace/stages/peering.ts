/**
 * A peering link between two VPCs' routers on one host (Linux: a veth pair
 * between the two router namespaces, static neighbours at both ends). The
 * route stage chose the link; the packet enters the peer VPC's router from
 * it, where it is routed by instance routes only (tables.ts): the peer's
 * local ports, or its remotes through the peer VPC's own tunnel.
 */
import { describePacket, hop, next, type Stage } from './stage.js';

export interface PeeringDetail {
  peeringId: string;
  fromVpcId: string;
  toVpcId: string;
  /** This router's end of the link, and the peer's (the same name in its router). */
  ifname: string;
  mac: string;
  peerMac: string;
}

export const peeringLink: Stage = {
  name: 'peering',
  run(t) {
    if (t.route?.kind !== 'peering') return next();
    const { link, peer, peerLink } = t.route;
    const detail: PeeringDetail = { peeringId: link.peeringId, fromVpcId: t.router.vpc.vpcId, toVpcId: peer.vpc.vpcId, ifname: link.ifname, mac: link.mac, peerMac: link.peerMac };
    return {
      hop: hop(t, 'peering', 'forward', `peering ${link.peeringId}: from ${t.router.vpc.vpcId}'s router to ${peer.vpc.vpcId}'s on ${t.router.hostId} over link ${link.ifname} (${link.mac} → ${link.peerMac}): ${describePacket(t.packet)}`, detail),
      to: { router: peer, ingress: { kind: 'peering', link: peerLink, fromVpcId: t.router.vpc.vpcId } },
    };
  },
};
