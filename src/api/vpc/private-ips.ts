/** DescribeVpcPrivateIpAddresses: which of some addresses of a VPC are in use, and by what kind of resource. */
import type { VpcPrivateIpAddress } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { containsIp, formatIp, parseCidr, parseIp } from '../../core/cidr.js';
import { defineAction } from '../action.js';
import { tencentTime } from '../common.js';
import { invalidValue } from '../errors.js';
import { arr, obj, str } from '../params.js';
import { findVpc } from './lookup.js';

/**
 * PrivateIpAddressType names the product holding the address, as Tencent's
 * examples do (`CVM`, `CLB`, `CFS`…). Holder kinds are those of
 * addresses.ts; a kind not listed here is shown upper-cased.
 */
const ADDRESS_TYPES: Record<string, string> = { instance: 'CVM', eni: 'ENI', clb: 'CLB', nat: 'NAT' };
export const addressType = (ownerKind: string) => ADDRESS_TYPES[ownerKind] ?? ownerKind.toUpperCase();

export const describeVpcPrivateIpAddresses = defineAction({
  service: 'vpc',
  name: 'DescribeVpcPrivateIpAddresses',
  params: obj({
    VpcId: str(),
    PrivateIpAddresses: arr(str(), { min: 1, max: 100 }),
  }),
  async run(ctx, p) {
    const vpc = await findVpc(ctx.db, ctx.account.uin, p.VpcId);
    const vpcCidr = parseCidr(vpc.cidr)!;
    const wanted = p.PrivateIpAddresses.map((a, i) => {
      const ip = parseIp(a);
      if (ip === undefined)
        throw invalidValue(`PrivateIpAddresses.${i}`, `\`${a}\` is not an IPv4 address such as 10.0.0.2`, 'InvalidParameterValue.Malformed');
      // Plain InvalidParameterValue: .Range is not among the codes documented for this action.
      if (!containsIp(vpcCidr, ip))
        throw invalidValue(`PrivateIpAddresses.${i}`, `\`${a}\` is outside the CIDR block ${vpc.cidr} of VPC ${vpc.id}`);
      return formatIp(ip);
    });
    const unique = [...new Set(wanted)];
    const rows = await ctx.db
      .selectFrom('private_ips')
      .innerJoin('subnets', 'subnets.id', 'private_ips.subnet_id')
      .select(['private_ips.ip', 'private_ips.owner_kind', 'private_ips.created_at', 'subnets.cidr'])
      .where('private_ips.vpc_id', '=', vpc.id)
      .where('private_ips.ip', 'in', unique)
      .execute();
    const byIp = new Map(rows.map((r) => [r.ip, r]));
    // In request order; addresses not in use are left out, as Tencent does.
    const set: VpcPrivateIpAddress[] = unique.flatMap((ip) => {
      const r = byIp.get(ip);
      return r ? [{ PrivateIpAddress: r.ip, CidrBlock: r.cidr, PrivateIpAddressType: addressType(r.owner_kind), CreatedTime: tencentTime(r.created_at) }] : [];
    });
    return { VpcPrivateIpAddressSet: set };
  },
});

export const privateIpActions = [describeVpcPrivateIpAddresses];
