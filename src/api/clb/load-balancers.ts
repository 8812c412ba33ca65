/**
 * Load balancers (clb 2018-03-17): CreateLoadBalancer, DescribeLoadBalancers,
 * ModifyLoadBalancerAttributes, DeleteLoadBalancer.
 *
 * A load balancer belongs to a VPC and has one VIP: INTERNAL, a private
 * address of its subnet (a private_ips row, kind clb); OPEN, the lowest free
 * address of the region's public pools (never an EIP's). CreateLoadBalancer
 * answers at once with it creating (Status 0); its task (RequestId, also the
 * DealName) makes it normal once every LB node holds it
 * (controller/lb-task.ts). Every call is one transaction. What is kept and
 * which codes answer what: docs/load-balancers.md "API".
 */
import type { LoadBalancer } from 'tencentcloud-sdk-nodejs/tencentcloud/services/clb/v20180317/clb_models.js';
import { formatCidr, parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { allocatePublic, checkPublicRequested } from '../../core/public-pools.js';
import { takenPublicIps } from '../../store/eips.js';
import {
  deleteLoadBalancers,
  findLoadBalancers,
  targetCounts,
  updateLoadBalancer,
  insertLoadBalancers,
  type LoadBalancerQuery,
  type LoadBalancerRow,
} from '../../store/load-balancers.js';
import type { Write } from '../../store/store.js';
import { defineAction, type Ctx } from '../action.js';
import { deleteTags, loadTags, saveTags, taggedBy, tencentTime } from '../common.js';
import { ApiError, fail, missingParameter } from '../errors.js';
import { any, arr, bool, filters, filterValues, int, intish, obj, opt, str, type Filter } from '../params.js';
import { releaseAddresses, takeAddresses } from '../vpc/addresses.js';
import { ID } from '../vpc/lookup.js';
import { beginTask, checkIdList, checkLbId, clbTagsParam, LB_ID, lbChanged, nameParam, ownLoadBalancers, refuseBusy } from './common.js';

/** Load balancers one CreateLoadBalancer makes at most (Number), and IDs a Describe or Delete takes. */
const MAX_NUMBER = 20;
/** InternetMaxBandwidthOut of a shared public load balancer: 1 to 2048 Mbps, 10 when not given. */
const MAX_BANDWIDTH = 2048;
const DEFAULT_BANDWIDTH = 10;

const unsupported = (what: string): never => fail('UnsupportedOperation', `${what}; omit it.`);

// ---------------------------------------------------------------------------
// The LoadBalancer model

type LbAnswer = { [K in keyof LoadBalancer]-?: LoadBalancer[K] | null };

async function toLoadBalancers(ctx: Ctx, rows: readonly LoadBalancerRow[], withTargetCount: boolean): Promise<LbAnswer[]> {
  const ids = rows.map((r) => r.id);
  const [tags, counts, vpcs] = await Promise.all([
    loadTags(ctx.db, ids),
    withTargetCount ? targetCounts(ctx.db, ids) : Promise.resolve(new Map<string, number>()),
    ids.length ? ctx.db.selectFrom('vpcs').select(['id', 'vni']).where('id', 'in', [...new Set(rows.map((r) => r.vpc_id))]).execute() : Promise.resolve([]),
  ]);
  const vni = new Map(vpcs.map((v) => [v.id, v.vni]));
  return rows.map((r) => ({
    LoadBalancerId: r.id,
    LoadBalancerName: r.name,
    LoadBalancerType: r.type,
    Forward: 1,
    Domain: '',
    LoadBalancerVips: [r.vip],
    Status: r.status,
    CreateTime: tencentTime(r.created_at),
    StatusTime: tencentTime(r.created_at),
    ProjectId: r.project_id,
    VpcId: r.vpc_id,
    OpenBgp: 0,
    Snat: false,
    Isolation: 0,
    Log: null,
    SubnetId: r.subnet_id,
    Tags: (tags.get(r.id) ?? []).map((t) => ({ TagKey: t.Key, TagValue: t.Value })),
    SecureGroups: [],
    TargetRegionInfo: { Region: ctx.region.name, VpcId: r.vpc_id, NumericalVpcId: vni.get(r.vpc_id) ?? 0 },
    AnycastZone: '',
    AddressIPVersion: 'ipv4',
    NumericalVpcId: vni.get(r.vpc_id) ?? 0,
    VipIsp: r.type === 'OPEN' ? 'BGP' : 'INTERNAL',
    MasterZone: null,
    BackupZoneSet: null,
    IsolatedTime: null,
    ExpireTime: null,
    ChargeType: 'POSTPAID_BY_HOUR',
    NetworkAttributes: { InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR', InternetMaxBandwidthOut: r.bandwidth ?? 0 },
    PrepaidAttributes: null,
    LogSetId: '',
    LogTopicId: '',
    AddressIPv6: null,
    ExtraInfo: { ZhiTong: false, TgwGroupName: '' },
    IsDDos: false,
    ConfigId: '',
    LoadBalancerPassToTarget: r.pass_to_target === 1,
    ExclusiveCluster: null,
    IPv6Mode: null,
    SnatPro: false,
    SnatIps: [],
    SlaType: '',
    IsBlock: false,
    IsBlockTime: '',
    LocalBgp: false,
    ClusterTag: null,
    MixIpTarget: false,
    Zones: null,
    NfvInfo: null,
    HealthLogSetId: '',
    HealthLogTopicId: '',
    ClusterIds: null,
    AttributeFlags: r.delete_protect ? ['DeleteProtect'] : [],
    LoadBalancerDomain: '',
    Egress: '',
    Exclusive: 0,
    TargetCount: withTargetCount ? (counts.get(r.id) ?? 0) : null,
    AssociateEndpoint: '',
    AvailableZoneAffinityInfo: null,
  }));
}

// ---------------------------------------------------------------------------
// Creation

/** Refuses what Weft's load balancers cannot be: IPv6, exclusive clusters, bandwidth packages, SnatPro … */
function refuseUnsupported(p: CreateParams) {
  const version = p.AddressIPVersion?.toUpperCase();
  if (version !== undefined && version !== 'IPV4')
    unsupported(`Weft's load balancers are IPv4 only; \`AddressIPVersion\` ${p.AddressIPVersion} (IPv6) is not available`);
  if (p.Forward !== undefined && p.Forward !== 1) fail('InvalidParameterValue', `\`Forward\` is ${p.Forward}; only 1 (a general load balancer) may be given.`);
  if (p.BandwidthPackageId !== undefined) unsupported('Weft has no bandwidth packages (`BandwidthPackageId`)');
  const charge = p.InternetAccessible?.InternetChargeType;
  if (charge !== undefined && charge !== 'TRAFFIC_POSTPAID_BY_HOUR')
    unsupported(`Weft bills nothing and keeps one network charge type, TRAFFIC_POSTPAID_BY_HOUR; \`InternetAccessible.InternetChargeType\` ${charge} is not available`);
  if (p.InternetAccessible?.BandwidthpkgSubType !== undefined) unsupported('Weft has no bandwidth packages (`InternetAccessible.BandwidthpkgSubType`)');
  if (p.ExclusiveCluster !== undefined) unsupported('Weft has no exclusive clusters (`ExclusiveCluster`)');
  if (p.ClusterIds?.length) unsupported('Weft has no exclusive or dedicated clusters (`ClusterIds`)');
  if (p.ClusterTag !== undefined) unsupported('Weft has no exclusive clusters (`ClusterTag`)');
  if (p.SlaType !== undefined) unsupported('Weft has no performance-capacity load balancers (`SlaType`)');
  if (p.SnatPro) unsupported('Weft does not bind targets across regions or VPCs (`SnatPro`)');
  if (p.SnatIps?.length) unsupported('Weft does not bind targets across regions or VPCs (`SnatIps`)');
  if (p.EipAddressId !== undefined) unsupported('Weft does not bind an EIP to an internal load balancer (`EipAddressId`)');
  if (p.DynamicVip) unsupported('Weft has no domain-name load balancers (`DynamicVip`)');
  if (p.VipIsp !== undefined && p.VipIsp !== 'BGP') unsupported(`Weft's public addresses are BGP only; \`VipIsp\` ${p.VipIsp} is not available`);
  for (const [param, zone] of [['MasterZoneId', p.MasterZoneId], ['SlaveZoneId', p.SlaveZoneId], ['ZoneId', p.ZoneId]] as const)
    if (zone !== undefined && p.LoadBalancerType !== 'OPEN') fail('InvalidParameter', `\`${param}\` applies to OPEN load balancers only.`);
}

type CreateParams = typeof createParams extends { parse(v: unknown, p: string): infer T } ? T : never;

const createParams = obj({
  LoadBalancerType: str({ oneOf: ['OPEN', 'INTERNAL'] }),
  Forward: opt(int()),
  LoadBalancerName: opt(nameParam),
  VpcId: opt(str()),
  SubnetId: opt(str()),
  ProjectId: opt(int({ min: 0 })),
  AddressIPVersion: opt(str()),
  Number: opt(int({ min: 1, max: MAX_NUMBER })),
  MasterZoneId: opt(str()),
  ZoneId: opt(str()),
  InternetAccessible: opt(obj({ InternetChargeType: opt(str()), InternetMaxBandwidthOut: opt(int()), BandwidthpkgSubType: opt(str()) })),
  VipIsp: opt(str()),
  Tags: clbTagsParam,
  Vip: opt(str()),
  BandwidthPackageId: opt(str()),
  ExclusiveCluster: opt(any()),
  SlaType: opt(str()),
  ClusterIds: opt(arr(str())),
  ClientToken: opt(str()),
  SnatPro: opt(bool()),
  SnatIps: opt(arr(any())),
  ClusterTag: opt(str()),
  SlaveZoneId: opt(str()),
  EipAddressId: opt(str()),
  LoadBalancerPassToTarget: opt(bool()),
  DynamicVip: opt(bool()),
  Egress: opt(any()),
  LBChargePrepaid: opt(any()),
  LBChargeType: opt(str({ oneOf: ['POSTPAID_BY_HOUR', 'PREPAID'] })),
  AccessLogTopicId: opt(any()),
  AdvancedRoute: opt(any()),
  AvailableZoneAffinityInfo: opt(any()),
});

/** A zone given for an OPEN load balancer must be one of the region's, by name or numeric ID; Weft's LB nodes serve all. */
function checkZone(ctx: Ctx, param: string, zone: string | undefined) {
  if (zone !== undefined && !ctx.region.zones.some((z) => z.name === zone || z.id === zone))
    fail('InvalidParameterValue', `\`${param}\` ${zone} is not a zone of region ${ctx.region.name}; give one of ${ctx.region.zones.map((z) => z.name).join(', ')}.`);
}

/** The VIPs of `n` new INTERNAL load balancers: private addresses of the subnet (`Vip` first, if given). */
async function internalVips(w: Write, ctx: Ctx, p: CreateParams, ids: readonly string[]): Promise<string[]> {
  if (!p.SubnetId) throw missingParameter('SubnetId');
  if (!ID.subnet.test(p.SubnetId)) fail('InvalidParameter.FormatError', `\`${p.SubnetId}\` (\`SubnetId\`) is not a subnet ID; expected the form subnet-xxxxxxxx.`);
  const subnet = await w.tx.selectFrom('subnets').selectAll().where('id', '=', p.SubnetId).where('account', '=', ctx.account.uin).executeTakeFirst();
  if (!subnet || subnet.vpc_id !== p.VpcId) fail('InvalidParameterValue', `\`SubnetId\` ${p.SubnetId} is not a subnet of the VPC ${p.VpcId}.`);
  try {
    return await takeAddresses(w, subnet!, ids.map((id) => ({ kind: 'clb', id })), p.Vip === undefined ? [] : [p.Vip], 'Vip');
  } catch (e) {
    // addresses.ts speaks vpc's codes; clb's lists have these.
    if (e instanceof ApiError && e.code.startsWith('InvalidParameterValue.'))
      throw new ApiError(e.code === 'InvalidParameterValue.Range' ? 'InvalidParameterValue.Range' : 'InvalidParameterValue', e.message.replace('`Vip.0`', '`Vip`'));
    throw e;
  }
}

/** The VIPs of `n` new OPEN load balancers: `Vip`, or the lowest free addresses of the region's pools. */
async function publicVipsFor(w: Write, ctx: Ctx, p: CreateParams, n: number): Promise<string[]> {
  if (p.SubnetId !== undefined) fail('InvalidParameter', '`SubnetId` may not be given for an OPEN load balancer: its VIP is public.');
  // Allocators of public addresses (EIPs too) must not pick the same one: the region's writer lock orders them.
  await w.revision();
  const taken = await takenPublicIps(w.tx);
  const pools = ctx.region.publicPools;
  if (p.Vip !== undefined) {
    const c = checkPublicRequested(pools, p.Vip, taken);
    if (!c.ok)
      fail(
        c.why === 'outside' ? 'InvalidParameterValue.Range' : 'InvalidParameterValue',
        `\`Vip\` ${p.Vip} ${
          {
            malformed: 'is not an IPv4 address',
            outside: `is in none of the region's public address pools (${pools.map(formatCidr).join(', ')})`,
            reserved: "is kept back: a pool's first two and last addresses are never given out",
            taken: 'is already held by an EIP or another load balancer',
          }[c.why]
        }.`,
      );
    return [p.Vip];
  }
  const ips = allocatePublic(pools, taken, n);
  if (ips.length < n)
    fail('ResourceInsufficient', `The region's public address pools (${pools.map(formatCidr).join(', ')}) have ${ips.length} free address(es), fewer than the ${n} asked for.`);
  return ips;
}

export const createLoadBalancer = defineAction({
  service: 'clb',
  name: 'CreateLoadBalancer',
  idempotencyToken: 'ClientToken',
  params: createParams,
  async run(ctx, p) {
    if (p.ClientToken !== undefined && Buffer.byteLength(p.ClientToken) > 64)
      fail('InvalidParameterValue.Length', `\`ClientToken\` is ${Buffer.byteLength(p.ClientToken)} bytes long; at most 64 are allowed.`);
    refuseUnsupported(p);
    checkZone(ctx, 'MasterZoneId', p.MasterZoneId);
    checkZone(ctx, 'SlaveZoneId', p.SlaveZoneId);
    checkZone(ctx, 'ZoneId', p.ZoneId);
    const bandwidth = p.InternetAccessible?.InternetMaxBandwidthOut;
    if (bandwidth !== undefined && (bandwidth < 1 || bandwidth > MAX_BANDWIDTH))
      fail('InvalidParameterValue.Range', `\`InternetAccessible.InternetMaxBandwidthOut\` is ${bandwidth}; give 1 to ${MAX_BANDWIDTH} (Mbps).`);
    // Weft has no default VPC: every load balancer names its VPC.
    if (!p.VpcId) throw missingParameter('VpcId');
    if (!ID.vpc.test(p.VpcId)) fail('InvalidParameter.FormatError', `\`${p.VpcId}\` (\`VpcId\`) is not a VPC ID; expected the form vpc-xxxxxxxx.`);
    const n = p.Number ?? 1;
    if (p.Vip !== undefined) {
      if (n > 1) fail('InvalidParameter', `\`Vip\` names one address; it cannot be given with \`Number\` ${n}.`);
      if (parseIp(p.Vip) === undefined) fail('InvalidParameter.FormatError', `\`Vip\` ${p.Vip} is not an IPv4 address.`);
    }
    const account = ctx.account.uin;
    const answer = await ctx.write(async (w) => {
      const vpc = await w.tx.selectFrom('vpcs').select('id').where('id', '=', p.VpcId!).where('account', '=', account).executeTakeFirst();
      if (!vpc) fail('InvalidParameterValue', `The VPC \`${p.VpcId}\` (\`VpcId\`) does not exist.`);
      const ids = Array.from({ length: n }, () => newId('lb'));
      const vips = p.LoadBalancerType === 'INTERNAL' ? await internalVips(w, ctx, p, ids) : await publicVipsFor(w, ctx, p, n);
      // Tencent: the name applies when one is created and no load balancer of the account has it already; otherwise
      // each is named by the system (Weft: its ID).
      const named =
        n === 1 && p.LoadBalancerName !== undefined && !(await w.tx.selectFrom('load_balancers').select('id').where('account', '=', account).where('name', '=', p.LoadBalancerName).executeTakeFirst());
      const rows: LoadBalancerRow[] = ids.map((id, i) => ({
        id,
        account,
        name: named ? p.LoadBalancerName! : id,
        type: p.LoadBalancerType,
        vpc_id: p.VpcId!,
        subnet_id: p.LoadBalancerType === 'INTERNAL' ? p.SubnetId! : '',
        vip: vips[i]!,
        status: 0,
        bandwidth: p.LoadBalancerType === 'OPEN' ? (bandwidth ?? DEFAULT_BANDWIDTH) : (bandwidth ?? null),
        project_id: p.ProjectId ?? 0,
        pass_to_target: p.LoadBalancerPassToTarget ? 1 : 0,
        delete_protect: 0,
        task_id: ctx.requestId,
        created_at: w.now,
        operation_id: ctx.requestId,
      }));
      await insertLoadBalancers(w.tx, rows);
      for (const r of rows) await saveTags(w, account, r.id, p.Tags?.map((t) => ({ Key: t.TagKey, Value: t.TagValue })));
      await beginTask(w, ctx, 'CreateLoadBalancer', []);
      for (const r of rows) lbChanged(w, r, 'create');
      // The answer, which a retry with the same ClientToken gets again.
      return { LoadBalancerIds: ids, DealName: ctx.requestId };
    });
    ctx.tasks.run(ctx.requestId, { kind: 'lb', lbIds: answer.LoadBalancerIds });
    return answer;
  },
});

// ---------------------------------------------------------------------------
// DescribeLoadBalancers

const FILTERS = ['charge-type', 'internet-charge-type', 'master-zone-id', 'tag-key', 'function-name', 'vip-isp', 'sla-type', 'exclusive'];
const ORDER_BY: Record<string, LoadBalancerQuery['orderBy']> = { LoadBalancerName: 'name', CreateTime: 'created_at', Domain: 'created_at', LoadBalancerType: 'type' };

/** Whether Weft's load balancers (postpaid, traffic-billed, shared, BGP or INTERNAL, no SCF targets) can pass the filters at all. */
function filtersExclude(fs: readonly Filter[]): boolean {
  const passes = (name: string, ok: (v: string) => boolean) => {
    const vs = filterValues(fs, name);
    return vs === undefined || vs.some(ok);
  };
  return !(
    passes('charge-type', (v) => v === 'POSTPAID_BY_HOUR') &&
    passes('internet-charge-type', (v) => v === 'TRAFFIC_POSTPAID_BY_HOUR') &&
    passes('master-zone-id', () => false) &&
    passes('function-name', () => false) &&
    passes('sla-type', () => false) &&
    passes('exclusive', (v) => v === '0')
  );
}

export const describeLoadBalancers = defineAction({
  service: 'clb',
  name: 'DescribeLoadBalancers',
  params: obj({
    LoadBalancerIds: opt(arr(str())),
    LoadBalancerType: opt(str({ oneOf: ['OPEN', 'INTERNAL'] })),
    Forward: opt(int()),
    LoadBalancerName: opt(str()),
    Domain: opt(str()),
    LoadBalancerVips: opt(arr(str())),
    BackendPublicIps: opt(arr(str())),
    BackendPrivateIps: opt(arr(str())),
    Offset: opt(intish({ min: 0 })),
    Limit: opt(intish({ min: 0, max: 100 })),
    OrderBy: opt(str({ oneOf: Object.keys(ORDER_BY) })),
    OrderType: opt(int({ min: 0, max: 1 })),
    SearchKey: opt(str()),
    ProjectId: opt(int()),
    WithRs: opt(int({ min: -1, max: 1 })),
    VpcId: opt(str()),
    SecurityGroup: opt(str()),
    MasterZone: opt(str()),
    Filters: opt(filters(FILTERS, { prefixes: ['tag:'], codes: { unknownName: 'InvalidParameterValue.InvalidFilter' } })),
    AdditionalFields: opt(arr(str({ oneOf: ['TargetCount'] }))),
  }),
  async run(ctx, p) {
    checkIdList(p.LoadBalancerIds, LB_ID, 'LoadBalancerIds', 'lb-xxxxxxxx', MAX_NUMBER);
    const fs = p.Filters ?? [];
    fs.forEach((f, i) => {
      if (!f.Values.length) fail('InvalidParameterValue.InvalidFilter', `\`Filters.${i}.Values\` must have at least one value.`);
    });
    const vipIsp = filterValues(fs, 'vip-isp');
    const q: LoadBalancerQuery = {
      ids: p.LoadBalancerIds?.length ? p.LoadBalancerIds : undefined,
      type: p.LoadBalancerType,
      forward: p.Forward,
      nameContains: p.LoadBalancerName,
      vips: p.LoadBalancerVips,
      backendPrivateIps: p.BackendPrivateIps,
      backendPublicIps: p.BackendPublicIps,
      searchKey: p.SearchKey,
      projectId: p.ProjectId,
      withTargets: p.WithRs === 1 ? true : p.WithRs === 0 ? false : undefined,
      vpcId: p.VpcId,
      // Weft's load balancers have no domain, security groups or master zone.
      none: !!p.Domain || p.SecurityGroup !== undefined || p.MasterZone !== undefined || filtersExclude(fs),
      tagged: taggedBy(ctx.db, ctx.account.uin, fs),
      orderBy: ORDER_BY[p.OrderBy ?? 'CreateTime']!,
      descending: (p.OrderType ?? 1) === 1,
      offset: p.Offset ?? 0,
      limit: p.Limit ?? 20,
    };
    if (vipIsp) {
      const types = [...new Set(vipIsp.map((v) => (v === 'INTERNAL' ? 'INTERNAL' : v === 'BGP' ? 'OPEN' : '')))].filter(Boolean);
      if (types.length !== 1) q.none ||= !types.length;
      else if (q.type && q.type !== types[0]) q.none = true;
      else q.type = types[0];
    }
    const { rows, total } = await findLoadBalancers(ctx.db, ctx.account.uin, q);
    return { TotalCount: total, LoadBalancerSet: await toLoadBalancers(ctx, rows, !!p.AdditionalFields?.includes('TargetCount')) };
  },
});

// ---------------------------------------------------------------------------
// ModifyLoadBalancerAttributes, DeleteLoadBalancer

export const modifyLoadBalancerAttributes = defineAction({
  service: 'clb',
  name: 'ModifyLoadBalancerAttributes',
  params: obj({
    LoadBalancerId: str(),
    LoadBalancerName: opt(nameParam),
    TargetRegionInfo: opt(obj({ Region: str(), VpcId: str(), NumericalVpcId: opt(int()) })),
    InternetChargeInfo: opt(obj({ InternetChargeType: opt(str()), InternetMaxBandwidthOut: opt(int()), BandwidthpkgSubType: opt(str()) })),
    LoadBalancerPassToTarget: opt(bool()),
    SwitchFlag: opt(int()),
    SnatPro: opt(bool()),
    DeleteProtect: opt(bool()),
    ModifyClassicDomain: opt(bool()),
    AssociateEndpoint: opt(str()),
  }),
  async run(ctx, p) {
    if (p.TargetRegionInfo !== undefined)
      fail('InvalidParameter', 'Weft does not bind targets across regions (`TargetRegionInfo`); a load balancer serves targets of its own VPC.');
    if (p.InternetChargeInfo !== undefined) fail('InvalidParameter', 'Weft bills nothing: `InternetChargeInfo` cannot be changed.');
    if (p.SwitchFlag) fail('InvalidParameter', 'Weft bills nothing: there is no charge type to switch (`SwitchFlag`).');
    if (p.SnatPro) fail('InvalidParameter', 'Weft does not bind targets across regions or VPCs (`SnatPro`).');
    if (p.AssociateEndpoint) fail('InvalidParameter', 'Weft has no VPC endpoints (`AssociateEndpoint`).');
    // Changes of attributes only: no task, and Tencent refuses them while another task runs.
    await ctx.write(async (w) => {
      const [lb] = await ownLoadBalancers(w, ctx, [checkLbId(p.LoadBalancerId)], 'LoadBalancerId');
      await refuseBusy(w, [lb!]);
      if (p.LoadBalancerName !== undefined && p.LoadBalancerName !== lb!.name) {
        const same = await w.tx.selectFrom('load_balancers').select('id').where('account', '=', ctx.account.uin).where('name', '=', p.LoadBalancerName).executeTakeFirst();
        if (same) fail('InvalidParameterValue.Duplicate', `The load balancer ${same.id} is named \`${p.LoadBalancerName}\` already; give another name.`);
      }
      const set: Parameters<typeof updateLoadBalancer>[2] = {};
      if (p.LoadBalancerName !== undefined) set.name = p.LoadBalancerName;
      if (p.DeleteProtect !== undefined) set.delete_protect = p.DeleteProtect ? 1 : 0;
      if (p.LoadBalancerPassToTarget !== undefined) set.pass_to_target = p.LoadBalancerPassToTarget ? 1 : 0;
      await updateLoadBalancer(w.tx, lb!.id, set);
      lbChanged(w, lb!, 'update');
      return {};
    });
    return { DealName: null };
  },
});

export const deleteLoadBalancer = defineAction({
  service: 'clb',
  name: 'DeleteLoadBalancer',
  params: obj({ LoadBalancerIds: arr(str(), { min: 1 }), ForceDelete: opt(bool()) }),
  async run(ctx, p) {
    checkIdList(p.LoadBalancerIds, LB_ID, 'LoadBalancerIds', 'lb-xxxxxxxx', MAX_NUMBER);
    await ctx.write(async (w) => {
      const lbs = await ownLoadBalancers(w, ctx, p.LoadBalancerIds);
      await refuseBusy(w, lbs);
      const guarded = lbs.filter((l) => l.delete_protect === 1);
      if (guarded.length)
        fail(
          'FailedOperation',
          `The load balancer(s) ${guarded.map((g) => `\`${g.id}\``).join(', ')} have delete protection on; turn it off (ModifyLoadBalancerAttributes DeleteProtect=false) first.`,
        );
      for (const lb of lbs) if (lb.type === 'INTERNAL') await releaseAddresses(w, lb.id);
      await deleteLoadBalancers(w.tx, lbs.map((l) => l.id));
      for (const lb of lbs) {
        await deleteTags(w, lb.id);
        lbChanged(w, lb, 'delete');
      }
      await beginTask(w, ctx, 'DeleteLoadBalancer', []);
      return {};
    });
    ctx.tasks.run(ctx.requestId, { kind: 'lb', lbIds: [] });
    return {};
  },
});

export const loadBalancerActions = [createLoadBalancer, describeLoadBalancers, modifyLoadBalancerAttributes, deleteLoadBalancer];
