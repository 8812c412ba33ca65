/**
 * A region with gateways for the tracer's gateway tests, written as host
 * documents by hand (the NAT parts of the contract come before the compiler
 * fills them), each part as docs/public-network.md describes it:
 *
 *   vpc-a (VNI 100, 10.0.0.0/16)
 *     h1 100.64.0.11   ins-a1 10.0.1.5  subnet-a, EIP 198.51.100.2, sg-a (in: tcp 22, icmp; out: all)
 *     h2 100.64.0.12   ins-a2 10.0.2.6  subnet-b (rtb-nat: 0.0.0.0/0 → nat-1), sg-b (in: tcp 80; out: all)
 *                      ins-a3 10.0.2.7  subnet-b, sg-b
 *                      ins-a4 10.0.3.8  subnet-c (rtb-nat too; no SNAT rule holds it), sg-b
 *   gw1 100.64.1.11, gw2 100.64.1.12: the EIP pair on both; NAT of vpc-a, gw2 rank 0, gw1 rank 1;
 *     nat-1 with 203.0.113.5 and 203.0.113.6: snat-a2 10.0.2.6/32 → .6, snat-b 10.0.2.0/24 → both;
 *     DNAT tcp 203.0.113.5:8080 → 10.0.2.6:80.
 */
import type { HostDocument, NatContext, Port, RemoteEndpoint, SecurityGroupRules, VpcContext } from '../../src/contract/host-document.js';

export const CLUSTER = '100.64.255.1';
export const CLUSTER_MAC = '52:54:ff:00:00:64';
export const NAT_NODE = '100.64.255.12';
export const NAT_MAC = '52:54:fe:00:00:64';
const VPC = 'vpc-a0000000';
const VNI = 100;

export const hostMac = (h: number) => `52:54:00:00:0${h}:64`;

export const port = (instanceId: string, ip: string, subnetId: string, sg: string, extra: Partial<Port> = {}): Port => ({
  instanceId,
  ifname: `p${instanceId.slice(4)}`,
  ip,
  mac: `52:54:00:${ip.split('.').slice(1).map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`,
  subnetId,
  prefix: 24,
  gateway: ip.replace(/\.\d+$/, '.1'),
  securityGroups: [sg],
  ...extra,
});

export const remote = (p: Port, hostId: string, underlay: string, h: number): RemoteEndpoint => ({ ip: p.ip, instanceId: p.instanceId, hostId, underlay, routerMac: hostMac(h) });

const groups: Record<string, SecurityGroupRules> = {
  'sg-a': {
    ingress: [
      { protocol: 'tcp', ports: [[22, 22]], cidr: '0.0.0.0/0', action: 'accept' },
      { protocol: 'icmp', ports: [], cidr: '0.0.0.0/0', action: 'accept' },
    ],
    egress: [{ protocol: 'all', ports: [], cidr: '0.0.0.0/0', action: 'accept' }],
  },
  'sg-b': {
    ingress: [{ protocol: 'tcp', ports: [[80, 80]], cidr: '0.0.0.0/0', action: 'accept' }],
    egress: [{ protocol: 'all', ports: [], cidr: '0.0.0.0/0', action: 'accept' }],
  },
};

export interface GatewayRegionOptions {
  /** The gateway nodes to include (default both). */
  gateways?: ('gw1' | 'gw2')[];
  /** The EIP pairs the gateways hold (default ins-a1's). */
  eips?: VpcContext['eips'];
  /** h2's ownerGateway (default the NAT node); null: none. */
  natGateway?: VpcContext['ownerGateway'] | null;
  /** subnet-a's table routes 0.0.0.0/0 to nat-1 too. */
  eipSubnetNat?: boolean;
  nat?: Partial<NatContext['gateways'][number]>;
}

export function gatewayRegion(o: GatewayRegionOptions = {}): HostDocument[] {
  const a1 = port('ins-a1', '10.0.1.5', 'subnet-a', 'sg-a', { publicIp: '198.51.100.2' });
  const a2 = port('ins-a2', '10.0.2.6', 'subnet-b', 'sg-b');
  const a3 = port('ins-a3', '10.0.2.7', 'subnet-b', 'sg-b');
  const a4 = port('ins-a4', '10.0.3.8', 'subnet-c', 'sg-b');
  const r1 = [remote(a1, 'h1', '100.64.0.11', 1)];
  const r2 = [a2, a3, a4].map((p) => remote(p, 'h2', '100.64.0.12', 2));
  const natRoute = { destination: '0.0.0.0/0', kind: 'nat' as const, natGatewayId: 'nat-1', routeIds: ['rt-nat'] };
  const rtbNat = { routeTableId: 'rtb-nat', main: false, subnets: [{ subnetId: 'subnet-b', cidr: '10.0.2.0/24' }, { subnetId: 'subnet-c', cidr: '10.0.3.0/24' }], routes: [natRoute] };
  const rtbMain = { routeTableId: 'rtb-main', main: true, subnets: [{ subnetId: 'subnet-a', cidr: '10.0.1.0/24' }], routes: o.eipSubnetNat ? [natRoute] : [] };
  const natGateway = o.natGateway === null ? undefined : (o.natGateway ?? { underlay: NAT_NODE, routerMac: NAT_MAC });
  const base = { vpcId: VPC, vni: VNI, cidr: '10.0.0.0/16', groupMembers: {} };

  const h1: HostDocument = {
    hostId: 'h1',
    revision: 1,
    underlay: '100.64.0.11',
    vpcs: [
      {
        ...base,
        routerMac: hostMac(1),
        subnets: [{ subnetId: 'subnet-a', cidr: '10.0.1.0/24', gateway: '10.0.1.1', routeTableId: 'rtb-main' }],
        ports: [a1],
        remotes: r2,
        securityGroups: { 'sg-a': groups['sg-a']! },
        routeTables: [rtbMain],
        publicGateway: { underlay: CLUSTER, routerMac: CLUSTER_MAC },
        ...(o.eipSubnetNat && natGateway ? { ownerGateway: natGateway } : {}),
      },
    ],
  };
  const h2: HostDocument = {
    hostId: 'h2',
    revision: 1,
    underlay: '100.64.0.12',
    vpcs: [
      {
        ...base,
        routerMac: hostMac(2),
        subnets: [
          { subnetId: 'subnet-b', cidr: '10.0.2.0/24', gateway: '10.0.2.1', routeTableId: 'rtb-nat' },
          { subnetId: 'subnet-c', cidr: '10.0.3.0/24', gateway: '10.0.3.1', routeTableId: 'rtb-nat' },
        ],
        ports: [a2, a3, a4],
        remotes: r1,
        securityGroups: { 'sg-b': groups['sg-b']! },
        routeTables: [rtbNat],
        ...(natGateway ? { ownerGateway: natGateway } : {}),
      },
    ],
  };
  const gateways: NatContext['gateways'] = [
    {
      natGatewayId: 'nat-1',
      publicIps: ['203.0.113.5', '203.0.113.6'],
      snat: [
        { natGatewaySnatId: 'snat-a2', source: '10.0.2.6/32', publicIps: ['203.0.113.6'] },
        { natGatewaySnatId: 'snat-b', source: '10.0.2.0/24', publicIps: ['203.0.113.5', '203.0.113.6'] },
      ],
      dnat: [{ protocol: 'tcp', publicIp: '203.0.113.5', publicPort: 8080, privateIp: '10.0.2.6', privatePort: 80 }],
      ...o.nat,
    },
  ];
  const gateway = (hostId: 'gw1' | 'gw2', underlay: string, rank: number): HostDocument => ({
    hostId,
    revision: 1,
    underlay,
    role: 'gateway',
    vpcs: [
      {
        ...base,
        routerMac: CLUSTER_MAC,
        subnets: [],
        ports: [],
        remotes: [...r1, ...r2],
        securityGroups: {},
        eips: o.eips ?? [{ publicIp: '198.51.100.2', privateIp: '10.0.1.5', instanceId: 'ins-a1', bandwidthMbps: 0 }],
        ownerMac: NAT_MAC,
        nat: { zone: 101, rank, gateways },
      },
    ],
  });
  const all = { gw1: gateway('gw1', '100.64.1.11', 1), gw2: gateway('gw2', '100.64.1.12', 0) };
  // Each region its own copy: a test may edit its documents.
  return structuredClone([h1, h2, ...(o.gateways ?? ['gw1', 'gw2']).map((g) => all[g])]);
}
