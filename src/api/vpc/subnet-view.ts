/**
 * Subnets as the SDK's `Subnet` model spells them: what the subnet actions
 * answer, and the subnets of another resource (a network ACL's SubnetSet).
 */
import type { Subnet } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { sql, type Kysely } from 'kysely';
import { parseCidr, size } from '../../core/cidr.js';
import { usableCount } from '../../core/ipam.js';
import type { DB, SubnetsTable } from '../../store/schema.js';
import { loadTags, tencentTime, type Tag } from '../common.js';

export async function subnetModels(db: Kysely<DB>, rows: readonly SubnetsTable[]): Promise<Subnet[]> {
  const ids = rows.map((r) => r.id);
  const [tags, used] = await Promise.all([
    loadTags(db, ids),
    ids.length
      ? db.selectFrom('private_ips').select(['subnet_id', sql<number>`count(*)`.as('n')]).where('subnet_id', 'in', ids).groupBy('subnet_id').execute()
      : Promise.resolve([]),
  ]);
  return subnetModelsWith(rows, tags, new Map(used.map((u) => [u.subnet_id, Number(u.n)])));
}

/** The models of subnets whose tags and addresses in use are at hand (store/subnets.ts `subnetPage`). */
export function subnetModelsWith(rows: readonly SubnetsTable[], tags: ReadonlyMap<string, Tag[]>, inUse: ReadonlyMap<string, number>): Subnet[] {
  return rows.map((r) => {
    const cidr = parseCidr(r.cidr)!;
    return {
      VpcId: r.vpc_id,
      SubnetId: r.id,
      SubnetName: r.name,
      CidrBlock: r.cidr,
      IsDefault: r.is_default === 1,
      EnableBroadcast: r.enable_broadcast === 1,
      Zone: r.zone,
      RouteTableId: r.route_table_id,
      CreatedTime: tencentTime(r.created_at),
      AvailableIpAddressCount: Math.max(0, usableCount(cidr) - (inUse.get(r.id) ?? 0)),
      Ipv6CidrBlock: '',
      NetworkAclId: r.network_acl_id,
      IsRemoteVpcSnat: false,
      TotalIpAddressCount: size(cidr),
      TagSet: tags.get(r.id) ?? [],
      CdcId: '',
      IsCdcSubnet: 0,
    };
  });
}
