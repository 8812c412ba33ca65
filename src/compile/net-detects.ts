/**
 * Network detections into host documents: a detection of a subnet goes to
 * every host that carries the subnet (a host with a port in it: its router
 * has the subnet's gateway address, the probes' source). Pure.
 */
import type { NetDetectProbe } from '../contract/host-document.js';

/** The columns of net_detects the compiler reads. */
export interface NetDetectRow {
  id: string;
  vpc_id: string;
  subnet_id: string;
  /** JSON array of addresses. */
  destinations: string;
  next_hop_type: string;
  next_hop_destination: string;
}

/** The detections of `vpcId` whose subnet is one of `subnetIds` (those with a port on the host), sorted by ID. */
export function netDetectProbes(rows: readonly NetDetectRow[], vpcId: string, subnetIds: readonly string[]): NetDetectProbe[] {
  const here = new Set(subnetIds);
  return rows
    .filter((r) => r.vpc_id === vpcId && here.has(r.subnet_id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((r) => ({
      netDetectId: r.id,
      subnetId: r.subnet_id,
      destinations: [...(JSON.parse(r.destinations) as string[])].sort(),
      nextHop: nextHopOf(r),
    }));
}

function nextHopOf(r: NetDetectRow): NetDetectProbe['nextHop'] {
  switch (r.next_hop_type) {
    case 'NORMAL_CVM':
      return { type: 'NORMAL_CVM', ip: r.next_hop_destination };
    case 'PEERCONNECTION':
      return { type: 'PEERCONNECTION', peeringId: r.next_hop_destination };
    case 'NAT':
      return { type: 'NAT', natGatewayId: r.next_hop_destination };
    default:
      return { type: 'NONEXTHOP' };
  }
}
