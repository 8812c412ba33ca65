/**
 * The kinds of next hop a route may name (Tencent's GatewayType), each with
 * what its GatewayId must be. A new kind is one entry of NEXT_HOPS (and its
 * compilation into the host document); the Tencent types Weft has no
 * counterpart for yet are listed in NOT_YET and answer UnsupportedOperation.
 *
 * The checks reach the store only through `NextHopEnv`, so this table reads
 * as the rules and is tested without a database.
 */
import { containsCidr, formatCidr, formatIp, parseCidr, parseIp, type Cidr } from './cidr.js';
import { routeFail } from './route-set.js';

/** What the checks need to know about the VPC of the route's table. */
export interface NextHopEnv {
  vpcId: string;
  /** Whether an instance of this VPC has this private address. */
  instanceAt(ip: string): Promise<boolean>;
  /** A peering connection that is ACTIVE and joins this VPC: the VPC on its other side and that VPC's CIDR. */
  activePeering(id: string): Promise<{ peerVpcId: string; peerCidr: string } | undefined>;
  /** The state of a NAT gateway of this VPC (PENDING, AVAILABLE …), undefined if the VPC has none by that ID. */
  natGatewayState(id: string): Promise<string | undefined>;
}

export interface NextHopKind {
  /** How many enabled routes of this kind one destination may have: more than 1 form an ECMP group. */
  maxPerDestination: number;
  /** Checks GatewayId (and the destination, where the kind constrains it); returns GatewayId as stored. */
  check(gatewayId: string, destination: Cidr, env: NextHopEnv, param: string): Promise<string>;
}

const PCX = /^pcx-[0-9a-z]{8}$/;
const NAT = /^nat-[0-9a-z]{8}$/;

export const NEXT_HOPS: Readonly<Record<string, NextHopKind>> = {
  /** An instance of the VPC, by its private address: it forwards what the route sends it (ECMP when several). */
  NORMAL_CVM: {
    maxPerDestination: 8, // Tencent's ECMP limit for instance next hops

    async check(gatewayId, _destination, env, param) {
      const ip = parseIp(gatewayId);
      if (ip === undefined)
        routeFail(
          'InvalidParameterValue.RouteNextHopInvalid',
          `\`${param}.GatewayId\` \`${gatewayId}\` is not an IPv4 address; a NORMAL_CVM next hop is the private IP of an instance of VPC ${env.vpcId}.`,
        );
      const text = formatIp(ip!);
      if (!(await env.instanceAt(text)))
        routeFail(
          'InvalidParameterValue.RouteNextHopInvalid',
          `\`${param}.GatewayId\` ${text} is not the private IP of an instance of VPC ${env.vpcId}; a NORMAL_CVM next hop must be an instance in the route table's VPC.`,
        );
      return text;
    },
  },
  /** An ACTIVE peering connection of the VPC; the destination lies in the VPC on its other side. */
  PEERCONNECTION: {
    maxPerDestination: 1, // Tencent has no ECMP over intra-region peerings

    async check(gatewayId, destination, env, param) {
      if (!PCX.test(gatewayId))
        routeFail(
          'InvalidParameterValue.Malformed',
          `\`${param}.GatewayId\` \`${gatewayId}\` is not a peering connection ID; expected the form pcx-xxxxxxxx.`,
        );
      const peering = await env.activePeering(gatewayId);
      if (!peering)
        routeFail(
          'InvalidParameterValue.RouteNextHopInvalid',
          `\`${param}.GatewayId\` ${gatewayId} is not an active peering connection of VPC ${env.vpcId}; use a peering connection of this VPC that the peer has accepted.`,
        );
      const peerCidr = parseCidr(peering!.peerCidr)!;
      if (!containsCidr(peerCidr, destination))
        routeFail(
          'InvalidParameterValue.CidrNotInPeerVpc',
          `\`${param}.DestinationCidrBlock\` ${formatCidr(destination)} is not within ${peering!.peerCidr}, the CIDR block of the peer VPC ${peering!.peerVpcId} of ${gatewayId}.`,
        );
      return gatewayId;
    },
  },
  /**
   * A NAT gateway of the VPC, AVAILABLE or still PENDING (Tencent accepts a
   * route to a gateway being created). The compiler does not carry these
   * routes yet: no data plane translates for a NAT gateway.
   */
  NAT: {
    maxPerDestination: 1,

    async check(gatewayId, _destination, env, param) {
      if (!NAT.test(gatewayId))
        routeFail('InvalidParameterValue.Malformed', `\`${param}.GatewayId\` \`${gatewayId}\` is not a NAT gateway ID; expected the form nat-xxxxxxxx.`);
      const state = await env.natGatewayState(gatewayId);
      if (state !== 'AVAILABLE' && state !== 'PENDING')
        routeFail(
          'InvalidParameterValue.RouteNextHopInvalid',
          state === undefined
            ? `\`${param}.GatewayId\` ${gatewayId} is not a NAT gateway of VPC ${env.vpcId}; use a NAT gateway of the route table's VPC (DescribeNatGateways).`
            : `\`${param}.GatewayId\` ${gatewayId} is ${state}; delete it and route to a NAT gateway that is AVAILABLE.`,
        );
      return gatewayId;
    },
  },
  /**
   * The internet, through the public IP of each instance the route's table
   * routes (GatewayId is 0, as Tencent documents): an instance with an EIP
   * leaves as its EIP through the gateway cluster; one without has no public
   * address, and the gateway drops it.
   */
  EIP: {
    maxPerDestination: 1,

    async check(gatewayId, _destination, _env, param) {
      if (gatewayId !== '0')
        routeFail('InvalidParameterValue.RouteNextHopInvalid', `\`${param}.GatewayId\` must be 0 when GatewayType is EIP (the public IP of each instance the route serves), not \`${gatewayId}\`.`);
      return '0';
    },
  },
};

/** GatewayTypes Tencent documents that Weft does not have yet, and what each is. */
const NOT_YET: Readonly<Record<string, string>> = {
  CVM: 'public gateway instances',
  VPN: 'VPN gateways',
  DIRECTCONNECT: 'direct connect gateways',
  HAVIP: 'high-availability virtual IPs',
  LOCAL_GATEWAY: 'CDC local gateways',
  INTRANAT: 'private NAT gateways',
  USER_CCN: 'Cloud Connect Networks',
  CCN: 'Cloud Connect Networks',
  GWLB_ENDPOINT: 'gateway load balancer endpoints',
};

const SUPPORTED = Object.keys(NEXT_HOPS).join(' or ');

/** The kind a GatewayType names (any case), or the Tencent error for one Weft does not route to. */
export function nextHopKind(gatewayType: string, param: string): { type: string; kind: NextHopKind } {
  const type = gatewayType.toUpperCase();
  const kind = NEXT_HOPS[type];
  if (kind) return { type, kind };
  if (type === 'LOCAL')
    routeFail('UnsupportedOperation.SystemRoute', `\`${param}.GatewayType\` LOCAL: the local route of a table is the system's own; routes you create use ${SUPPORTED}.`);
  const what = NOT_YET[type];
  if (what)
    routeFail(
      'UnsupportedOperation',
      `\`${param}.GatewayType\` ${type}: Weft does not have ${what} yet; route through an instance (NORMAL_CVM), a peering connection (PEERCONNECTION) or a NAT gateway (NAT).`,
    );
  return routeFail('InvalidParameterValue', `The value of parameter \`${param}.GatewayType\` is invalid: \`${gatewayType}\` is not a next hop type; use ${SUPPORTED}.`);
}

/** How many enabled routes of a GatewayType may share a destination. */
export const maxPerDestination = (gatewayType: string) => NEXT_HOPS[gatewayType]?.maxPerDestination ?? 1;
