/**
 * The load balancers' part of compiling (docs/load-balancers.md), pure:
 * what an LB node balances for a VPC, and what the VPC's hosts need to reach
 * the VIPs and send replies back to the node each flow came through.
 */
import type { HealthCheckSpec, LoadBalancer, Listener, VpcContext } from '../contract/host-document.js';
import { targetHealth, takesTraffic } from '../core/target-health.js';
import { MAGLEV_SIZE } from '../core/maglev.js';
import type { HostSpan } from './compile.js';
import { lbMac, lbNodeMac } from './compile.js';

/**
 * A listener's stored HealthCheck (Tencent's fields, defaults filled in by
 * the API) as the LB nodes probe it; undefined when checks are off.
 */
export function healthCheckSpec(stored: string, protocol: 'tcp' | 'udp'): HealthCheckSpec | undefined {
  const h = JSON.parse(stored || '{}') as Record<string, unknown>;
  if (h.HealthSwitch === 0) return undefined;
  const num = (k: string, d: number) => (typeof h[k] === 'number' ? (h[k] as number) : d);
  const kind = typeof h.CheckType === 'string' ? h.CheckType.toUpperCase() : protocol === 'udp' ? 'PING' : 'TCP';
  const spec: HealthCheckSpec = {
    type: kind === 'HTTP' ? 'http' : kind === 'PING' ? 'ping' : 'tcp',
    intervalMs: num('IntervalTime', 5) * 1000,
    timeoutMs: num('TimeOut', 2) * 1000,
    rise: num('HealthNum', 3),
    fall: num('UnHealthNum', 3),
  };
  if (typeof h.CheckPort === 'number' && h.CheckPort > 0) spec.port = h.CheckPort;
  if (spec.type === 'http') {
    spec.httpPath = typeof h.HttpCheckPath === 'string' && h.HttpCheckPath ? h.HttpCheckPath : '/';
    if (typeof h.HttpCheckDomain === 'string' && h.HttpCheckDomain) spec.httpDomain = h.HttpCheckDomain;
    spec.httpMethod = typeof h.HttpCheckMethod === 'string' && h.HttpCheckMethod.toUpperCase() === 'GET' ? 'GET' : 'HEAD';
    spec.httpCodes = num('HttpCode', 2);
  }
  return spec;
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
const ipKey = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** An LB node's load balancers of one VPC, sorted by ID, listeners by protocol and port, targets by address and port. */
export function loadBalancersOf(span: HostSpan, vpcId: string): LoadBalancer[] {
  const health = new Map<string, string[]>();
  for (const h of span.lbHealth ?? []) {
    const k = `${h.listener_id} ${h.private_ip}:${h.port}`;
    health.set(k, [...(health.get(k) ?? []), h.status]);
  }
  return (span.loadBalancers ?? [])
    .filter((l) => l.vpc_id === vpcId)
    .sort((a, b) => cmp(a.id, b.id))
    .map((lb) => ({
      loadBalancerId: lb.id,
      vip: lb.vip,
      public: lb.type === 'OPEN',
      listeners: (span.lbListeners ?? [])
        .filter((l) => l.load_balancer_id === lb.id)
        .map((l): Listener => {
          const protocol = l.protocol.toLowerCase() === 'udp' ? 'udp' : 'tcp';
          const healthCheck = healthCheckSpec(l.health_check, protocol);
          const listener: Listener = {
            listenerId: l.id,
            protocol,
            port: l.port,
            tableSize: MAGLEV_SIZE,
            targets: (span.lbTargets ?? [])
              .filter((t) => t.listener_id === l.id)
              .sort((a, b) => cmp(ipKey(a.private_ip), ipKey(b.private_ip)) || cmp(a.port, b.port))
              .map((t) => ({
                ip: t.private_ip,
                port: t.port,
                instanceId: t.instance_id,
                weight: t.weight,
                ...(healthCheck ? { healthy: takesTraffic(targetHealth(health.get(`${l.id} ${t.private_ip}:${t.port}`) ?? [], true)) } : {}),
              })),
          };
          if (healthCheck) listener.healthCheck = healthCheck;
          return listener;
        })
        .sort((a, b) => cmp(a.protocol, b.protocol) || cmp(a.port, b.port)),
    }));
}

/**
 * On a host of a VPC with load balancers: the internal VIPs it sends to the
 * LB cluster, and the LB nodes its replies go back through. Nothing when the
 * region has no LB nodes or the VPC no load balancer.
 */
export function hostLbContext(span: HostSpan, vpc: { id: string; vni: number }, lbAddress: string): Pick<VpcContext, 'lbVips' | 'lbNodes'> {
  const nodes = span.lbNodes ?? [];
  const mine = (span.loadBalancers ?? []).filter((l) => l.vpc_id === vpc.id);
  if (!nodes.length || !mine.length) return {};
  const vips = mine.filter((l) => l.type !== 'OPEN').map((l) => l.vip).sort((a, b) => cmp(ipKey(a), ipKey(b)));
  return {
    ...(vips.length ? { lbVips: { vips, underlay: lbAddress, routerMac: lbMac(vpc.vni) } } : {}),
    lbNodes: nodes.map((n, i) => ({ node: i + 1, mac: lbNodeMac(vpc.vni, i + 1), underlay: n.underlay })),
  };
}
