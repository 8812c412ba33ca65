/** SNAT and DNAT rules as the NatGateway model and the rule actions answer them. */
import type {
  NatGatewayDestinationIpPortTranslationNatRule,
  SourceIpTranslationNatRule,
} from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { publicIpsOf, type DnatRow, type SnatRow } from '../../store/nat-rules.js';
import { tencentTime } from '../common.js';

type Answer<T> = { [K in keyof T]-?: T[K] };

export const toSnatRule = (r: SnatRow, vpcId: string): Answer<SourceIpTranslationNatRule> => ({
  ResourceId: r.resource_id,
  ResourceType: r.resource_type,
  PrivateIpAddress: r.private_ip,
  PublicIpAddresses: publicIpsOf(r),
  Description: r.description,
  NatGatewaySnatId: r.id,
  NatGatewayId: r.nat_gateway_id,
  VpcId: vpcId,
  CreatedTime: tencentTime(r.created_at),
});

export const toDnatRule = (r: DnatRow, vpcId: string): Answer<NatGatewayDestinationIpPortTranslationNatRule> => ({
  IpProtocol: r.protocol,
  PublicIpAddress: r.public_ip,
  PublicPort: r.public_port,
  PrivateIpAddress: r.private_ip,
  PrivatePort: r.private_port,
  Description: r.description,
  NatGatewayId: r.nat_gateway_id,
  VpcId: vpcId,
  CreatedTime: tencentTime(r.created_at),
});
