/**
 * A region with load balancers for the tracer's tests, written as host
 * documents by hand (the LB parts of the contract come before the compiler
 * fills them), as docs/load-balancers.md describes them:
 *
 *   vpc-a (VNI 100, 10.0.0.0/16); every host has lbVips (10.0.1.100 → the LB cluster) and lbNodes
 *     h1 100.64.0.11   ins-a1 10.0.1.5   subnet-a, sg-client (in: icmp; out: all)
 *     h2 100.64.0.12   ins-b1 10.0.2.6   subnet-b, sg-web (in: tcp 8080, 8443 and udp 53 from anywhere; out: all)
 *                      ins-b2 10.0.2.7   subnet-b, sg-web
 *                      ins-b3 10.0.2.8   subnet-b, sg-closed (no ingress policy)
 *     h3 100.64.0.13   ins-b4 10.0.3.9   subnet-c, sg-web (weight 0 everywhere)
 *                      ins-b5 10.0.3.10  subnet-c, sg-web (unhealthy)
 *   lb1 100.64.2.11 (node 1), lb2 100.64.2.12 (node 2), each with vpc-a's two load balancers:
 *     lb-int  internal, VIP 10.0.1.100: tcp 80 → b1, b2, b4 (weight 0), b5 (unhealthy) on 8080;
 *             tcp 22 → b3:22; udp 53 → b4:53 (weight 0: an empty table)
 *     lb-pub  public, VIP 203.0.113.80: tcp 443 → b1, b2 on 8443
 */
import { lbMac, lbNodeMac } from '../../src/compile/compile.js';
import type { HostDocument, LoadBalancer, Port, SecurityGroupRules, VpcContext } from '../../src/contract/host-document.js';
import { DEFAULT_LB_ADDRESS } from '../../src/core/region.js';
import { hostMac, port, remote } from './gateway-region.js';

export const VPC = 'vpc-a0000000';
export const VNI = 100;
export const VIP = '10.0.1.100';
export const PUBLIC_VIP = '203.0.113.80';
export const CLIENT = '198.18.0.10';
/** A small prime: the tests walk many flows; the default size (65537) is one test's. */
export const SIZE = 251;

const anywhere = '0.0.0.0/0';
export const groups: Record<string, SecurityGroupRules> = {
  'sg-client': { ingress: [{ protocol: 'icmp', ports: [], cidr: anywhere, action: 'accept' }], egress: [{ protocol: 'all', ports: [], cidr: anywhere, action: 'accept' }] },
  'sg-web': {
    ingress: [
      { protocol: 'tcp', ports: [[8080, 8080], [8443, 8443]], cidr: anywhere, action: 'accept' },
      { protocol: 'udp', ports: [[53, 53]], cidr: anywhere, action: 'accept' },
    ],
    egress: [{ protocol: 'all', ports: [], cidr: anywhere, action: 'accept' }],
  },
  'sg-closed': { ingress: [], egress: [{ protocol: 'all', ports: [], cidr: anywhere, action: 'accept' }] },
};

export interface LbRegionOptions {
  /** The LB nodes to include (default both). */
  nodes?: ('lb1' | 'lb2')[];
  /** Each listener's table size (default SIZE). */
  tableSize?: number;
  /** Hosts without the VIP route (as before the compiler fills lbVips). */
  noVipRoutes?: boolean;
}

export function lbRegion(o: LbRegionOptions = {}): HostDocument[] {
  const a1 = port('ins-a1', '10.0.1.5', 'subnet-a', 'sg-client');
  const b1 = port('ins-b1', '10.0.2.6', 'subnet-b', 'sg-web');
  const b2 = port('ins-b2', '10.0.2.7', 'subnet-b', 'sg-web');
  const b3 = port('ins-b3', '10.0.2.8', 'subnet-b', 'sg-closed');
  const b4 = port('ins-b4', '10.0.3.9', 'subnet-c', 'sg-web');
  const b5 = port('ins-b5', '10.0.3.10', 'subnet-c', 'sg-web');
  const placed = { h1: [a1], h2: [b1, b2, b3], h3: [b4, b5] };
  const underlay = { h1: '100.64.0.11', h2: '100.64.0.12', h3: '100.64.0.13' };
  const everyRemote = Object.entries(placed).flatMap(([h, ps], i) => ps.map((p) => remote(p, h, underlay[h as keyof typeof placed], i + 1)));
  const remotesOf = (hostId: string) => everyRemote.filter((x) => x.hostId !== hostId);
  const subnets = {
    'subnet-a': { subnetId: 'subnet-a', cidr: '10.0.1.0/24', gateway: '10.0.1.1' },
    'subnet-b': { subnetId: 'subnet-b', cidr: '10.0.2.0/24', gateway: '10.0.2.1' },
    'subnet-c': { subnetId: 'subnet-c', cidr: '10.0.3.0/24', gateway: '10.0.3.1' },
  };
  const lbNodes = [
    { node: 1, mac: lbNodeMac(VNI, 1), underlay: '100.64.2.11' },
    { node: 2, mac: lbNodeMac(VNI, 2), underlay: '100.64.2.12' },
  ];
  const base = { vpcId: VPC, vni: VNI, cidr: '10.0.0.0/16', groupMembers: {} };

  const host = (hostId: keyof typeof placed, n: number): HostDocument => {
    const ports = placed[hostId];
    const vpc: VpcContext = {
      ...base,
      routerMac: hostMac(n),
      subnets: [...new Set(ports.map((p) => p.subnetId))].map((s) => subnets[s as keyof typeof subnets]),
      ports,
      remotes: remotesOf(hostId),
      securityGroups: Object.fromEntries([...new Set(ports.flatMap((p) => p.securityGroups))].map((sg) => [sg, groups[sg]!])),
      ...(o.noVipRoutes ? {} : { lbVips: { vips: [VIP], underlay: DEFAULT_LB_ADDRESS, routerMac: lbMac(VNI) } }),
      lbNodes,
    };
    return { hostId, revision: 1, underlay: underlay[hostId], vpcs: [vpc] };
  };

  const tableSize = o.tableSize ?? SIZE;
  const target = (p: Port, targetPort: number, weight: number, healthy?: boolean) => ({ ip: p.ip, port: targetPort, instanceId: p.instanceId, weight, ...(healthy === undefined ? {} : { healthy }) });
  const loadBalancers: LoadBalancer[] = [
    {
      loadBalancerId: 'lb-int00000',
      vip: VIP,
      public: false,
      listeners: [
        { listenerId: 'lbl-ssh0000', protocol: 'tcp', port: 22, tableSize, targets: [target(b3, 22, 10, true)] },
        { listenerId: 'lbl-web0000', protocol: 'tcp', port: 80, tableSize, targets: [target(b1, 8080, 10, true), target(b2, 8080, 10, true), target(b4, 8080, 0, true), target(b5, 8080, 10, false)] },
        { listenerId: 'lbl-dns0000', protocol: 'udp', port: 53, tableSize, targets: [target(b4, 53, 0)] },
      ],
    },
    {
      loadBalancerId: 'lb-pub00000',
      vip: PUBLIC_VIP,
      public: true,
      listeners: [{ listenerId: 'lbl-tls0000', protocol: 'tcp', port: 443, tableSize, targets: [target(b1, 8443, 10), target(b2, 8443, 10)] }],
    },
  ];
  const node = (hostId: 'lb1' | 'lb2', n: number): HostDocument => ({
    hostId,
    revision: 1,
    underlay: lbNodes[n - 1]!.underlay,
    role: 'lb',
    lbNode: n,
    vpcs: [{ ...base, routerMac: lbMac(VNI), subnets: [], ports: [], remotes: everyRemote, securityGroups: {}, loadBalancers }],
  });
  const all = { lb1: node('lb1', 1), lb2: node('lb2', 2) };
  // Each region its own copy: a test may edit its documents.
  return structuredClone([host('h1', 1), host('h2', 2), host('h3', 3), ...(o.nodes ?? ['lb1', 'lb2']).map((n) => all[n])]);
}
