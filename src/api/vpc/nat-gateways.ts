/**
 * NAT gateways (vpc 2017-03-12): CreateNatGateway, DescribeNatGateways,
 * ModifyNatGatewayAttribute, DeleteNatGateway, AssociateNatGatewayAddress,
 * DisassociateNatGatewayAddress. (SNAT and DNAT rules: nat-rules.ts.)
 *
 * A gateway belongs to a VPC and holds the account's EIPs (they show as bound
 * to it, InstanceType NAT). CreateNatGateway answers at once with the gateway
 * PENDING; a task under the call's RequestId (DescribeVpcTaskResult) makes it
 * AVAILABLE (controller/nat-gateway-task.ts), and until then other actions on
 * it wait, as Tencent asks. Every call is one transaction. No packet is
 * translated yet: what is kept and what is not enforced, docs/public-network.md.
 *
 * Error codes are the per-action lists of tencentcloud-sdk-go
 * vpc/v20170312/client.go (commit 144f6c8d), as docs/research/public-network.md §2.7 collects them.
 */
import type { NatGateway } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { sql } from 'kysely';
import { parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { eipsOfNats, holdEipsForNat, insertNatGateway, releaseEipsOfNat, routesToNat, type NatGatewayRow } from '../../store/nat-gateways.js';
import { deleteFlowsOfGateway } from '../../store/gateway-flows.js';
import { deleteRulesOfNat, dnatRulesOf, dropIpsFromSnatRules, snatRulesOf } from '../../store/nat-rules.js';
import { recordRunningTask } from '../../store/tasks.js';
import type { Write } from '../../store/store.js';
import { defineAction, type Ctx } from '../action.js';
import { deleteTags, loadTags, page, saveTags, taggedBy, tagsParam, tencentTime } from '../common.js';
import { fail } from '../errors.js';
import { any, arr, bool, filters, idOf, int, obj, opt, paging, str, type Schema } from '../params.js';
import { ID } from './lookup.js';
import { allocateEips, eipChanged } from './eips.js';
import { toDnatRule, toSnatRule } from './nat-rule-models.js';

export const NAT_ID = idOf('nat');

// ---------------------------------------------------------------------------
// Rules

/** Tencent's choices for a traditional (version 1) NAT gateway. */
const BANDWIDTHS = [20, 50, 100, 200, 500, 1000, 2000, 5000];
const CONNECTIONS = [1000000, 3000000, 10000000];
/** EIPs one gateway may hold (Tencent's NAT gateway limits). */
export const EIPS_PER_NAT = 10;

/** NatGatewayName: 1 to 60 characters. */
const natName: Schema<string> = {
  describe: 'String',
  parse(v, path) {
    const s = str().parse(v, path);
    const n = [...s].length;
    if (n === 0) fail('InvalidParameterValue.Empty', `\`${path}\` is empty; give the NAT gateway a name of 1 to 60 characters.`);
    if (n > 60) fail('InvalidParameterValue.TooLong', `\`${path}\` is ${n} characters long; at most 60 are allowed.`);
    return s;
  },
};

export function checkNatId(id: string, param = 'NatGatewayId'): string {
  if (!NAT_ID.test(id)) fail('InvalidParameterValue.Malformed', `\`${id}\` (\`${param}\`) is not a NAT gateway ID; expected the form nat-xxxxxxxx.`);
  return id;
}

/** The account's NAT gateway (another account's answers as missing), locked for this transaction on PostgreSQL. */
export async function ownNat(w: Write, ctx: Ctx, id: string, param = 'NatGatewayId'): Promise<NatGatewayRow> {
  checkNatId(id, param);
  let q = w.tx.selectFrom('nat_gateways').selectAll().where('id', '=', id).where('account', '=', ctx.account.uin);
  if (ctx.store.engine === 'postgres') q = q.forUpdate();
  return (await q.executeTakeFirst()) ?? fail('ResourceNotFound', `The NAT gateway \`${id}\` (\`${param}\`) does not exist.`);
}

/** NatGatewayIds (at most 100, well formed) or Filters, not both: the Describe actions that take either. */
export function checkIdsOrFilters(p: { NatGatewayIds?: string[]; Filters?: unknown[] }) {
  if (p.NatGatewayIds?.length && p.Filters?.length) fail('InvalidParameter.Coexist', 'Give `NatGatewayIds` or `Filters`, not both.');
  if (p.NatGatewayIds && p.NatGatewayIds.length > 100)
    fail('InvalidParameterValue.LimitExceeded', `\`NatGatewayIds\` takes at most 100 IDs per request; ${p.NatGatewayIds.length} were given.`);
  p.NatGatewayIds?.forEach((id, i) => checkNatId(id, `NatGatewayIds.${i}`));
}

/**
 * One transaction changing the account's gateway `id`: locks it, runs `fn`,
 * records the change of the gateway and its VPC. These actions answer only a
 * RequestId.
 */
export async function changeNat(ctx: Ctx, id: string, fn: (w: Write, nat: NatGatewayRow) => Promise<void>): Promise<Record<string, never>> {
  await ctx.write(async (w) => {
    const nat = await ownNat(w, ctx, id);
    await fn(w, nat);
    natChanged(w, nat, 'update');
    return {};
  });
  return {};
}

/** Tencent: act on a new gateway only once DescribeNatGateways shows it AVAILABLE. */
export function requireAvailable(nat: NatGatewayRow, code: string) {
  if (nat.state !== 'AVAILABLE')
    fail(code, `The NAT gateway \`${nat.id}\` is ${nat.state}; wait until DescribeNatGateways shows it AVAILABLE${nat.state === 'PENDFAILURE' ? ' (it failed: delete it and create another)' : ''}.`);
}

/** Records a gateway change and a change of its VPC, whose hosts will carry it. */
export function natChanged(w: Write, nat: NatGatewayRow, op: 'create' | 'update' | 'delete') {
  w.changed(nat.account, 'nat_gateway', nat.id, op);
  w.changed(nat.account, 'vpc', nat.vpc_id, 'update');
}

/**
 * The account's unbound, traffic-billed EIPs with these public addresses, to
 * be held by a gateway; each refusal names the address.
 */
async function eipsToHold(w: Write, account: string, ips: readonly string[], param: string) {
  ips.forEach((ip, i) => {
    if (parseIp(ip) === undefined) fail('InvalidParameterValue.Malformed', `\`${ip}\` (\`${param}.${i}\`) is not an IPv4 address.`);
    if (ips.indexOf(ip) !== i) fail('InvalidParameterValue.Malformed', `\`${ip}\` is given twice in \`${param}\`; name each EIP once.`);
  });
  if (!ips.length) return [];
  const rows = await w.tx.selectFrom('addresses').selectAll().where('account', '=', account).where('ip', 'in', [...ips]).execute();
  const byIp = new Map(rows.map((r) => [r.ip, r]));
  return ips.map((ip, i) => {
    const r = byIp.get(ip);
    if (!r)
      fail('UnsupportedOperation.PublicIpAddressIsNotExisted', `\`${ip}\` (\`${param}.${i}\`) is not an EIP of this account; allocate one (AllocateAddresses) and give its address.`);
    if (r!.status !== 'UNBIND')
      fail(
        'ResourceInUse.Address',
        `The EIP ${r!.id} (${ip}) is ${r!.nat_gateway_id ? `held by the NAT gateway ${r!.nat_gateway_id}` : `bound to ${r!.instance_id}`}; unbind it first or give another.`,
      );
    if (r!.charge_type !== 'TRAFFIC_POSTPAID_BY_HOUR')
      fail(
        'UnsupportedOperation.PublicIpAddressNotBilledByTraffic',
        `The EIP ${r!.id} (${ip}) is charged ${r!.charge_type}; a NAT gateway takes EIPs charged TRAFFIC_POSTPAID_BY_HOUR.`,
      );
    return r!;
  });
}

/** Binds the EIPs to the gateway, with their change records; a concurrent bind makes the whole call fail. */
async function hold(w: Write, nat: NatGatewayRow, eips: readonly { id: string }[], bandwidth: number | undefined) {
  const ids = eips.map((e) => e.id);
  if (!(await holdEipsForNat(w.tx, nat.id, ids)))
    fail('ResourceInUse.Address', `One of the EIPs ${ids.join(', ')} was bound by another request meanwhile; describe them and try again.`);
  if (bandwidth !== undefined && ids.length) await w.tx.updateTable('addresses').set({ bandwidth }).where('id', 'in', ids).execute();
  for (const id of ids) eipChanged(w, nat.account, id, 'update');
}

/** StockPublicIpAddressesBandwidthOut: the bandwidth the EIPs given get, 1 to 5000 Mbps. */
function checkStockBandwidth(mbps: number | undefined) {
  if (mbps !== undefined && (mbps < 1 || mbps > 5000))
    fail('InvalidParameterValue.EIPBrandWidthOutInvalid', `\`StockPublicIpAddressesBandwidthOut\` is ${mbps}; give 1 to 5000 (Mbps).`);
}

/** The codes each action's list has for no EIPs asked for, and for a bad AddressCount. */
const CREATE_CODES = { empty: 'InvalidParameterValue.Empty', range: 'InvalidParameterValue.Range' };
const ASSOCIATE_CODES = { empty: 'InvalidParameterValue.Malformed', range: 'InvalidParameterValue.Malformed' };

/** How many EIPs to allocate for the gateway (AddressCount), and their bandwidth (PublicIpAddressesBandwidthOut). */
function newEipsAsked(
  p: { AddressCount?: number; PublicIpAddresses?: string[]; PublicIpAddressesBandwidthOut?: number },
  held: number,
  codes: { empty: string; range: string },
) {
  const count = p.AddressCount ?? 0;
  if (p.AddressCount !== undefined && count < 1) fail(codes.range, `\`AddressCount\` is ${count}; give 1 to ${EIPS_PER_NAT}, or omit it.`);
  const given = p.PublicIpAddresses ?? [];
  if (!count && !given.length)
    fail(codes.empty, 'Give the EIPs for the NAT gateway: `PublicIpAddresses` (EIPs of this account) and/or `AddressCount` (new ones).');
  if (held + count + given.length > EIPS_PER_NAT)
    fail(
      'LimitExceeded.PublicIpAddressPerNatGatewayLimitExceeded',
      `A NAT gateway holds at most ${EIPS_PER_NAT} EIPs; ${held ? `it holds ${held} and ` : ''}${count + given.length} more were asked for.`,
    );
  // New EIPs are charged by traffic, as a NAT gateway's must be; Tencent caps those at 100 Mbps.
  const bandwidth = p.PublicIpAddressesBandwidthOut ?? 100;
  if (bandwidth < 1 || bandwidth > 100)
    fail('InvalidParameterValue.EIPBrandWidthOutInvalid', `\`PublicIpAddressesBandwidthOut\` is ${bandwidth}; give 1 to 100 (Mbps) for EIPs charged by traffic.`);
  return { count, given, bandwidth };
}

/** Allocates the gateway's new EIPs (none when count is 0), with the codes the NAT actions document. */
async function allocateForNat(w: Write, ctx: Ctx, count: number, bandwidth: number) {
  if (!count) return [];
  return allocateEips(w, ctx, {
    count,
    isp: 'BGP',
    chargeType: 'TRAFFIC_POSTPAID_BY_HOUR',
    bandwidth,
    prepaid: null,
    name: '',
    codes: { quota: 'LimitExceeded.AddressQuotaLimitExceeded', daily: 'LimitExceeded.DailyAllocateAddressQuotaLimitExceeded' },
  });
}

// ---------------------------------------------------------------------------
// The NatGateway model

type NatAnswer = { [K in keyof NatGateway]-?: NatGateway[K] | null };

async function toNatGateways(db: Ctx['db'], rows: readonly NatGatewayRow[]): Promise<NatAnswer[]> {
  const ids = rows.map((r) => r.id);
  const [eips, tags, snats, dnats] = await Promise.all([eipsOfNats(db, ids), loadTags(db, ids), snatRulesOf(db, ids), dnatRulesOf(db, ids)]);
  return rows.map((r) => ({
    NatGatewayId: r.id,
    NatGatewayName: r.name,
    CreatedTime: tencentTime(r.created_at),
    State: r.state,
    InternetMaxBandwidthOut: r.bandwidth,
    MaxConcurrentConnection: r.max_connections,
    PublicIpAddressSet: (eips.get(r.id) ?? []).map((e) => ({ AddressId: e.id, PublicIpAddress: e.ip, IsBlocked: false, BlockType: 'NORMAL' })),
    // Weft bills nothing: never stopped for arrears.
    NetworkState: 'AVAILABLE',
    DestinationIpPortTranslationNatRuleSet: dnats.filter((d) => d.nat_gateway_id === r.id).map((d) => {
      const { NatGatewayId: _n, VpcId: _v, CreatedTime: _c, ...rule } = toDnatRule(d, r.vpc_id);
      return rule;
    }),
    VpcId: r.vpc_id,
    Zone: r.zone,
    DirectConnectGatewayIds: [],
    SubnetId: r.subnet_id || null,
    TagSet: tags.get(r.id) ?? [],
    SecurityGroupSet: [],
    SourceIpTranslationNatRuleSet: snats.filter((x) => x.nat_gateway_id === r.id).map((x) => toSnatRule(x, r.vpc_id)),
    IsExclusive: false,
    ExclusiveGatewayBandwidth: 0,
    RestrictState: 'NORMAL',
    NatProductVersion: 1,
    StrictSnatMode: false,
    SmartScheduleMode: false,
    DedicatedClusterId: '',
    DeletionProtectionEnabled: r.deletion_protection === 1,
    ConnectionStateTimeouts: null,
    ExclusiveType: '',
    AutoScaling: false,
    ICMPProxy: true,
    PublicAddressAffinity: true,
  }));
}

// ---------------------------------------------------------------------------
// Actions

export const createNatGateway = defineAction({
  service: 'vpc',
  name: 'CreateNatGateway',
  params: obj({
    NatGatewayName: natName,
    VpcId: str(),
    InternetMaxBandwidthOut: opt(int()),
    MaxConcurrentConnection: opt(int()),
    AddressCount: opt(int()),
    PublicIpAddresses: opt(arr(str())),
    Zone: opt(str()),
    Tags: tagsParam,
    SubnetId: opt(str()),
    StockPublicIpAddressesBandwidthOut: opt(int()),
    PublicIpAddressesBandwidthOut: opt(int()),
    PublicIpFromSameZone: opt(bool()),
    NatProductVersion: opt(int()),
    DeletionProtectionEnabled: opt(bool()),
    ExclusiveType: opt(any()),
  }),
  async run(ctx, p) {
    const bandwidth = p.InternetMaxBandwidthOut ?? 100;
    if (!BANDWIDTHS.includes(bandwidth))
      fail('InvalidParameterValue.Range', `\`InternetMaxBandwidthOut\` is ${bandwidth}; give one of ${BANDWIDTHS.join(', ')} (Mbps).`);
    const connections = p.MaxConcurrentConnection ?? 1000000;
    if (!CONNECTIONS.includes(connections))
      fail('InvalidParameterValue.Range', `\`MaxConcurrentConnection\` is ${connections}; give one of ${CONNECTIONS.join(', ')}.`);
    if (p.NatProductVersion !== undefined && p.NatProductVersion !== 1)
      fail('UnsupportedOperation', `Weft has traditional NAT gateways only; omit \`NatProductVersion\` (${p.NatProductVersion}) or give 1.`);
    if (p.ExclusiveType !== undefined) fail('UnsupportedOperation', 'Weft has no exclusive NAT gateways; omit `ExclusiveType`.');
    const asked = newEipsAsked(p, 0, CREATE_CODES);
    checkStockBandwidth(p.StockPublicIpAddressesBandwidthOut);
    if (!ID.vpc.test(p.VpcId)) fail('InvalidVpcId.Malformed', `\`${p.VpcId}\` (\`VpcId\`) is not a VPC ID; expected the form vpc-xxxxxxxx.`);
    const zone = p.Zone ?? ctx.region.zones[0]!.name;
    if (!ctx.region.zones.some((z) => z.name === zone))
      fail('UnsupportedOperation.NotSupportZone', `\`Zone\` ${zone} is not a zone of region ${ctx.region.name}; give one of ${ctx.region.zones.map((z) => z.name).join(', ')}.`);
    const account = ctx.account.uin;
    const result = await ctx.write(async (w) => {
      const vpc = await w.tx.selectFrom('vpcs').select(['id']).where('id', '=', p.VpcId).where('account', '=', account).executeTakeFirst();
      if (!vpc) fail('InvalidVpcId.NotFound', `The VPC \`${p.VpcId}\` (\`VpcId\`) does not exist.`);
      if (p.SubnetId !== undefined) {
        const subnet = await w.tx.selectFrom('subnets').select('id').where('id', '=', p.SubnetId).where('vpc_id', '=', p.VpcId).where('account', '=', account).executeTakeFirst();
        if (!subnet) fail('ResourceNotFound', `The subnet \`${p.SubnetId}\` (\`SubnetId\`) is not a subnet of ${p.VpcId}.`);
      }
      const eips = await eipsToHold(w, account, asked.given, 'PublicIpAddresses');
      const allocated = await allocateForNat(w, ctx, asked.count, asked.bandwidth);
      // Creators in one VPC must not both pass the quota: the region's writer lock orders them (taken after any
      // usage rows an allocation reserves, never before). Creation is rare.
      await w.revision();
      const quota = ctx.account.quotas.natGatewayPerVpc;
      const inVpc = Number((await w.tx.selectFrom('nat_gateways').select(sql<number>`count(*)`.as('n')).where('vpc_id', '=', p.VpcId).executeTakeFirstOrThrow()).n);
      if (inVpc >= quota)
        fail(
          'LimitExceeded.NatGatewayPerVpcLimitExceeded',
          `The VPC ${p.VpcId} has ${inVpc} NAT gateway(s), as many as its quota allows (${quota}); delete one or ask the operator to raise the quota natGatewayPerVpc.`,
        );
      const nat: NatGatewayRow = {
        id: newId('nat'),
        account,
        vpc_id: p.VpcId,
        name: p.NatGatewayName,
        state: 'PENDING',
        bandwidth,
        max_connections: connections,
        zone,
        subnet_id: p.SubnetId ?? '',
        task_id: ctx.requestId,
        deletion_protection: p.DeletionProtectionEnabled ? 1 : 0,
        created_at: w.now,
      };
      await insertNatGateway(w.tx, nat);
      await hold(w, nat, eips, p.StockPublicIpAddressesBandwidthOut);
      await hold(w, nat, allocated, undefined);
      await saveTags(w, account, nat.id, p.Tags);
      await recordRunningTask(w, account, 'CreateNatGateway', ctx.requestId);
      natChanged(w, nat, 'create');
      return { nat };
    });
    // Committed: the task may now run (it marks the gateway AVAILABLE).
    ctx.tasks.run(ctx.requestId, { kind: 'nat-gateway', account, vpcId: result.nat.vpc_id, natId: result.nat.id });
    return { NatGatewaySet: await toNatGateways(ctx.db, [result.nat]), TotalCount: 1 };
  },
});

const DESCRIBE_FILTERS = ['nat-gateway-id', 'vpc-id', 'nat-gateway-name', 'tag-key', 'nat-state'];

export const describeNatGateways = defineAction({
  service: 'vpc',
  name: 'DescribeNatGateways',
  params: obj({
    NatGatewayIds: opt(arr(str())),
    Filters: opt(filters(DESCRIBE_FILTERS, { prefixes: ['tag:'], codes: { unknownName: 'InvalidParameter.FilterInvalidKey' } })),
    ...paging,
  }),
  async run(ctx, p) {
    checkIdsOrFilters(p);
    const account = ctx.account.uin;
    const { offset, limit } = page(p);
    let q = ctx.db.selectFrom('nat_gateways').where('account', '=', account);
    if (p.NatGatewayIds?.length) q = q.where('id', 'in', p.NatGatewayIds);
    const fs = p.Filters ?? [];
    for (const [i, f] of fs.entries()) {
      if (!f.Values.length) fail('InvalidParameterValue', `\`Filters.${i}.Values\` must have at least one value.`);
      if (f.Name === 'nat-gateway-id') q = q.where('id', 'in', f.Values);
      else if (f.Name === 'vpc-id') q = q.where('vpc_id', 'in', f.Values);
      else if (f.Name === 'nat-gateway-name') q = q.where('name', 'in', f.Values);
      else if (f.Name === 'nat-state') q = q.where('state', 'in', f.Values);
    }
    for (const tagged of taggedBy(ctx.db, account, fs)) q = q.where('id', 'in', tagged);
    const [rows, total] = await Promise.all([
      q.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute(),
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    ]);
    return { NatGatewaySet: await toNatGateways(ctx.db, rows), TotalCount: total };
  },
});

export const modifyNatGatewayAttribute = defineAction({
  service: 'vpc',
  name: 'ModifyNatGatewayAttribute',
  params: obj({
    NatGatewayId: str(),
    NatGatewayName: opt(natName),
    InternetMaxBandwidthOut: opt(int()),
    ModifySecurityGroup: opt(bool()),
    SecurityGroupIds: opt(arr(str())),
    DeletionProtectionEnabled: opt(bool()),
    PublicAddressAffinity: opt(bool()),
  }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    if (p.InternetMaxBandwidthOut !== undefined && !BANDWIDTHS.includes(p.InternetMaxBandwidthOut))
      fail('InvalidParameterValue.Malformed', `\`InternetMaxBandwidthOut\` is ${p.InternetMaxBandwidthOut}; give one of ${BANDWIDTHS.join(', ')} (Mbps).`);
    if (p.ModifySecurityGroup || p.SecurityGroupIds !== undefined)
      fail('UnsupportedOperation', 'Security groups on a NAT gateway belong to standard NAT gateways, which Weft does not have; omit `ModifySecurityGroup` and `SecurityGroupIds`.');
    if (p.PublicAddressAffinity !== undefined)
      fail('UnsupportedOperation', '`PublicAddressAffinity` is a setting of standard NAT gateways, which Weft does not have; omit it.');
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      requireAvailable(nat, 'ResourceInUse');
      const set: Partial<NatGatewayRow> = {};
      if (p.NatGatewayName !== undefined) set.name = p.NatGatewayName;
      if (p.InternetMaxBandwidthOut !== undefined) set.bandwidth = p.InternetMaxBandwidthOut;
      if (p.DeletionProtectionEnabled !== undefined) set.deletion_protection = p.DeletionProtectionEnabled ? 1 : 0;
      if (Object.keys(set).length) await w.tx.updateTable('nat_gateways').set(set).where('id', '=', nat.id).execute();
    });
  },
});

export const deleteNatGateway = defineAction({
  service: 'vpc',
  name: 'DeleteNatGateway',
  params: obj({ NatGatewayId: str(), IgnoreOperationRisk: opt(bool()) }),
  async run(ctx, p) {
    await ctx.write(async (w) => {
      const nat = await ownNat(w, ctx, p.NatGatewayId);
      if (nat.state === 'PENDING')
        fail('UnsupportedOperation.MutexOperationTaskRunning', `The NAT gateway \`${nat.id}\` is still being created (PENDING); wait until it is AVAILABLE, then delete it.`);
      if (nat.deletion_protection)
        fail('UnsupportedOperation.DeletionProtectionEnabled', `The NAT gateway \`${nat.id}\` has deletion protection on; turn it off (ModifyNatGatewayAttribute DeletionProtectionEnabled=false) first.`);
      const routes = await routesToNat(w.tx, nat.id);
      if (routes.length)
        fail(
          'UnsupportedOperation.NatGatewayHaveRoute',
          `Routes point at the NAT gateway \`${nat.id}\`: ${routes
            .slice(0, 5)
            .map((r) => `${r.destination} in ${r.route_table_id}`)
            .join(', ')}${routes.length > 5 ? ', …' : ''}; delete them or point them elsewhere (DeleteRoutes, ReplaceRoutes) first.`,
        );
      const eips = (await eipsOfNats(w.tx, [nat.id])).get(nat.id)!;
      await deleteRulesOfNat(w.tx, nat.id);
      await deleteFlowsOfGateway(w.tx, nat.id);
      await releaseEipsOfNat(w.tx, nat.id);
      for (const e of eips) eipChanged(w, nat.account, e.id, 'update');
      await w.tx.deleteFrom('nat_gateways').where('id', '=', nat.id).execute();
      await deleteTags(w, nat.id);
      natChanged(w, nat, 'delete');
      return {};
    });
    return {};
  },
});

export const associateNatGatewayAddress = defineAction({
  service: 'vpc',
  name: 'AssociateNatGatewayAddress',
  params: obj({
    NatGatewayId: str(),
    AddressCount: opt(int()),
    PublicIpAddresses: opt(arr(str())),
    Zone: opt(str()),
    StockPublicIpAddressesBandwidthOut: opt(int()),
    PublicIpAddressesBandwidthOut: opt(int()),
    PublicIpFromSameZone: opt(bool()),
    IpAddressEnableMode: opt(bool()),
  }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    newEipsAsked(p, 0, ASSOCIATE_CODES);
    checkStockBandwidth(p.StockPublicIpAddressesBandwidthOut);
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      requireAvailable(nat, 'UnsupportedOperation.InvalidState');
      const asked = newEipsAsked(p, (await eipsOfNats(w.tx, [nat.id])).get(nat.id)!.length, ASSOCIATE_CODES);
      const eips = await eipsToHold(w, ctx.account.uin, asked.given, 'PublicIpAddresses');
      await hold(w, nat, eips, p.StockPublicIpAddressesBandwidthOut);
      await hold(w, nat, await allocateForNat(w, ctx, asked.count, asked.bandwidth), undefined);
    });
  },
});

export const disassociateNatGatewayAddress = defineAction({
  service: 'vpc',
  name: 'DisassociateNatGatewayAddress',
  params: obj({ NatGatewayId: str(), PublicIpAddresses: arr(str(), { min: 1 }) }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    p.PublicIpAddresses.forEach((ip, i) => {
      if (parseIp(ip) === undefined) fail('InvalidParameterValue.Malformed', `\`${ip}\` (\`PublicIpAddresses.${i}\`) is not an IPv4 address.`);
    });
    const ips = [...new Set(p.PublicIpAddresses)];
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      requireAvailable(nat, 'ResourceInUse');
      const held = (await eipsOfNats(w.tx, [nat.id])).get(nat.id)!;
      const byIp = new Map(held.map((e) => [e.ip, e]));
      const missing = ips.filter((ip) => !byIp.has(ip));
      if (missing.length) fail('ResourceNotFound', `The NAT gateway \`${nat.id}\` holds no EIP with the address(es) ${missing.join(', ')}; its EIPs are ${held.map((e) => e.ip).join(', ')}.`);
      if (ips.length === held.length)
        fail('UnsupportedOperation.PublicIpAddressDisassociate', `A NAT gateway keeps at least one EIP; \`${nat.id}\` would have none left. Add another first (AssociateNatGatewayAddress) or delete the gateway.`);
      const forwarding = (await dnatRulesOf(w.tx, [nat.id])).filter((d) => ips.includes(d.public_ip));
      if (forwarding.length)
        fail(
          'ResourceInUse',
          `Port forwarding (DNAT) rules use ${[...new Set(forwarding.map((d) => d.public_ip))].join(', ')} of \`${nat.id}\`; delete them first (DeleteNatGatewayDestinationIpPortTranslationNatRule).`,
        );
      // Tencent: the address leaves the SNAT rules that name it; a rule left with none is deleted.
      await dropIpsFromSnatRules(w.tx, nat.id, ips);
      const ids = ips.map((ip) => byIp.get(ip)!.id);
      if ((await releaseEipsOfNat(w.tx, nat.id, ids)) !== ids.length)
        fail('ResourceInUse', `The EIPs of \`${nat.id}\` changed meanwhile; describe the gateway and try again.`);
      for (const id of ids) eipChanged(w, nat.account, id, 'update');
    });
  },
});

export const natGatewayActions = [
  createNatGateway,
  describeNatGateways,
  modifyNatGatewayAttribute,
  deleteNatGateway,
  associateNatGatewayAddress,
  disassociateNatGatewayAddress,
];
