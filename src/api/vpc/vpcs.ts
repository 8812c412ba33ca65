/** VPCs: CreateVpc, DescribeVpcs, ModifyVpcAttribute, DeleteVpc. */
import type { Vpc } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { sql } from 'kysely';
import { containsCidr, formatCidr, parseCidr, parseIp, PRIVATE_BLOCKS } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { loadBalancersInVpc } from '../../store/load-balancers.js';
import { deleteRouteTable, insertRouteTable, mainTableOf } from '../../store/route-tables.js';
import type { VpcsTable } from '../../store/schema.js';
import type { Write } from '../../store/store.js';
import { defineAction, type Ctx } from '../action.js';
import { checkIds, deleteTags, loadTags, nameContains, page, release, reserve, saveTags, taggedBy, tagsParam, tencentTime, usage } from '../common.js';
import { ApiError, invalidValue } from '../errors.js';
import { any, arr, boolString, filters, filterValues, obj, opt, paging, str } from '../params.js';
import { findVpc, ID } from './lookup.js';
import { deleteFlowLogsOf } from '../../store/flow-logs.js';

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

async function toVpc(ctx: Ctx, rows: VpcsTable[]): Promise<Vpc[]> {
  const tags = await loadTags(ctx.db, rows.map((r) => r.id));
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
    const row = await ctx.write(async (w) => {
      await reserve(w, ctx.account.uin, 'vpc', 1, ctx.account.quotas.vpc, 'VPC');
      const row: VpcsTable = {
        vni: await takeVni(w),
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
      await w.tx.insertInto('vpcs').values(row).execute();
      // Every VPC has its main route table, with the LOCAL route, from the start.
      const main = await insertRouteTable(w, { account: ctx.account.uin, vpcId: id, vpcCidr: row.cidr, name: 'default', main: true });
      await saveTags(w, ctx.account.uin, id, p.Tags);
      w.changed(ctx.account.uin, 'vpc', id, 'create');
      w.changed(ctx.account.uin, 'route_table', main.id, 'create');
      return row;
    });
    return { Vpc: (await toVpc(ctx, [row]))[0] };
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
    let q = ctx.db.selectFrom('vpcs').where('account', '=', ctx.account.uin);
    if (p.VpcIds?.length) q = q.where('id', 'in', p.VpcIds);
    const f = p.Filters;
    const names = filterValues(f, 'vpc-name');
    if (names) q = q.where((eb) => eb.or(names.map((n) => nameContains('name', n, { engine: ctx.store.engine, table: 'vpcs' }))));
    const ids = filterValues(f, 'vpc-id');
    if (ids) q = q.where('id', 'in', ids);
    const cidrs = filterValues(f, 'cidr-block');
    if (cidrs) q = q.where('cidr', 'in', cidrs);
    const isDefault = filterValues(f, 'is-default');
    if (isDefault) q = q.where('is_default', 'in', isDefault.map((v) => (v === 'true' ? 1 : 0)));
    for (const tagged of taggedBy(ctx.db, ctx.account.uin, f)) q = q.where('id', 'in', tagged);
    const filtered = !!(p.VpcIds?.length || f?.length);
    if (!filtered) {
      const [rows, total] = await Promise.all([
        q.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute(),
        usage(ctx.db, ctx.account.uin, 'vpc'),
      ]);
      return { TotalCount: total, VpcSet: await toVpc(ctx, rows) };
    }
    // A filter scans the account's VPCs: count them in the same pass as the page.
    const page_ = await q.selectAll().select(sql<number>`count(*) over ()`.as('total_count')).orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
    const total = page_.length
      ? Number(page_[0]!.total_count)
      : offset === 0
        ? 0
        : await q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n));
    const rows = page_.map(({ total_count: _, ...r }) => r);
    return { TotalCount: total, VpcSet: await toVpc(ctx, rows) };
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
      const set: Partial<VpcsTable> = {};
      if (p.VpcName !== undefined) set.name = p.VpcName;
      if (p.EnableMulticast !== undefined) set.enable_multicast = p.EnableMulticast ? 1 : 0;
      if (p.DnsServers !== undefined) set.dns_servers = JSON.stringify(p.DnsServers);
      if (p.DomainName !== undefined) set.domain_name = p.DomainName;
      if (Object.keys(set).length) await w.tx.updateTable('vpcs').set(set).where('id', '=', p.VpcId).execute();
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
      // Subnets are hard-deleted rows of `subnets`, and everything placed in a VPC (instances, addresses) sits in one of them.
      const subnets = await w.tx.selectFrom('subnets').select('id').where('vpc_id', '=', p.VpcId).orderBy('id').limit(6).execute();
      if (subnets.length)
        throw new ApiError(
          'ResourceInUse',
          `The VPC \`${p.VpcId}\` still has subnets (${subnets.slice(0, 5).map((s) => s.id).join(', ')}${subnets.length > 5 ? ', …' : ''}); delete them first.`,
        );
      await refuseWhileInUse(w, p.VpcId);
      const main = await mainTableOf(w.tx, p.VpcId);
      await deleteRouteTable(w, main.id);
      await deleteTags(w, main.id);
      w.changed(ctx.account.uin, 'route_table', main.id, 'delete');
      await deleteFlowLogsOf(w.tx, [p.VpcId]); // as on Tencent, a resource's flow logs go with it
      await w.tx.deleteFrom('vpcs').where('id', '=', p.VpcId).execute();
      await deleteTags(w, p.VpcId);
      await release(w, ctx.account.uin, 'vpc');
      w.changed(ctx.account.uin, 'vpc', p.VpcId, 'delete');
      return {};
    });
    return {};
  },
});

/**
 * What keeps a VPC that has no subnets: route tables other than its main one,
 * network ACLs, peering connections that are pending or active (either
 * side), NAT gateways and load balancers. ResourceInUse names them.
 */
async function refuseWhileInUse(w: Write, vpcId: string): Promise<void> {
  const [tables, acls, peerings, nats, lbs] = await Promise.all([
    w.tx.selectFrom('route_tables').select('id').where('vpc_id', '=', vpcId).where('is_main', '=', 0).orderBy('id').limit(6).execute(),
    w.tx.selectFrom('network_acls').select('id').where('vpc_id', '=', vpcId).orderBy('id').limit(6).execute(),
    w.tx
      .selectFrom('peerings')
      .select('id')
      .where((eb) => eb.or([eb('vpc_id', '=', vpcId), eb('peer_vpc_id', '=', vpcId)]))
      .where('state', 'in', ['PENDING', 'ACTIVE'])
      .orderBy('id')
      .limit(6)
      .execute(),
    w.tx.selectFrom('nat_gateways').select('id').where('vpc_id', '=', vpcId).orderBy('id').limit(6).execute(),
    loadBalancersInVpc(w.tx, vpcId).then((ids) => ids.map((id) => ({ id }))),
  ]);
  const list = (rows: { id: string }[]) => `${rows.slice(0, 5).map((r) => r.id).join(', ')}${rows.length > 5 ? ', …' : ''}`;
  const held = [
    tables.length && `route tables (${list(tables)}): delete them`,
    acls.length && `network ACLs (${list(acls)}): delete them`,
    peerings.length && `pending or active peering connections (${list(peerings)}): delete or reject them`,
    nats.length && `NAT gateways (${list(nats)}): delete them (DeleteNatGateway)`,
    lbs.length && `load balancers (${list(lbs)}): delete them (clb DeleteLoadBalancer)`,
  ].filter((x): x is string => !!x);
  if (held.length) throw new ApiError('ResourceInUse', `The VPC \`${vpcId}\` still has ${held.join('; ')}; then delete the VPC.`);
}

/** VXLAN IDs are 24 bits; Weft hands them out in order, starting at 100. */
const MAX_VNI = 2 ** 24 - 1;
async function takeVni(w: Write): Promise<number> {
  const r = await w.tx
    .updateTable('meta')
    .set({ next_vni: sql`next_vni + 1` })
    .where('id', '=', 1)
    .returning('next_vni')
    .executeTakeFirstOrThrow();
  if (r.next_vni - 1 > MAX_VNI) throw new ApiError('LimitExceeded', 'The region has used all 16,777,215 VXLAN network identifiers.');
  return r.next_vni - 1;
}

export const vpcActionsList = [createVpc, describeVpcs, modifyVpcAttribute, deleteVpc];
