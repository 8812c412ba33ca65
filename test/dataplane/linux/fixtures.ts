/** A VPC context exercising every rule shape the driver emits, for the pure tests. */
import type { HostDocument, VpcContext } from '../../../src/contract/host-document.js';
import { allow, deny, ANY } from './world.js';

export function richVpc(): VpcContext {
  return {
    vpcId: 'vpc-rich0001',
    vni: 4242,
    routerMac: '02:01:00:10:92:fe',
    cidr: '10.0.0.0/16',
    subnets: [
      { subnetId: 'subnet-a', cidr: '10.0.1.0/24', gateway: '10.0.1.1', networkAclId: 'acl-web' },
      { subnetId: 'subnet-b', cidr: '10.0.2.0/24', gateway: '10.0.2.1' },
    ],
    ports: [
      { instanceId: 'ins-00000001', ifname: 'p00000001', ip: '10.0.1.5', mac: '0a:92:0a:00:01:05', subnetId: 'subnet-a', prefix: 24, gateway: '10.0.1.1', securityGroups: ['sg-a', 'sg-b'], routedCidrs: ['172.16.5.0/24', '192.168.0.0/16'] },
      { instanceId: 'ins-00000002', ifname: 'p00000002', ip: '10.0.2.6', mac: '0A:92:0A:00:02:06', subnetId: 'subnet-b', prefix: 24, gateway: '10.0.2.1', securityGroups: ['sg-b'] },
      { instanceId: 'ins-00000003', ifname: 'p00000003', ip: '10.0.1.7', mac: '0a:92:0a:00:01:07', subnetId: 'subnet-a', prefix: 24, gateway: '10.0.1.1', securityGroups: [] },
    ],
    remotes: [
      { ip: '10.0.1.20', instanceId: 'ins-00000020', hostId: 'h2', underlay: '100.64.0.12', routerMac: '02:02:00:10:92:fe' },
      { ip: '10.0.2.21', instanceId: 'ins-00000021', hostId: 'h2', underlay: '100.64.0.12', routerMac: '02:02:00:10:92:fe' },
      { ip: '10.0.1.30', instanceId: 'ins-00000030', hostId: 'h3', underlay: '100.64.0.13', routerMac: '02:03:00:10:92:fe' },
    ],
    securityGroups: {
      'sg-a': {
        ingress: [
          allow('tcp', { cidr: '10.0.0.0/16' }, [[22, 22]]),
          allow('tcp', ANY, [[80, 80], [443, 443], [8000, 8080]]),
          allow('udp', { group: 'sg-b' }, [[53, 53]]),
          allow('icmp', { cidr: '10.0.1.20/32' }),
          allow('icmpv6', { ipv6Cidr: '::/0' }),
          allow('all', { ipv6Cidr: '2001:DB8:0:0::/32' }),
          deny('tcp', { cidr: '192.168.0.0/24' }),
          deny('all', ANY),
        ],
        egress: [allow('udp', { cidr: '10.1.0.0/16' }, [[1000, 2000], [1500, 2500], [3000, 3000]]), allow('all', ANY)],
      },
      'sg-b': {
        ingress: [allow('all', { group: 'sg-a' })],
        egress: [allow('icmp', ANY), deny('udp', { cidr: '10.0.3.4/32' }, [[0, 65535]]), allow('tcp', { ipv6Cidr: '2001:db8::5/128' }, [[22, 22]]), { ...deny('all', { cidr: '10.0.0.0/8' }), protocol: 'gre' as 'all' }],
      },
      'sg-empty': { ingress: [], egress: [] },
    },
    groupMembers: { 'sg-a': ['10.0.1.5', '10.0.1.30'], 'sg-b': ['10.0.2.21', '10.0.1.5', '10.0.2.6'] },
    networkAcls: {
      'acl-web': {
        ingress: [
          { protocol: 'tcp', ports: [[22, 22]], cidr: '10.0.9.0/24', action: 'drop' },
          { protocol: 'tcp', ports: [[22, 22], [80, 80], [8000, 8080]], cidr: '10.0.0.0/8', action: 'accept' },
          { protocol: 'icmp', ports: [], cidr: '0.0.0.0/0', action: 'accept' },
          { protocol: 'all', ports: [], cidr: '10.0.2.0/24', action: 'accept' },
        ],
        egress: [
          { protocol: 'udp', ports: [[53, 53]], cidr: '10.0.0.5/32', action: 'drop' },
          { protocol: 'all', ports: [], cidr: '0.0.0.0/0', action: 'accept' },
        ],
      },
    },
  };
}

export const richDocument = (): HostDocument => ({ hostId: 'h1', revision: 7, underlay: '100.64.0.11', vpcs: [richVpc()] });

/**
 * richVpc with route tables (ECMP over local and remote next hops, one next
 * hop, a blackhole, a remote next hop, a peering route) and a peering link to
 * a VPC with no ports on this host. Document order: the peer sorts first.
 */
export function routingDocument(): HostDocument {
  const rich = richVpc();
  rich.subnets[0]!.routeTableId = 'rtb-main0001';
  rich.subnets[1]!.routeTableId = 'rtb-second01';
  const hop = (ip: string) => ({ ip, instanceId: `ins-000000${ip.split('.')[3]!.padStart(2, '0')}` });
  rich.routeTables = [
    {
      routeTableId: 'rtb-main0001',
      main: true,
      subnets: [{ subnetId: 'subnet-a', cidr: '10.0.1.0/24' }],
      routes: [
        { destination: '10.1.0.0/16', kind: 'peering', peeringId: 'pcx-00000001', peerVpcId: 'vpc-peer0001', routeIds: ['rtbi-1'] },
        { destination: '172.16.5.0/24', kind: 'instance', nextHops: [hop('10.0.1.5')], routeIds: ['rtbi-2'] },
        { destination: '172.17.0.0/16', kind: 'instance', nextHops: [], routeIds: ['rtbi-3'] },
        { destination: '172.18.0.0/16', kind: 'instance', nextHops: [hop('10.0.1.30')], routeIds: ['rtbi-4'] },
        { destination: '192.168.0.0/16', kind: 'instance', nextHops: [hop('10.0.1.5'), hop('10.0.1.7'), hop('10.0.1.20')], routeIds: ['rtbi-5', 'rtbi-6', 'rtbi-7'] },
      ],
    },
    {
      routeTableId: 'rtb-second01',
      main: false,
      subnets: [
        { subnetId: 'subnet-b', cidr: '10.0.2.0/24' },
        { subnetId: 'subnet-z', cidr: '10.0.9.0/24' },
      ],
      routes: [{ destination: '0.0.0.0/0', kind: 'instance', nextHops: [hop('10.0.2.6'), hop('10.0.2.21')], routeIds: ['rtbi-8', 'rtbi-9'] }],
    },
  ];
  rich.peerings = [{ peeringId: 'pcx-00000001', peerVpcId: 'vpc-peer0001', ifname: 'pcx-00000001', mac: '02:70:00:00:01:01', peerMac: '02:70:00:00:01:02' }];
  const peer: VpcContext = {
    vpcId: 'vpc-peer0001',
    vni: 4343,
    routerMac: '02:01:00:10:f7:fe',
    cidr: '10.1.0.0/16',
    subnets: [],
    ports: [],
    remotes: [{ ip: '10.1.0.5', instanceId: 'ins-00000105', hostId: 'h2', underlay: '100.64.0.12', routerMac: '02:02:00:10:f7:fe' }],
    securityGroups: {},
    groupMembers: {},
    routeTables: [
      {
        routeTableId: 'rtb-peer0001',
        main: true,
        subnets: [{ subnetId: 'subnet-p', cidr: '10.1.0.0/24' }],
        routes: [{ destination: '10.0.0.0/16', kind: 'peering', peeringId: 'pcx-00000001', peerVpcId: 'vpc-rich0001', routeIds: ['rtbi-20'] }],
      },
    ],
    peerings: [{ peeringId: 'pcx-00000001', peerVpcId: 'vpc-rich0001', ifname: 'pcx-00000001', mac: '02:70:00:00:01:02', peerMac: '02:70:00:00:01:01' }],
  };
  return { hostId: 'h1', revision: 9, underlay: '100.64.0.11', vpcs: [peer, rich] };
}
