/**
 * VPCs: CreateVpc, DescribeVpcs, ModifyVpcAttribute, DeleteVpc. The API's
 * rules; the queries are store/vpcs.ts.
 */
import type { Vpc } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { containsCidr, formatCidr, parseCidr, parseIp, PRIVATE_BLOCKS } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { deleteVpcRows, insertVpc, MAX_VNI, updateVpc, vpcDependents, vpcPage, type Tag, type VpcRow } from '../../store/vpcs.js';
import { defineAction } from '../action.js';
import { checkIds, page, requestTags, release, reserve, saveTags, taggedBy, tagsParam, tencentTime } from '../common.js';
import { ApiError, invalidValue } from '../errors.js';
import { any, arr, boolString, filters, filterValues, obj, opt, paging, str } from '../params.js';
import { findVpc, ID } from './lookup.js';

/** Largest prefix (smallest VPC) Tencent allows. */
const MAX_VPC_PREFIX = 28;

export function checkVpcCidr(text: string, param = 'CidrBlock') {
  const c = parseCidr(text);
  if (!c) throw invalidValue(param, `\`${text}\` is not a CIDR block in the form 10.0.0.0/16 (network address, then prefix length)`, 'InvalidParameterValue.Malformed');
  const home = PRIVATE_BLOCKS.find((b) => containsCidr(b.block, c));
  if (!home || c.prefix < home.minPrefix || c.prefix > MAX_VPC_PREFIX)
    throw invalidValue(
      param,
      `\`${text}\` must lie within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 with a prefix length from /12 (/16 for 192.168) to /28`,
      'InvalidParameterValue',
    );
  return c;
}

const dnsServers = opt(arr(str(), { max: 4 }));
function checkDns(list: readonly string[] | undefined) {
  list?.forEach((s, i) => {
    if (parseIp(s) === undefined) throw invalidValue(`DnsServers.${i}`, `\`${s}\` is not an IPv4 address`, 'InvalidParameterValue.Malformed');
  });
  return list;
}

function toVpcsTagged(rows: readonly VpcRow[], tags: Map<string, Tag[]>): Vpc[] {
  return rows.map((r) => ({
    VpcName: r.name,
    VpcId: r.id,
    CidrBlock: r.cidr,
    IsDefault: r.is_default === 1,
    EnableMulticast: r.enable_multicast === 1,
    CreatedTime: tencentTime(r.created_at),
    DnsServerSet: JSON.parse(r.dns_servers) as string[],
    DomainName: r.domain_name,
    DhcpOptionsId: '',
    EnableDhcp: true,
    Ipv6CidrBlock: '',
    TagSet: tags.get(r.id) ?? [],
    AssistantCidrSet: [],
    EnableRouteVpcPublish: false,
    Ipv6CidrBlockSet: [],
    EnableRouteVpcPublishIpv6: false,
  }));
}

export const createVpc = defineAction({
  service: 'vpc',
  name: 'CreateVpc',
  params: obj({
    VpcName: str({ min: 1, max: 60 }),
    CidrBlock: str(),
    EnableMulticast: opt(boolString()),
    DnsServers: dnsServers,
    DomainName: opt(str({ max: 60 })),
    Tags: tagsParam,
    EnableRouteVpcPublish: opt(any()),
    EnableRouteVpcPublishIpv6: opt(any()),
  }),
  async run(ctx, p) {
    const cidr = checkVpcCidr(p.CidrBlock);
    checkDns(p.DnsServers);
    const id = newId('vpc');
    const mainId = newId('rtb');
    const row = await ctx.write(async (w) => {
      await reserve(w, ctx.account.uin, 'vpc', 1, (await ctx.quotas()).vpc, 'VPC');
      const fields = {
        id,
        account: ctx.account.uin,
        name: p.VpcName,
        cidr: formatCidr(cidr),
        is_default: 0,
        enable_multicast: p.EnableMulticast ? 1 : 0,
        dns_servers: JSON.stringify(p.DnsServers ?? []),
        domain_name: p.DomainName ?? '',
        created_at: w.now,
      };
      // Every VPC has its main route table, with the LOCAL route, from the start.
      const [row] = await Promise.all([insertVpc(w, fields, mainId, newId('rti'), checkVni), saveTags(w, ctx.account.uin, id, p.Tags)]);
      w.changed(ctx.account.uin, 'vpc', id, 'create');
      w.changed(ctx.account.uin, 'route_table', mainId, 'create');
      return row;
    });
    return { Vpc: toVpcsTagged([row], new Map([[id, requestTags(p.Tags)]]))[0] };
  },
});

export const describeVpcs = defineAction({
  service: 'vpc',
  name: 'DescribeVpcs',
  params: obj({
    VpcIds: opt(arr(str(), { max: 100 })),
    Filters: opt(filters(['vpc-name', 'is-default', 'vpc-id', 'cidr-block', 'tag-key'], { prefixes: ['tag:'] })),
    ...paging,
  }),
  async run(ctx, p) {
    if (p.VpcIds?.length && p.Filters?.length)
      throw new ApiError('InvalidParameter.Coexist', 'VpcIds and Filters cannot be given together; use the vpc-id filter or VpcIds alone.');
    checkIds(p.VpcIds, ID.vpc, 'VpcIds', 'vpc-xxxxxxxx');
    const { offset, limit } = page(p);
    const f = p.Filters;
    const { rows, total, tags } = await vpcPage(ctx.db, {
      account: ctx.account.uin,
      // The IDs given or those of the vpc-id filter (never both: Coexist above).
      ids: p.VpcIds?.length ? p.VpcIds : filterValues(f, 'vpc-id'),
      names: filterValues(f, 'vpc-name'),
      cidrs: filterValues(f, 'cidr-block'),
      isDefault: filterValues(f, 'is-default')?.map((v) => v === 'true'),
      within: taggedBy(ctx.db, ctx.account.uin, f),
      offset,
      limit,
    });
    return { TotalCount: total, VpcSet: toVpcsTagged(rows, tags) };
  },
});

export const modifyVpcAttribute = defineAction({
  service: 'vpc',
  name: 'ModifyVpcAttribute',
  params: obj({
    VpcId: str(),
    VpcName: opt(str({ min: 1, max: 60 })),
    EnableMulticast: opt(boolString()),
    DnsServers: dnsServers,
    DomainName: opt(str({ max: 60 })),
    EnableRouteVpcPublish: opt(any()),
    EnableCdcPublish: opt(any()),
    EnableRouteVpcPublishIpv6: opt(any()),
  }),
  async run(ctx, p) {
    checkDns(p.DnsServers);
    await ctx.write(async (w) => {
      await findVpc(w.tx, ctx.account.uin, p.VpcId);
      await updateVpc(w, p.VpcId, {
        ...(p.VpcName !== undefined ? { name: p.VpcName } : {}),
        ...(p.EnableMulticast !== undefined ? { enable_multicast: p.EnableMulticast ? 1 : 0 } : {}),
        ...(p.DnsServers !== undefined ? { dns_servers: JSON.stringify(p.DnsServers) } : {}),
        ...(p.DomainName !== undefined ? { domain_name: p.DomainName } : {}),
      });
      w.changed(ctx.account.uin, 'vpc', p.VpcId, 'update');
      return {};
    });
    return {};
  },
});

export const deleteVpc = defineAction({
  service: 'vpc',
  name: 'DeleteVpc',
  params: obj({ VpcId: str() }),
  async run(ctx, p) {
    await ctx.write(async (w) => {
      await findVpc(w.tx, ctx.account.uin, p.VpcId);
      const held = await vpcDependents(w.tx, p.VpcId, 6);
      const list = (ids: string[]) => `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`;
      // Subnets are hard-deleted rows of `subnets`, and everything placed in a VPC (instances, addresses) sits in one of them.
      if (held.subnets.length)
        throw new ApiError('ResourceInUse', `The VPC \`${p.VpcId}\` still has subnets (${list(held.subnets)}); delete them first.`);
      // What else keeps a VPC that has no subnets.
      const others = [
        held.tables.length && `route tables (${list(held.tables)}): delete them`,
        held.acls.length && `network ACLs (${list(held.acls)}): delete them`,
        held.peerings.length && `pending or active peering connections (${list(held.peerings)}): delete or reject them`,
        held.nats.length && `NAT gateways (${list(held.nats)}): delete them (DeleteNatGateway)`,
        held.lbs.length && `load balancers (${list(held.lbs)}): delete them (clb DeleteLoadBalancer)`,
      ].filter((x): x is string => !!x);
      if (others.length) throw new ApiError('ResourceInUse', `The VPC \`${p.VpcId}\` still has ${others.join('; ')}; then delete the VPC.`);
      await Promise.all([deleteVpcRows(w, p.VpcId, held.mainTableId), release(w, ctx.account.uin, 'vpc')]);
      w.changed(ctx.account.uin, 'route_table', held.mainTableId, 'delete');
      w.changed(ctx.account.uin, 'vpc', p.VpcId, 'delete');
      return {};
    });
    return {};
  },
});

function checkVni(vni: number) {
  if (vni > MAX_VNI) throw new ApiError('LimitExceeded', 'The region has used all 16,777,215 VXLAN network identifiers.');
}

export const vpcActionsList = [createVpc, describeVpcs, modifyVpcAttribute, deleteVpc];
