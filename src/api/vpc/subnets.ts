/**
 * Subnets: CreateSubnet, CreateSubnets, DescribeSubnets, ModifySubnetAttribute,
 * DeleteSubnet. The writes' queries are store/subnets.ts.
 */
import { containsCidr, formatCidr, overlaps, parseCidr, type Cidr } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import type { SubnetsTable } from '../../store/schema.js';
import type { Write } from '../../store/store.js';
import { addressesInUse, deleteSubnetRows, insertSubnetRows, subnetPage, updateSubnet, vpcSubnetsAndMainTable, type SubnetCondition } from '../../store/subnets.js';
import { defineAction, type Ctx } from '../action.js';
import { checkIds, checkTagKeys, page, release, reserve, tagsParam } from '../common.js';
import { ApiError, invalidValue } from '../errors.js';
import { arr, boolString, filters, int, obj, opt, paging, str, type Filter } from '../params.js';
import { findRouteTable, findSubnet, findVpc, ID } from './lookup.js';
import { dropSnatRulesOf } from './nat-rules.js';
import { subnetModels, subnetModelsWith } from './subnet-view.js';

/** Tencent's subnet sizes: /16 (65,536 addresses) down to /28 (16). */
const MIN_SUBNET_PREFIX = 16;
const MAX_SUBNET_PREFIX = 28;

const subnetName = () => str({ min: 1, max: 60 });

interface NewSubnet {
  cidr: Cidr;
  name: string;
  zone: string;
  /** Where it came from in the request, for messages: `CidrBlock` or `Subnets.2.CidrBlock`. */
  param: string;
  /** The route table to associate it with (CreateSubnets' `Subnets.N.RouteTableId`); absent: the VPC's main table. */
  routeTable?: { id: string; param: string };
}

/** Checks that need no state: CIDR syntax and size, zone. */
function checkNewSubnet(ctx: Ctx, input: { CidrBlock: string; SubnetName: string; Zone: string }, at: string): NewSubnet {
  const param = `${at}CidrBlock`;
  const cidr = parseCidr(input.CidrBlock);
  if (!cidr) {
    const loose = parseCidr(input.CidrBlock, false);
    throw invalidValue(
      param,
      loose
        ? `\`${input.CidrBlock}\` has host bits set; the block starts at its network address, \`${formatCidr(loose)}\``
        : `\`${input.CidrBlock}\` is not a CIDR block in the form 10.0.1.0/24 (network address, then prefix length)`,
      'InvalidParameterValue.Malformed',
    );
  }
  if (cidr.prefix < MIN_SUBNET_PREFIX || cidr.prefix > MAX_SUBNET_PREFIX)
    throw invalidValue(
      param,
      `\`${input.CidrBlock}\` is a /${cidr.prefix}; a subnet's prefix length must be from /${MIN_SUBNET_PREFIX} to /${MAX_SUBNET_PREFIX}`,
      'InvalidParameterValue.SubnetRange',
    );
  // An unknown zone answers InvalidParameterValue.ZoneConflict: it is the only
  // zone-specific code in the documented error lists of CreateSubnet and
  // CreateSubnets (docs/research/tencent-api-facts.md), so clients that switch on
  // codes documented for these actions can tell a zone mistake from other bad
  // values. (InvalidZone.MismatchRegion fits the meaning too, but only cvm
  // documents it.) The message lists the zones that exist.
  if (!ctx.region.zones.some((z) => z.name === input.Zone))
    throw invalidValue(
      `${at}Zone`,
      `the zone \`${input.Zone}\` is not in region ${ctx.region.name}; use one of ${ctx.region.zones.map((z) => `\`${z.name}\``).join(', ')}`,
      'InvalidParameterValue.ZoneConflict',
    );
  return { cidr, name: input.SubnetName, zone: input.Zone, param };
}

/** Weft has no dedicated clusters (CDC): a CdcId cannot name anything here. */
function refuseCdc(cdcId: string | undefined) {
  if (cdcId)
    throw new ApiError('UnsupportedOperation', `\`CdcId\` \`${cdcId}\`: Weft has no dedicated clusters (CDC); omit CdcId to create a regular subnet.`);
}

/**
 * Creates subnets in one VPC, all or none: the quota counts the whole batch,
 * and each block must lie in the VPC and overlap neither the VPC's existing
 * subnets nor the other blocks of the same request.
 */
async function insertSubnets(
  ctx: Ctx,
  w: Write,
  vpcId: string,
  subnets: readonly NewSubnet[],
  tags: readonly { Key: string; Value?: string }[] | undefined,
): Promise<SubnetsTable[]> {
  const account = ctx.account.uin;
  checkTagKeys(tags);
  // The VPC, its subnets and main table, and the route tables the request names, read together.
  const [vpc, { existing, mainTableId }, named] = await Promise.all([
    findVpc(w.tx, account, vpcId),
    vpcSubnetsAndMainTable(w.tx, vpcId),
    Promise.all(subnets.map((s) => s.routeTable && findRouteTable(w.tx, account, s.routeTable.id, s.routeTable.param))),
  ]);
  const vpcCidr = parseCidr(vpc.cidr)!;
  const limit = ctx.account.quotas.subnetPerVpc;
  if (existing.length + subnets.length > limit)
    throw new ApiError(
      'LimitExceeded',
      `The subnets-per-VPC quota is ${limit}; VPC ${vpc.id} has ${existing.length}, ${subnets.length} more requested. Delete unused subnets or ask the operator to raise the quota.`,
    );
  const taken = existing.map((s) => ({ cidr: parseCidr(s.cidr)!, what: `subnet ${s.id} (${s.cidr})` }));
  for (const s of subnets) {
    const text = formatCidr(s.cidr);
    if (!containsCidr(vpcCidr, s.cidr))
      throw new ApiError('InvalidParameterValue.SubnetRange', `\`${text}\` (\`${s.param}\`) is not inside the CIDR block ${vpc.cidr} of VPC ${vpc.id}.`);
    const clash = taken.find((t) => overlaps(t.cidr, s.cidr));
    if (clash) throw new ApiError('InvalidParameterValue.SubnetConflict', `\`${text}\` (\`${s.param}\`) overlaps ${clash.what} in VPC ${vpc.id}.`);
    taken.push({ cidr: s.cidr, what: `\`${text}\` (\`${s.param}\`) of this request` });
  }
  const tables = subnets.map((s, i) => {
    const t = named[i];
    if (!t) return mainTableId!;
    if (t.vpc_id !== vpc.id)
      throw new ApiError(
        'UnsupportedOperation.VpcMismatch',
        `The route table \`${t.id}\` (\`${s.routeTable!.param}\`) is in VPC ${t.vpc_id}, not in ${vpc.id}; a subnet uses a table of its own VPC.`,
      );
    return t.id;
  });
  const rows: SubnetsTable[] = subnets.map((s, i) => ({
    id: newId('subnet'),
    account,
    vpc_id: vpc.id,
    name: s.name,
    cidr: formatCidr(s.cidr),
    zone: s.zone,
    is_default: 0,
    enable_broadcast: 0,
    created_at: w.now,
    route_table_id: tables[i]!,
    network_acl_id: '',
  }));
  await Promise.all([
    // The account-wide row is the O(1) TotalCount of unfiltered DescribeSubnets;
    // the quota itself is per VPC (checked above), so this row has no limit.
    reserve(w, account, 'subnet', subnets.length, Number.POSITIVE_INFINITY, 'subnet'),
    insertSubnetRows(
      w,
      rows,
      rows.flatMap((r) => (tags ?? []).map((t) => ({ account, resource_id: r.id, key: t.Key, value: t.Value ?? '' }))),
    ),
  ]);
  for (const r of rows) w.changed(account, 'subnet', r.id, 'create');
  return rows;
}

export const createSubnet = defineAction({
  service: 'vpc',
  name: 'CreateSubnet',
  params: obj({
    VpcId: str(),
    SubnetName: subnetName(),
    CidrBlock: str(),
    Zone: str(),
    Tags: tagsParam,
    CdcId: opt(str()),
  }),
  async run(ctx, p) {
    const s = checkNewSubnet(ctx, p, '');
    refuseCdc(p.CdcId);
    const rows = await ctx.write((w) => insertSubnets(ctx, w, p.VpcId, [s], p.Tags));
    return { Subnet: (await subnetModels(ctx.db, rows))[0] };
  },
});

export const createSubnets = defineAction({
  service: 'vpc',
  name: 'CreateSubnets',
  params: obj({
    VpcId: str(),
    Subnets: arr(obj({ CidrBlock: str(), SubnetName: subnetName(), Zone: str(), RouteTableId: opt(str()) }), { min: 1, max: 100 }),
    Tags: tagsParam,
    CdcId: opt(str()),
  }),
  async run(ctx, p) {
    const subnets = p.Subnets.map((s, i): NewSubnet => ({
      ...checkNewSubnet(ctx, s, `Subnets.${i}.`),
      ...(s.RouteTableId ? { routeTable: { id: s.RouteTableId, param: `Subnets.${i}.RouteTableId` } } : {}),
    }));
    refuseCdc(p.CdcId);
    const rows = await ctx.write((w) => insertSubnets(ctx, w, p.VpcId, subnets, p.Tags));
    return { SubnetSet: await subnetModels(ctx.db, rows) };
  },
});

/** Filters DescribeSubnets documents. Those naming features Weft lacks (IPv6, CDC, SNAT pools) match as that absence implies. */
const SUBNET_FILTERS = [
  'subnet-id',
  'vpc-id',
  'cidr-block',
  'is-default',
  'is-remote-vpc-snat',
  'subnet-name',
  'zone',
  'tag-key',
  'cdc-id',
  'is-cdc-subnet',
  'ipv6-cidr-block',
  'isp-type',
  'address-type',
] as const;

/** Boolean filter values: `true`/`false` in any case (the Filter model allows "TRUE"/"FALSE"). */
function boolValues(f: Filter, i: number): boolean[] {
  return f.Values.map((v, j) => {
    const l = v.toLowerCase();
    if (l !== 'true' && l !== 'false') throw invalidValue(`Filters.${i}.Values.${j}`, `\`${v}\` is not \`true\` or \`false\``);
    return l === 'true';
  });
}

/** NextToken paging: the token carries the offset of the next page. */
const encodeToken = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString('base64url');
function decodeToken(token: string): number {
  try {
    const o = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown }).offset;
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // falls through to the error below
  }
  throw invalidValue('NextToken', `\`${token}\` is not a token returned by DescribeSubnets; pass the NextToken of the previous page unchanged`);
}

export const describeSubnets = defineAction({
  service: 'vpc',
  name: 'DescribeSubnets',
  params: obj({
    SubnetIds: opt(arr(str(), { max: 100 })),
    Filters: opt(filters(SUBNET_FILTERS, { prefixes: ['tag:'] })),
    ...paging,
    MaxResults: opt(int({ min: 1, max: 100 })),
    NextToken: opt(str()),
  }),
  async run(ctx, p) {
    if (p.SubnetIds?.length && p.Filters?.length)
      throw new ApiError('InvalidParameter.Coexist', 'SubnetIds and Filters cannot be given together; use the subnet-id filter or SubnetIds alone.');
    const tokenPaging = p.MaxResults !== undefined || p.NextToken !== undefined;
    if (tokenPaging && (p.Offset !== undefined || p.Limit !== undefined))
      throw new ApiError('InvalidParameter.Coexist', 'Offset/Limit and MaxResults/NextToken are two ways of paging; use one of them.');
    checkIds(p.SubnetIds, ID.subnet, 'SubnetIds', 'subnet-xxxxxxxx');
    const { offset, limit } = tokenPaging ? { offset: p.NextToken ? decodeToken(p.NextToken) : 0, limit: p.MaxResults ?? 20 } : page(p);
    const account = ctx.account.uin;
    const empty = { TotalCount: 0, SubnetSet: [], ...(tokenPaging ? { NextToken: '' } : {}) };

    const where: SubnetCondition[] = p.SubnetIds?.length ? [{ on: 'id', values: p.SubnetIds }] : [];
    let nothing = false; // a filter no Weft subnet can match
    for (const [i, f] of (p.Filters ?? []).entries()) {
      if (!f.Values.length) throw invalidValue(`Filters.${i}.Values`, 'give at least one value', 'InvalidParameterValue.Empty');
      switch (f.Name) {
        case 'subnet-id':
          where.push({ on: 'id', values: f.Values });
          break;
        case 'vpc-id':
          where.push({ on: 'vpc', values: f.Values });
          break;
        case 'cidr-block':
          // Documented as `192.168.1.0` (network address alone) but a full CIDR is natural too: accept both.
          where.push({
            on: 'cidr',
            values: f.Values.flatMap((v) =>
              v.includes('/') ? [v] : Array.from({ length: MAX_SUBNET_PREFIX - MIN_SUBNET_PREFIX + 1 }, (_, k) => `${v}/${MIN_SUBNET_PREFIX + k}`),
            ),
          });
          break;
        case 'is-default':
          where.push({ on: 'isDefault', values: boolValues(f, i) });
          break;
        case 'is-remote-vpc-snat':
          if (!boolValues(f, i).includes(false)) nothing = true;
          break;
        case 'subnet-name':
          where.push({ on: 'name', values: f.Values });
          break;
        case 'zone':
          where.push({ on: 'zone', values: f.Values });
          break;
        case 'tag-key':
          where.push({ on: 'tagKey', values: f.Values });
          break;
        case 'is-cdc-subnet':
          f.Values.forEach((v, j) => {
            if (v !== '0' && v !== '1') throw invalidValue(`Filters.${i}.Values.${j}`, `\`${v}\` is not \`0\` (regular subnet) or \`1\` (CDC subnet)`);
          });
          if (!f.Values.includes('0')) nothing = true;
          break;
        case 'cdc-id':
        case 'ipv6-cidr-block':
        case 'isp-type':
        case 'address-type':
          nothing = true; // no CDC, no IPv6 blocks
          break;
        default: // tag:KEY
          where.push({ on: 'tag', key: f.Name.slice(4), values: f.Values });
      }
    }
    if (nothing) return empty;
    const { rows, total, tags, inUse } = await subnetPage(ctx.db, { account, where, offset, limit });
    const out = { TotalCount: total, SubnetSet: subnetModelsWith(rows, tags, inUse) };
    if (!tokenPaging) return out;
    return { ...out, NextToken: offset + rows.length < total && rows.length > 0 ? encodeToken(offset + rows.length) : '' };
  },
});

export const modifySubnetAttribute = defineAction({
  service: 'vpc',
  name: 'ModifySubnetAttribute',
  params: obj({
    SubnetId: str(),
    SubnetName: opt(subnetName()),
    EnableBroadcast: opt(boolString()),
  }),
  async run(ctx, p) {
    await ctx.write(async (w) => {
      await findSubnet(w.tx, ctx.account.uin, p.SubnetId);
      const set: Partial<SubnetsTable> = {};
      if (p.SubnetName !== undefined) set.name = p.SubnetName;
      if (p.EnableBroadcast !== undefined) set.enable_broadcast = p.EnableBroadcast ? 1 : 0;
      if (Object.keys(set).length) {
        await updateSubnet(w, p.SubnetId, set);
        w.changed(ctx.account.uin, 'subnet', p.SubnetId, 'update');
      }
      return {};
    });
    return {};
  },
});

export const deleteSubnet = defineAction({
  service: 'vpc',
  name: 'DeleteSubnet',
  params: obj({ SubnetId: str() }),
  async run(ctx, p) {
    await ctx.write(async (w) => {
      const subnet = await findSubnet(w.tx, ctx.account.uin, p.SubnetId);
      const held = await addressesInUse(w.tx, subnet.id, 6);
      if (held.length)
        throw new ApiError(
          'ResourceInUse',
          `The subnet \`${subnet.id}\` still has addresses in use: ${held
            .slice(0, 5)
            .map((h) => `${h.ip} by ${h.owner_kind} ${h.owner_id}`)
            .join(', ')}${held.length > 5 ? ', …' : ''}. Release them (terminate the instances, delete the load balancers, NAT gateways and network detections) first.`,
        );
      await Promise.all([dropSnatRulesOf(w, [subnet.id]), deleteSubnetRows(w, subnet.id), release(w, ctx.account.uin, 'subnet')]);
      w.changed(ctx.account.uin, 'subnet', subnet.id, 'delete');
      return {};
    });
    return {};
  },
});

export const subnetActions = [createSubnet, createSubnets, describeSubnets, modifySubnetAttribute, deleteSubnet];
