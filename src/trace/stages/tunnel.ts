/**
 * VXLAN between hosts. Linux: the route to a remote instance leaves by the
 * VPC's `vx<vni>`; its permanent neighbour entry gives the remote host's
 * router MAC, and the FDB entry for that MAC the remote host's underlay
 * address. The frame travels in UDP (dstport 4789) with the VPC's VNI; the
 * receiving host hands it to its VXLAN device of that VNI, whose MAC is that
 * host's router MAC for the VPC, and that router routes it on.
 */
import { describePacket, hop, next, type Outcome, type Stage, type Transit } from './stage.js';

export interface TunnelDetail {
  vni: number;
  fromHostId: string;
  fromUnderlay: string;
  toUnderlay: string;
  /** The host at the underlay address, if any. */
  toHostId?: string;
  /** Router MAC the inner frame is addressed to (the neighbour entry), and the receiving device's. */
  routerMac: string;
  receiverMac?: string;
}

/** A frame lost on the way (documents out of step between hosts). */
export const tunnelDropped = (t: Transit, code: 'tunnel-no-host' | 'tunnel-no-vpc' | 'tunnel-mac-mismatch', reason: string, detail: TunnelDetail): Outcome => ({
  hop: hop(t, 'tunnel', 'drop', reason, detail),
  end: { verdict: 'dropped', code, reason },
});

export const tunnel: Stage = {
  name: 'tunnel',
  run(t) {
    if (t.route?.kind !== 'tunnel') return next();
    const remote = t.route.remote;
    const r = t.router;
    const vni = r.vpc.vni;
    const toHostId = t.world.byUnderlay.get(remote.underlay);
    const detail: TunnelDetail = { vni, fromHostId: r.hostId, fromUnderlay: r.host.underlay, toUnderlay: remote.underlay, routerMac: remote.routerMac };
    const via = `VXLAN VNI ${vni} from ${r.host.underlay} to ${remote.underlay}`;
    if (!toHostId) {
      return tunnelDropped(t, 'tunnel-no-host', `${via}: no host has the underlay address ${remote.underlay}; the frame is lost on the underlay`, detail);
    }
    detail.toHostId = toHostId;
    const target = t.world.byVni.get(toHostId)?.get(vni);
    if (!target) {
      return tunnelDropped(t, 'tunnel-no-vpc', `${via} (host ${toHostId}): ${toHostId} has no VXLAN device for VNI ${vni} (no instance of ${r.vpc.vpcId} in its document); the frame is dropped`, detail);
    }
    detail.receiverMac = target.vpc.routerMac;
    if (target.vpc.routerMac.toLowerCase() !== remote.routerMac.toLowerCase()) {
      return tunnelDropped(t, 'tunnel-mac-mismatch', `${via} (host ${toHostId}): the frame is addressed to ${remote.routerMac} but vx${vni} on ${toHostId} is ${target.vpc.routerMac}; not for its router, dropped`, detail);
    }
    return {
      hop: hop(t, 'tunnel', 'forward', `${via} (host ${toHostId}, router MAC ${remote.routerMac}): ${describePacket(t.packet)}`, detail),
      to: { router: target, ingress: { kind: 'tunnel', fromHostId: r.hostId, vni } },
    };
  },
};
