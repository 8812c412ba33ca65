/**
 * A VPC's router on a gateway node, and the node's own namespace where the
 * internet is (docs/public-network.md; Linux: nft-ruleset.ts eipTable,
 * nat-gateway.ts). Gateway routers have no ports: a packet comes from a host
 * over the tunnel, or from the node's namespace (pub0), and leaves by the
 * other. In the kernel's order:
 *   eipTranslation  prerouting raw, stateless (notrack): from the tunnel to
 *                   the cluster MAC, the source private → EIP (eip_out); from
 *                   pub0, the destination EIP → private (eip_in). An address
 *                   outside the maps is dropped. NAT traffic (nat0, or from
 *                   pub0 already translated into the VPC) passes untouched.
 *   gatewayRouting  an instance of the VPC: /32 over the tunnel to its host;
 *                   anything else: default via pub0, to the node's namespace.
 *   nodeNat         the namespace's postrouting, for NAT traffic (conntrack
 *                   zone of the VPC): the reply of a port forwarding is
 *                   translated back by its session; a new flow by the first
 *                   SNAT rule whose source holds it (most specific first) to
 *                   one of the rule's EIPs, chosen by jhash of the private
 *                   address; no rule: the leak chain drops the private source.
 *   internetExit    out on i0 to the internet router.
 */
import { containsIp, parseCidr, parseIp } from '../../core/cidr.js';
import { sessionFromVpc, snatRuleFor, type NatSession } from '../gateways.js';
import type { Packet } from '../model.js';
import { describePacket, hop, next, type Outcome, type Stage, type Transit } from './stage.js';

export interface GatewayDetail {
  /** eip: the stateless 1:1 translation; snat / dnat-reply: the node's NAT; route / exit: where the packet goes. */
  action: 'eip-out' | 'eip-in' | 'snat' | 'dnat-reply' | 'route' | 'exit';
  /** The packet before and after a translation. */
  from?: string;
  to?: string;
  instanceId?: string;
  natGatewayId?: string;
  natGatewaySnatId?: string;
  /** SNAT with several EIPs: all of them (the kernel's jhash, with a random seed, picks one). */
  candidates?: string[];
  /** The route as `ip route` shows it. */
  route?: string;
}

type StageName = 'eip' | 'route' | 'nat';

const dropped = (t: Transit, stage: StageName, code: 'no-eip' | 'no-route' | 'snat-no-rule', reason: string, detail: GatewayDetail): Outcome => ({
  hop: hop(t, stage, 'drop', reason, detail),
  end: { verdict: 'dropped', code, reason },
});

const rewrite = (t: Transit, stage: StageName, summary: string, detail: GatewayDetail, packet: Packet): Outcome => ({ hop: hop(t, stage, 'pass', summary, detail), rewrite: packet });

const endpoint = (ip: string, port?: number) => (port === undefined ? ip : `${ip}:${port}`);

/** The VPC router's eip chain (prerouting raw). */
export const eipTranslation: Stage = {
  name: 'eip',
  run(t) {
    const r = t.router;
    const p = t.packet;
    const eips = r.vpc.eips ?? [];
    // From the tunnel: the cluster MAC (any node), or the owner MAC (nat0) with a pinned EIP's source; other owner traffic is NAT's.
    const pinned = t.ingress.kind === 'tunnel' && t.ingress.via === 'nat' ? eips.find((e) => e.pinned && e.privateIp === p.src) : undefined;
    if (t.ingress.kind === 'tunnel' && (t.ingress.via !== 'nat' || pinned)) {
      const eip = eips.find((e) => e.privateIp === p.src);
      const detail: GatewayDetail = { action: 'eip-out', from: p.src };
      if (!eip) {
        const reason = `${r.vpc.vpcId}'s router on ${r.hostId}: no EIP maps ${p.src} (eip_out ${eips.length ? `holds ${eips.map((e) => e.privateIp).join(', ')}` : 'is empty'}): the source has no EIP bound to a running instance here (documents out of step, or a source the instance forwards for), so the translation fails and the eip chain drops it`;
        return dropped(t, 'eip', 'no-eip', reason, detail);
      }
      detail.to = eip.publicIp;
      detail.instanceId = eip.instanceId;
      return rewrite(t, 'eip', `stateless 1:1 translation on ${r.hostId} (eip_out, notrack): source ${p.src} (${eip.instanceId}) → EIP ${eip.publicIp}`, detail, { ...p, src: eip.publicIp });
    }
    if (t.ingress.kind === 'internet' && t.ingress.via === 'eip') {
      const eip = eips.find((e) => e.publicIp === p.dst);
      const detail: GatewayDetail = { action: 'eip-in', from: p.dst };
      if (!eip) return dropped(t, 'eip', 'no-eip', `${r.vpc.vpcId}'s router on ${r.hostId}: eip_in has no entry for ${p.dst}: not an EIP bound to a running instance of the VPC here; dropped`, detail);
      detail.to = eip.privateIp;
      detail.instanceId = eip.instanceId;
      return rewrite(t, 'eip', `stateless 1:1 translation on ${r.hostId} (eip_in, notrack): destination EIP ${p.dst} → ${eip.privateIp} (${eip.instanceId})`, detail, { ...p, dst: eip.privateIp });
    }
    if (t.ingress.kind === 'internet') {
      // NAT traffic the node translated: the eip chain lets it into the VPC (daddr in the VPC's CIDR), nothing else.
      const cidr = r.vpc.cidr === undefined ? undefined : parseCidr(r.vpc.cidr);
      const d = parseIp(p.dst);
      if (!cidr || d === undefined || !containsIp(cidr, d))
        return dropped(t, 'eip', 'no-route', `${r.vpc.vpcId}'s router on ${r.hostId}: ${p.dst} from the node's namespace is not in the VPC's CIDR ${r.vpc.cidr ?? '(unknown)'}; the eip chain drops it`, { action: 'route' });
    }
    return next();
  },
};

/** The gateway router's routes: the VPC's instances over the tunnel, everything else to the node's namespace. */
export const gatewayRouting: Stage = {
  name: 'gateway-route',
  run(t) {
    const r = t.router;
    const dst = t.packet.dst;
    const remote = r.remotes.get(dst);
    if (remote) {
      t.route = { kind: 'tunnel', remote };
      const detail: GatewayDetail = { action: 'route', instanceId: remote.instanceId, route: `${dst}/32 via ${dst} dev vx${r.vpc.vni} onlink` };
      return next(hop(t, 'route', 'forward', `route ${dst}/32 via vx${r.vpc.vni}: ${remote.instanceId} is on host ${remote.hostId}`, detail));
    }
    if (t.ingress.kind === 'internet') {
      const reason = `no route to ${dst} on ${r.hostId} (${r.vpc.vpcId}): no running instance of the VPC has this address (stopped, terminated or not placed); dropped`;
      return dropped(t, 'route', 'no-route', reason, { action: 'route', route: 'none' });
    }
    t.route = { kind: 'internet' };
    const detail: GatewayDetail = { action: 'route', route: 'default via 169.254.0.1 dev pub0 onlink' };
    return next(hop(t, 'route', 'forward', `route default via pub0: from ${r.vpc.vpcId}'s router to ${r.hostId}'s own namespace, where the internet is`, detail));
  },
};

/** A hash of the private address, for the tracer's pick among several SNAT EIPs (FNV-1a: the kernel's jhash seed is random). */
function addressHash(ip: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ip.length; i++) h = Math.imul(h ^ ip.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The node's NAT, for traffic that came over nat0 and leaves for the internet. */
export const nodeNat: Stage = {
  name: 'nat',
  run(t) {
    if (t.route?.kind !== 'internet' || t.ingress.kind !== 'tunnel' || t.ingress.via !== 'nat') return next();
    const r = t.router;
    const p = t.packet;
    // A pinned EIP's packet, translated by the eip chain: the node's NAT leaves it alone.
    if ((r.vpc.eips ?? []).some((e) => e.pinned && e.publicIp === p.src)) return next();
    const nat = r.vpc.nat;
    if (!nat) return dropped(t, 'nat', 'snat-no-rule', `${r.hostId} holds no NAT gateway of ${r.vpc.vpcId}: ${p.src} would leave with its private source, which the leak chain drops; dropped`, { action: 'snat', from: p.src });
    const reply = sessionFromVpc(t.sessions, r.vpc.vpcId, p);
    if (reply) {
      const detail: GatewayDetail = { action: 'dnat-reply', from: endpoint(p.src, p.srcPort), to: endpoint(reply.public.ip, reply.public.port), natGatewayId: reply.natGatewayId };
      return rewrite(
        t,
        'nat',
        `NAT on ${r.hostId} (conntrack zone ${nat.zone}): the reply of a port forwarding of ${reply.natGatewayId}, translated back by its session: source ${detail.from} → ${detail.to}`,
        detail,
        { ...p, src: reply.public.ip, ...(reply.public.port !== undefined ? { srcPort: reply.public.port } : {}) },
      );
    }
    const hit = snatRuleFor(nat, p.src);
    if (!hit) {
      const rules = nat.gateways.flatMap((g) => g.snat.map((s) => `${s.source} (${s.natGatewaySnatId})`));
      const reason = `NAT on ${r.hostId} (conntrack zone ${nat.zone}): no SNAT rule of ${r.vpc.vpcId}'s NAT gateways holds ${p.src} (${rules.length ? `rules for ${rules.join(', ')}` : 'the gateways have no SNAT rule'}), so it would leave with its private source, which the leak chain drops; dropped`;
      return dropped(t, 'nat', 'snat-no-rule', reason, { action: 'snat', from: p.src });
    }
    const ips = hit.rule.publicIps;
    const index = ips.length > 1 ? t.choose(ips.length, addressHash(p.src) % ips.length) : 0;
    const eip = ips[index]!;
    const detail: GatewayDetail = { action: 'snat', from: endpoint(p.src, p.srcPort), to: endpoint(eip, p.srcPort), natGatewayId: hit.gateway.natGatewayId, natGatewaySnatId: hit.rule.natGatewaySnatId };
    let which = `EIP ${eip}`;
    if (ips.length > 1) {
      detail.candidates = [...ips];
      which = `one of ${ips.join(', ')} (jhash of the private address, with a seed the kernel draws at random: the tracer cannot tell which; it goes on with ${eip}; one address always gets the same one)`;
    }
    const session: NatSession = {
      vpcId: r.vpc.vpcId,
      hostId: r.hostId,
      natGatewayId: hit.gateway.natGatewayId,
      kind: 'snat',
      protocol: p.protocol,
      private: { ip: p.src, ...(p.srcPort !== undefined ? { port: p.srcPort } : {}) },
      public: { ip: eip, ...(p.srcPort !== undefined ? { port: p.srcPort } : {}) },
      remote: { ip: p.dst, ...(p.dstPort !== undefined ? { port: p.dstPort } : {}) },
    };
    t.sessions.push(session);
    const summary = `SNAT on ${r.hostId} (conntrack zone ${nat.zone}): ${hit.rule.natGatewaySnatId} of ${hit.gateway.natGatewayId} (source ${hit.rule.source}, the most specific rule that holds ${p.src}; the node applies every NAT gateway's rules of the VPC, whichever the route named): source ${p.src} → ${which}${p.srcPort !== undefined ? `, port ${p.srcPort} kept unless another session holds it` : ''}; the session is kept (conntrackd copies it to the other nodes)`;
    return rewrite(t, 'nat', summary, detail, { ...p, src: eip });
  },
};

/** Out of the node's namespace on i0, to the internet router. */
export const internetExit: Stage = {
  name: 'internet',
  run(t) {
    if (t.route?.kind !== 'internet') return next();
    const reason = `out of ${t.router.hostId} on i0 to the internet router: ${describePacket(t.packet)} is forwarded to the internet`;
    return { hop: hop(t, 'internet', 'forward', reason, { action: 'exit' } satisfies GatewayDetail), end: { verdict: 'forwarded', code: 'internet', reason, hostId: t.router.hostId } };
  },
};
