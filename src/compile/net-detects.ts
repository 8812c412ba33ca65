/**
 * Network detections into host documents (docs/operations.md, "NetDetect").
 * A detection holds two source addresses of its subnet (Tencent's
 * DetectSourceIp). Each is placed on a host that carries the subnet (has a
 * running instance in it), chosen by rendezvous hashing so that a host coming
 * or going moves only the sources it held; with two such hosts the two
 * sources probe from two places. The placed source sits on that host's VPC
 * router `lo`, and is a remote endpoint everywhere else, so the answers of
 * any destination, on any host, come back to it through the tunnel.
 *
 * The detection goes into the documents of the hosts that hold a source (they
 * probe) and, for a NORMAL_CVM next hop, of the host whose port is the next
 * hop (the probes arrive there over the tunnel and must be sent on to it, not
 * routed as the subnet's traffic). Pure.
 */
import { createHash } from 'node:crypto';
import type { NetDetectProbe, RemoteEndpoint } from '../contract/host-document.js';

/** The columns of net_detects the compiler reads, with the detection's source addresses. */
export interface NetDetectRow {
  id: string;
  vpc_id: string;
  subnet_id: string;
  /** JSON array of addresses. */
  destinations: string;
  next_hop_type: string;
  next_hop_destination: string;
  /** The addresses it holds in its subnet (private_ips, owner_kind net_detect), sorted. */
  sources: string[];
}

/** Where a detection's sources are: by address, the host whose router holds it. */
export interface NetDetectPlacement {
  row: NetDetectRow;
  hosts: Map<string, string>;
}

const rank = (detectionId: string, hostId: string) => createHash('sha256').update(`${detectionId}/${hostId}`).digest().readUInt32BE(0);

/**
 * Places the sources of the VPC's detections: `subnetHosts` — per subnet, the
 * hosts with a running instance in it. Source i goes to the i-th host by
 * rank (the only one, when there is one); a subnet with no running instance
 * probes from nowhere.
 */
export function placeNetDetects(rows: readonly NetDetectRow[], vpcId: string, subnetHosts: ReadonlyMap<string, readonly string[]>): NetDetectPlacement[] {
  return rows
    .filter((r) => r.vpc_id === vpcId)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((row) => {
      const ranked = [...(subnetHosts.get(row.subnet_id) ?? [])].sort((a, b) => rank(row.id, b) - rank(row.id, a) || (a < b ? -1 : 1));
      const hosts = new Map<string, string>();
      if (ranked.length) row.sources.forEach((ip, i) => hosts.set(ip, ranked[i % ranked.length]!));
      return { row, hosts };
    });
}

/** The placed sources as remote endpoints: each host leaves out its own, as with instances. */
export function sourceEndpoints(placed: readonly NetDetectPlacement[], endpoint: (hostId: string) => Omit<RemoteEndpoint, 'ip' | 'instanceId'> | undefined): RemoteEndpoint[] {
  return placed.flatMap((p) =>
    [...p.hosts].flatMap(([ip, hostId]) => {
      const e = endpoint(hostId);
      return e ? [{ ip, instanceId: p.row.id, ...e }] : [];
    }),
  );
}

/** The detections in `hostId`'s document: those it probes (holds a source of), and those whose NORMAL_CVM next hop is one of `localIps`. */
export function netDetectProbes(placed: readonly NetDetectPlacement[], hostId: string, localIps: ReadonlySet<string>): NetDetectProbe[] {
  return placed.flatMap(({ row: r, hosts }) => {
    const local = [...hosts].filter(([, h]) => h === hostId).map(([ip]) => ip);
    if (!local.length && !(r.next_hop_type === 'NORMAL_CVM' && localIps.has(r.next_hop_destination))) return [];
    return [
      {
        netDetectId: r.id,
        subnetId: r.subnet_id,
        destinations: [...(JSON.parse(r.destinations) as string[])].sort(),
        nextHop: nextHopOf(r),
        sources: [...hosts.keys()],
        local,
      },
    ];
  });
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
