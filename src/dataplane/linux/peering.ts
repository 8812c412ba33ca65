/**
 * Peering links between two VPC routers on one host: a veth pair, each end
 * named PeeringLink.ifname in its router namespace, with the link's MACs and
 * a permanent neighbour for the static next hop (no ARP on links). Pure.
 *
 * The pair is made by the plan of whichever VPC sorts later (the earlier
 * one's namespace exists by then: groups run in document order), which also
 * configures the other end and puts the other VPC's peering routes on it; the
 * earlier VPC's plan leaves a link being made alone. Once the pair is right,
 * each VPC's plan looks after its own end like any other link.
 */
import type { HostDocument, PeeringLink, VpcContext } from '../../contract/host-document.js';
import { INSTANCE_MTU } from './names.js';
import { mac as macText } from './nft-ruleset.js';
import { PEERING_GATEWAY, peeringRouteLines } from './route-tables.js';
import type { HostState } from './state.js';

const ALIAS = 'weft-peer:';
/** The alias of a link end: the kernel remembers the end is a peering link, and to which VPC. */
export const peeringAlias = (peeringId: string, peerVpcId: string) => `${ALIAS}${peeringId},${peerVpcId}`;
export const isPeeringAlias = (alias: string | undefined) => !!alias?.startsWith(ALIAS);

export interface LinkPlan {
  link: PeeringLink;
  /** The peer VPC's router namespace on this host. */
  peerNs: string;
  peer: VpcContext;
  /** Both ends exist, are veths with the right MACs and aliases, and are each other's peer. */
  ok: boolean;
  /** This VPC sorts after the peer: its plan makes the pair. */
  maker: boolean;
}

/** The peer's side of a link, checked: both VPCs of a peering must be in the document and agree on the link. */
export function peerOf(doc: HostDocument, vpc: VpcContext, link: PeeringLink): VpcContext {
  const peer = doc.vpcs.find((v) => v.vpcId === link.peerVpcId);
  if (!peer) throw new Error(`${link.peeringId}: peer VPC ${link.peerVpcId} is not in the document`);
  const back = (peer.peerings ?? []).find((l) => l.peeringId === link.peeringId);
  if (!back || back.peerVpcId !== vpc.vpcId || back.ifname !== link.ifname || macText(back.mac) !== macText(link.peerMac) || macText(back.peerMac) !== macText(link.mac))
    throw new Error(`${link.peeringId}: ${link.peerVpcId} does not describe the same link`);
  return peer;
}

export function linkPlan(doc: HostDocument, actual: HostState, vpc: VpcContext, ns: string, peerNs: string, link: PeeringLink): LinkPlan {
  const peer = peerOf(doc, vpc, link);
  const mine = actual.routers[ns]?.links.find((l) => l.name === link.ifname);
  const theirs = actual.routers[peerNs]?.links.find((l) => l.name === link.ifname);
  const end = (l: typeof mine, m: string, alias: string) => !!l && l.kind === 'veth' && l.mac === macText(m) && l.alias === alias;
  let ok = end(mine, link.mac, peeringAlias(link.peeringId, link.peerVpcId)) && end(theirs, link.peerMac, peeringAlias(link.peeringId, vpc.vpcId));
  if (ok && mine!.ifindex !== undefined && theirs!.ifindex !== undefined) ok = mine!.peerIndex === theirs!.ifindex && theirs!.peerIndex === mine!.ifindex;
  return { link, peerNs, peer, ok, maker: vpc.vpcId > link.peerVpcId };
}

/** Lines making the pair from this VPC's namespace, and configuring the peer's end (run in peerNs). */
export function makeLinkLines(vpc: VpcContext, lp: LinkPlan): { here: string[]; there: string[] } {
  const { link, peerNs, peer } = lp;
  const x = link.ifname;
  return {
    here: [
      `link add ${x} address ${macText(link.mac)} mtu ${INSTANCE_MTU} type veth peer name ${x} netns ${peerNs} address ${macText(link.peerMac)} mtu ${INSTANCE_MTU}`,
      `link set ${x} alias ${peeringAlias(link.peeringId, peer.vpcId)}`,
      `link set ${x} up`,
      `neigh replace ${PEERING_GATEWAY} lladdr ${macText(link.peerMac)} dev ${x} nud permanent`,
    ],
    there: [
      `link set ${x} alias ${peeringAlias(link.peeringId, vpc.vpcId)}`,
      `link set ${x} up`,
      `neigh replace ${PEERING_GATEWAY} lladdr ${macText(link.mac)} dev ${x} nud permanent`,
      ...peeringRouteLines(peer, link.peeringId, x),
    ],
  };
}
