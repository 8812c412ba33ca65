/**
 * VXLAN from a host to the gateways (the route stage chose a `gateway`
 * route). Linux: the frame goes to the address the host's document names —
 * the cluster's (EIP traffic: every gateway node holds it, and the fabric
 * router's ECMP picks one by the outer header, whose source port follows the
 * inner flow) or the tunnel address of the node carrying the VPC's NAT
 * (announced first by the node of rank 0) — addressed to the MAC the
 * receiving router answers to: the cluster's router MAC on vx<vni>, or the
 * VPC's NAT MAC on nat0.
 */
import { gatewayRouters, natCarriers } from '../gateways.js';
import { pickNode } from '../tables.js';
import type { Router } from '../world.js';
import { describePacket, hop, next, type Stage } from './stage.js';
import { tunnelDropped, type TunnelDetail } from './tunnel.js';

export interface GatewayTunnelDetail extends TunnelDetail {
  via: 'eip' | 'nat';
  /** The gateway nodes the view knows. */
  gatewayNodes: string[];
  /** EIP traffic: the fabric router's ECMP over the nodes — the tracer's hash and the member it takes. */
  ecmp?: { hash: number; index: number; note: string };
  /** NAT traffic: the rank of the node that carries it (0 unless the nodes before it are missing). */
  rank?: number;
}

const WORDS = {
  router: 'fabric router',
  what: 'gateway nodes',
  one: 'gateway node',
  alike: 'any node translates alike',
  note: "every gateway node announces the cluster's address; the fabric router hashes the flow with its own function, so on Linux another node may carry it — any translates it alike (stateless, the same EIP maps on every node)",
};

export const gatewayTunnel: Stage = {
  name: 'gateway-tunnel',
  run(t) {
    if (t.route?.kind !== 'gateway') return next();
    const g = t.route;
    const r = t.router;
    const vni = r.vpc.vni;
    const nodes = t.world.gatewayNodes;
    const detail: GatewayTunnelDetail = { vni, fromHostId: r.hostId, fromUnderlay: r.host.underlay, toUnderlay: g.underlay, routerMac: g.routerMac, via: g.via, gatewayNodes: [...nodes] };
    const via = `VXLAN VNI ${vni} from ${r.host.underlay} to ${g.underlay}`;
    let target: Router | undefined;
    let expectedMac: string;
    let why: string;
    if (g.via === 'eip') {
      if (!nodes.length) return tunnelDropped(t, 'tunnel-no-host', `${via}, the gateway cluster: no gateway node is in the view to receive it; the frame is lost on the underlay`, detail);
      const pick = pickNode(nodes, t.packet, t.choose, WORDS);
      const node = pick.node;
      why = pick.why;
      detail.toHostId = node;
      if (pick.ecmp) detail.ecmp = pick.ecmp;
      target = t.world.byVni.get(node)?.get(vni);
      if (!target)
        return tunnelDropped(t, 'tunnel-no-vpc', `${via} (${why}): ${node} has no router for ${r.vpc.vpcId} (VNI ${vni}) — its document holds no EIP of the VPC (documents out of step); the frame is dropped`, detail);
      expectedMac = target.vpc.routerMac;
    } else {
      const carriers = natCarriers(t.world, vni);
      target = carriers[0];
      if (!target) {
        const holders = gatewayRouters(t.world, vni).map((x) => x.hostId);
        const reason = `${via}: no gateway node in the view carries ${r.vpc.vpcId}'s owner traffic (NAT, pinned EIPs) (${nodes.length ? `of ${nodes.join(', ')}, ${holders.length ? `${holders.join(', ')} hold${holders.length === 1 ? 's' : ''} the VPC without a rank for it` : 'none holds the VPC'}` : 'there are no gateway nodes'}); the frame is lost`;
        return tunnelDropped(t, 'tunnel-no-host', reason, detail);
      }
      const rank = target.vpc.ownerRank ?? target.vpc.nat!.rank;
      detail.toHostId = target.hostId;
      detail.rank = rank;
      const after = carriers.slice(1).map((x) => `${x.hostId} (rank ${x.vpc.ownerRank ?? x.vpc.nat!.rank})`);
      why =
        rank === 0
          ? `${target.hostId}, the node of rank 0 for ${r.vpc.vpcId}'s NAT, announces it${after.length ? `; ${after.join(', ')} ${after.length === 1 ? 'takes' : 'take'} over in turn should it fail` : ''}`
          : `no node of rank 0 for ${r.vpc.vpcId}'s NAT is in the view: ${target.hostId} (rank ${rank}) carries it, as when the nodes before it are down`;
      expectedMac = target.vpc.ownerMac ?? '';
    }
    detail.receiverMac = expectedMac;
    if (expectedMac.toLowerCase() !== g.routerMac.toLowerCase()) {
      const on = g.via === 'eip' ? `vx${vni}` : 'nat0';
      return tunnelDropped(t, 'tunnel-mac-mismatch', `${via} (${why}): the frame is addressed to ${g.routerMac} but ${on} of ${r.vpc.vpcId}'s router on ${target.hostId} is ${expectedMac}; not for it, dropped`, detail);
    }
    return {
      hop: hop(t, 'tunnel', 'forward', `${via} (${why}; router MAC ${g.routerMac}): ${describePacket(t.packet)}`, detail),
      to: { router: target, ingress: { kind: 'tunnel', fromHostId: r.hostId, vni, via: g.via } },
    };
  },
};
