/**
 * The tracer's answer (vpc TraceVpcFlow, docs/trace.md "API (Weft
 * extensions)") and how it lands on the picture: which nodes the packet
 * crossed, which edges it went along, and which node decided a drop.
 */
import type { Graph, GraphEdge } from './graph';
import { peerVpcNodeId, routerId } from './graph';

export type Detail = Record<string, unknown> & {
  InstanceId?: string;
  SubnetId?: string;
  Direction?: string;
  SecurityGroupId?: string;
  PolicyIndex?: number;
  Policy?: { Protocol: string; Ports?: number[][]; Cidr?: string; Ipv6Cidr?: string; Group?: string; Action: string };
  NetworkAclId?: string;
  EntryIndex?: number;
  Entry?: { Protocol: string; Ports?: string | number[][]; Cidr: string; Action: string };
  Decision?: string;
  Groups?: string[];
  Table?: { RouteTableId?: string; SubnetId?: string; View?: string; Matched?: { Destination: string; Kind: string; RouteIds?: (string | number)[] }; NatGatewayId?: string; PeeringId?: string };
  /** Set on a gateway node's own hops (eip-out, snat, route …). */
  Action?: string;
  PeeringId?: string;
  FromVpcId?: string;
  ToVpcId?: string;
  NatGatewayId?: string;
  LoadBalancerId?: string;
};

export interface Hop {
  Stage: string;
  HostId: string;
  VpcId: string;
  Result: 'pass' | 'drop' | 'forward' | 'deliver' | 'answer';
  Summary: string;
  Detail?: Detail;
}

export interface TraceResult {
  Direction: string;
  Source: { InstanceId?: string; HostId: string; VpcId: string; Ip: string };
  Destination: { Ip: string; InstanceId?: string; Note?: string };
  Packet: { Protocol: string; Src: string; Dst: string; SrcPort?: number; DstPort?: number };
  Hops: Hop[];
  Verdict: string;
  Code: string;
  Reason: string;
  LoadBalancer?: { LoadBalancerId?: string };
  Reply?: TraceResult;
  ReplySkipped?: string;
  PendingHostSet?: { HostId: string }[];
}

export interface Highlight {
  /** Nodes the packet crossed or that decided something on its way. */
  nodes: Set<string>;
  /** The node whose rule dropped it. */
  drop?: string;
  /** Drawn edges it went along. */
  edges: Set<string>;
  /** Lines the packet took that the picture has no edge for (an instance to its router). */
  extra: GraphEdge[];
}

export const emptyHighlight = (): Highlight => ({ nodes: new Set(), edges: new Set(), extra: [] });

/** The node a hop's VPC is drawn as: this VPC's router, or the peer VPC's box. */
function vpcNode(graphIds: Set<string>, vpcId: string | undefined, home: string): string | undefined {
  if (!vpcId) return undefined;
  const id = vpcId === home ? routerId(home) : peerVpcNodeId(vpcId);
  return graphIds.has(id) ? id : undefined;
}

/** The node whose rule decided a hop (for a dropping hop: the node that dropped it). */
export function decidingNode(h: Hop, ids: Set<string>, home: string, natHint?: string): string | undefined {
  const d = h.Detail ?? {};
  const has = (id: string | undefined) => (id && ids.has(id) ? id : undefined);
  const router = vpcNode(ids, h.VpcId, home);
  switch (h.Stage) {
    case 'port':
    case 'security-group':
      return has(d.InstanceId) ?? router;
    case 'acl':
      return has(d.SubnetId) ?? has(d.InstanceId) ?? router;
    case 'route':
      return has(d.Table?.RouteTableId) ?? router;
    case 'peering':
      return has(d.PeeringId) ?? router;
    case 'nat':
    case 'eip':
      // A hop on the gateway node names the NAT gateway only when a rule matched; else the one the route chose.
      return has(d.NatGatewayId) ?? has(natHint) ?? router;
    case 'lb':
      return has(d.LoadBalancerId) ?? router;
    default:
      return router;
  }
}

/**
 * Where one trace (a request or a reply) went on `graph`. The packet's
 * places in order — source instance, router, peering, peer VPC, NAT, load
 * balancer, destination — become the path; consecutive places joined by a
 * drawn edge light it up, others get an extra edge. Hops that only decide
 * (security groups, ACLs, the route table consulted) light up their node.
 */
export function highlightTrace(r: TraceResult, graph: Graph, home: string, tag = 'req'): Highlight {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const has = (id: string | undefined) => (id && ids.has(id) ? id : undefined);
  const out = emptyHighlight();
  const path: string[] = [];
  const go = (id: string | undefined) => {
    if (id && path[path.length - 1] !== id) path.push(id);
  };
  const mark = (id: string | undefined) => id && out.nodes.add(id);
  const instanceOrVpc = (h: Hop) => has(h.Detail?.InstanceId) ?? vpcNode(ids, h.VpcId, home);
  // The NAT gateway a route sent the packet to: the tunnel then goes there.
  let viaNat: string | undefined;

  for (const h of r.Hops) {
    const d = h.Detail ?? {};
    if (h.Result === 'drop') {
      out.drop = decidingNode(h, ids, home, viaNat);
      const egress = d.Direction === 'egress' || h.Stage === 'port';
      if (egress && (h.Stage === 'security-group' || h.Stage === 'acl' || h.Stage === 'port')) {
        // Dropped before it left its source: the path ends there.
        path.splice(1);
      } else if (d.Direction === 'ingress' && h.Stage === 'security-group') go(has(d.InstanceId));
      else if (d.Direction === 'ingress' && h.Stage === 'acl') go(has(d.InstanceId));
      // Dropped in a router (no route, blackhole, a lost tunnel frame) or on a gateway: it got that far.
      else if (h.Stage === 'route' || h.Stage === 'tunnel' || h.Stage === 'lb-tunnel' || h.Stage === 'peering') go(vpcNode(ids, h.VpcId, home));
      if (h.Stage === 'peering' || h.Stage === 'nat' || h.Stage === 'eip' || h.Stage === 'lb') go(out.drop);
      mark(out.drop);
      break;
    }
    switch (h.Stage) {
      case 'port':
        go(instanceOrVpc(h));
        break;
      case 'route':
        // A gateway node's own routing (Action set) happens on the NAT side, not in the VPC router.
        if (d.Action) break;
        go(vpcNode(ids, h.VpcId, home));
        mark(has(d.Table?.RouteTableId));
        viaNat = d.Table?.NatGatewayId ?? viaNat;
        break;
      case 'tunnel':
      case 'lb-tunnel':
        go(vpcNode(ids, h.VpcId, home));
        if (d.Via === 'nat') go(has(viaNat));
        break;
      case 'peering':
        go(vpcNode(ids, d.FromVpcId, home));
        go(has(d.PeeringId));
        go(vpcNode(ids, d.ToVpcId, home));
        break;
      case 'eip':
      case 'nat':
        go(has(d.NatGatewayId) ?? (h.Stage === 'nat' ? has(viaNat) : undefined));
        break;
      case 'lb':
        go(has(d.LoadBalancerId) ?? has(r.LoadBalancer?.LoadBalancerId));
        break;
      case 'deliver':
      case 'answer':
        go(instanceOrVpc(h));
        break;
      case 'acl':
        mark(has(d.SubnetId));
        break;
      case 'security-group':
        mark(has(d.InstanceId));
        break;
    }
  }
  // A packet answered by a router ends there: nothing more to add.
  const byPair = new Map<string, string>();
  for (const e of graph.edges) {
    byPair.set(`${e.source}|${e.target}`, e.id);
    byPair.set(`${e.target}|${e.source}`, e.id);
  }
  path.forEach((id, i) => {
    out.nodes.add(id);
    if (!i) return;
    const from = path[i - 1]!;
    const drawn = byPair.get(`${from}|${id}`);
    if (drawn) out.edges.add(drawn);
    else out.extra.push({ id: `trace-${tag}-${i}`, source: from, target: id });
  });
  return out;
}

/** The request's highlight with the reply's added (the reply's drop wins when the request got through). */
export function highlightAll(r: TraceResult, graph: Graph, home: string): Highlight {
  const h = highlightTrace(r, graph, home, 'req');
  if (!r.Reply) return h;
  const back = highlightTrace(r.Reply, graph, home, 'rep');
  back.nodes.forEach((n) => h.nodes.add(n));
  back.edges.forEach((e) => h.edges.add(e));
  // The reply mostly retraces the request's lines; only lines the request did not draw are added.
  const drawn = new Set(h.extra.map((e) => `${e.source}|${e.target}`));
  for (const e of back.extra) if (!drawn.has(`${e.target}|${e.source}`) && !drawn.has(`${e.source}|${e.target}`)) h.extra.push(e);
  h.drop ??= back.drop;
  return h;
}

/** The rule that decided a security-group, ACL or route hop, in a line; undefined for other hops. */
export function decidingRule(h: Hop): string | undefined {
  const d = h.Detail;
  if (!d) return undefined;
  const ports = (p: string | number[][] | undefined) =>
    p === undefined ? '' : typeof p === 'string' ? (p && p !== 'ALL' ? ` ${p}` : '') : p.length ? ` ${p.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(',')}` : '';
  if (h.Stage === 'security-group') {
    if (d.Policy) {
      const p = d.Policy;
      const peer = p.Cidr ?? p.Ipv6Cidr ?? p.Group ?? '';
      return `${d.SecurityGroupId} ${d.Direction} policy ${d.PolicyIndex}: ${p.Action.toUpperCase()} ${p.Protocol}${ports(p.Ports)} ${d.Direction === 'egress' ? 'to' : 'from'} ${peer}`;
    }
    if (d.Decision === 'default') return `${(d.Groups ?? []).join(', ')} ${d.Direction}: no policy matches → the port chain's final drop`;
    if (d.Decision === 'no-groups') return `${d.Direction}: no security group bound → drops everything`;
    if (d.Decision === 'established') return `${d.Direction}: an established flow (conntrack) → accepted`;
    return d.Decision ? `${d.Direction} ${d.Decision}` : undefined;
  }
  if (h.Stage === 'acl') {
    if (d.Entry) {
      const e = d.Entry;
      return `${d.NetworkAclId} ${d.Direction} entry ${d.EntryIndex}: ${e.Action.toUpperCase()} ${e.Protocol}${ports(e.Ports)} ${e.Cidr}`;
    }
    if (!d.NetworkAclId) return undefined;
    if (d.Decision === 'default') return `${d.NetworkAclId} ${d.Direction}: no entry matches → dropped`;
    if (d.Decision === 'intra-subnet') return `${d.NetworkAclId}: the peer is inside the subnet → the ACL does not apply`;
    return `${d.NetworkAclId} ${d.Direction} ${d.Decision ?? ''}`.trim();
  }
  if (h.Stage === 'route' && d.Table) {
    const t = d.Table;
    const m = t.Matched;
    return m ? `${t.RouteTableId}: ${m.Destination} (${m.Kind}${m.RouteIds?.length ? `, route ${m.RouteIds.join(', ')}` : ''})` : `${t.RouteTableId ?? t.View}: no matching route`;
  }
  return undefined;
}
