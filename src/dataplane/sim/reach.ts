/**
 * The reachability matrix of a VPC: for every ordered pair of its instances,
 * what happens to a new packet of one protocol and port from the first to the
 * second — the tracer's verdict code per cell. Pure.
 */
import type { HostDocument } from '../../compile/host-document.js';
import { TraceError, type EndCode, type L4 } from './model.js';
import { trace } from './trace.js';
import { buildWorld, instancesOf, type World } from './world.js';

export interface ReachQuery {
  vpcId: string;
  protocol: L4;
  /** tcp/udp destination port. */
  port?: number;
  /** Only these instances (rows and columns), in this order; default every instance of the VPC with a port. */
  instanceIds?: string[];
}

export interface ReachMatrix {
  vpcId: string;
  protocol: L4;
  port?: number;
  instances: { instanceId: string; ip: string; hostId: string; subnetId: string }[];
  /** cells[i][j]: the trace code from instances[i] to instances[j] ('delivered' when it arrives; 'loopback' on the diagonal). */
  cells: EndCode[][];
  /** Ordered pairs of distinct instances, and how many of them arrive. */
  pairs: number;
  reachable: number;
}

export function reachability(region: World | readonly HostDocument[], q: ReachQuery): ReachMatrix {
  const world = Array.isArray(region) ? buildWorld(region as readonly HostDocument[]) : (region as World);
  const all = instancesOf(world, q.vpcId);
  let chosen = all;
  if (q.instanceIds) {
    const byId = new Map(all.map((i) => [i.port.instanceId, i]));
    chosen = q.instanceIds.map((id) => {
      const i = byId.get(id);
      if (!i) throw new TraceError('unknown-instance', `${id} has no port in ${q.vpcId} on any host: unknown, in another VPC, or not placed yet`);
      return i;
    });
  }
  const instances = chosen.map((i) => ({ instanceId: i.port.instanceId, ip: i.port.ip, hostId: i.router.hostId, subnetId: i.port.subnetId }));
  let reachable = 0;
  const cells = chosen.map((from) =>
    chosen.map((to) => {
      const r = trace(world, { from: from.port.instanceId, to: to.port.instanceId, protocol: q.protocol, port: q.port });
      if (from !== to && r.verdict === 'delivered') reachable++;
      return r.code;
    }),
  );
  const n = chosen.length;
  return { vpcId: q.vpcId, protocol: q.protocol, ...(q.port !== undefined ? { port: q.port } : {}), instances, cells, pairs: n * (n - 1), reachable };
}
