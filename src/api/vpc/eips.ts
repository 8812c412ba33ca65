/**
 * Elastic IPs (vpc 2017-03-12): AllocateAddresses, DescribeAddresses,
 * AssociateAddress, DisassociateAddress, ReleaseAddresses,
 * ModifyAddressAttribute, ModifyAddressesBandwidth, DescribeAddressQuota.
 * (Private addresses in subnets are addresses.ts.)
 *
 * An EIP is a public address from the region's pools (core/public-pools.ts)
 * held by one account until released; bound, it maps 1:1 to one instance's
 * private address. Every call is one transaction: a batch with one bad item
 * changes nothing. Binding and unbinding are done when the call returns (the
 * status is UNBIND or BIND, never BINDING), and the TaskId answered is a task
 * already SUCCESS. What is kept and what the data plane does not enforce yet:
 * docs/public-network.md.
 *
 * Error codes are the per-action lists of tencentcloud-sdk-go
 * vpc/v20170312/client.go (commit 144f6c8d), descriptions from its errors.go.
 */
import type { Address, Quota } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { sql, type SqlBool } from 'kysely';
import { formatCidr, parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { allocatePublic, checkPublicRequested } from '../../core/public-pools.js';
import {
  bindableInstance,
  bindEip,
  dailyAllocationKind,
  deleteUnboundEips,
  dropEarlierDailyCounters,
  eipOfInstance,
  eipsOf,
  insertEips,
  takenPublicIps,
  unbindEip,
  vpcsOfInstances,
  type EipRow,
} from '../../store/eips.js';
import { recordDoneTask } from '../../store/tasks.js';
import { quotasOf } from '../../accounts/accounts.js';
import type { Write } from '../../store/store.js';
import { defineAction, type Ctx } from '../action.js';
import { deleteTags, isoSeconds, loadTags, page, release, reserve, saveTags, taggedBy, tagsParam, usage } from '../common.js';
import { ApiError, fail, missingParameter } from '../errors.js';
import { any, arr, bool, filters, filterValues, idOf, int, obj, opt, paging, str, type Infer, type Schema } from '../params.js';
import { ID } from './lookup.js';

export const EIP_ID = idOf('eip');
const ENI_ID = idOf('eni');

// ---------------------------------------------------------------------------
// Rules

/** InternetChargeType values of the model; Weft has no bandwidth packages, so BANDWIDTH_PACKAGE is refused. */
const CHARGE_TYPES = ['TRAFFIC_POSTPAID_BY_HOUR', 'BANDWIDTH_POSTPAID_BY_HOUR', 'BANDWIDTH_PREPAID_BY_MONTH', 'BANDWIDTH_PACKAGE'] as const;
/** Tencent's bandwidth ceilings by charge type, in Mbps; the floor is 1 for all. */
const MAX_BANDWIDTH: Record<string, number> = {
  TRAFFIC_POSTPAID_BY_HOUR: 100,
  BANDWIDTH_POSTPAID_BY_HOUR: 100,
  BANDWIDTH_PREPAID_BY_MONTH: 200,
  BANDWIDTH_PACKAGE: 2000,
};
const PREPAID_PERIODS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36];
const RENEW_FLAGS = ['NOTIFY_AND_MANUAL_RENEW', 'NOTIFY_AND_AUTO_RENEW', 'DISABLE_NOTIFY_AND_MANUAL_RENEW'];
/** Re-assigning a normal public IP after an unbind: Tencent's daily limit, reported though Weft never does it. */
const DAILY_PUBLIC_IP_ASSIGN = 10;

function checkBandwidth(mbps: number, chargeType: string, where: string) {
  if (mbps < 1) fail('InvalidParameterValue.BandwidthTooSmall', `${where} is ${mbps} Mbps; the least is 1 Mbps.`);
  const max = MAX_BANDWIDTH[chargeType]!;
  if (mbps > max) fail('InvalidParameterValue.BandwidthOutOfRange', `${where} is ${mbps} Mbps; ${chargeType} allows 1 to ${max} Mbps.`);
}

/** AddressName: at most 128 characters of letters, digits, `-` and `_` (Tencent's rule for EIP names). */
const addressName: Schema<string> = {
  describe: 'String',
  parse(v, path) {
    const s = str().parse(v, path);
    const n = [...s].length;
    if (n > 128) fail('InvalidParameterValue.TooLong', `\`${path}\` is ${n} characters long; at most 128 are allowed.`);
    if (!/^[\p{L}\p{N}_-]*$/u.test(s))
      fail('InvalidParameterValue', `\`${path}\` \`${s}\` may hold only letters, digits, hyphens (-) and underscores (_); no spaces.`);
    return s;
  },
};

/** Distinct well-formed EIP IDs, or InvalidParameterValue.AddressIdMalformed naming the first that is not. */
function checkEipIds(ids: readonly string[], param: string): string[] {
  ids.forEach((id, i) => {
    if (!EIP_ID.test(id)) fail('InvalidParameterValue.AddressIdMalformed', `\`${id}\` at \`${param}.${i}\` is not an EIP ID; expected the form eip-xxxxxxxx.`);
  });
  return [...new Set(ids)];
}

/** The account's EIPs among `ids`, in the order given, or InvalidAddressId.NotFound naming the others. */
async function ownEips(db: Ctx['db'] | Write['tx'], account: string, ids: readonly string[]): Promise<EipRow[]> {
  const rows = new Map((await eipsOf(db, account, ids)).map((r) => [r.id, r]));
  const missing = ids.filter((id) => !rows.has(id));
  if (missing.length) fail('InvalidAddressId.NotFound', `The EIP(s) ${missing.map((m) => `\`${m}\``).join(', ')} do(es) not exist.`);
  return ids.map((id) => rows.get(id)!);
}

const ownEip = async (db: Ctx['db'] | Write['tx'], account: string, id: string, param = 'AddressId') =>
  (await ownEips(db, account, checkEipIds([id], param)))[0]!;

/**
 * Records an EIP change. While an EIP is bound (or was until this change), its
 * instance's VPC changes too: the hosts of that VPC will carry the address in
 * their documents, and the document cache wakes them on a 'vpc' change.
 */
export function eipChanged(w: Write, account: string, eipId: string, op: 'create' | 'update' | 'delete', vpcId?: string) {
  w.changed(account, 'address', eipId, op);
  if (vpcId) w.changed(account, 'vpc', vpcId, 'update');
}

async function vpcOfInstance(w: Write, instanceId: string): Promise<string | undefined> {
  return (await vpcsOfInstances(w.tx, [instanceId])).get(instanceId);
}

// ---------------------------------------------------------------------------
// The Address model

/** The Address model as Weft answers it: every field present, null where Tencent answers null. */
type AddressAnswer = { [K in keyof Address]-?: Address[K] | null };

function toAddresses(rows: readonly EipRow[], tags: Map<string, { Key: string; Value: string }[]>): AddressAnswer[] {
  return rows.map((r) => {
    const prepaid = r.prepaid ? (JSON.parse(r.prepaid) as { Period: number; AutoRenewFlag?: number }) : undefined;
    let deadline: string | null = null;
    if (prepaid) {
      const d = new Date(r.created_at);
      d.setUTCMonth(d.getUTCMonth() + prepaid.Period);
      deadline = isoSeconds(d.toISOString());
    }
    return {
      AddressId: r.id,
      // Tencent answers null for an EIP never named.
      AddressName: r.name || null,
      AddressStatus: r.status,
      AddressIp: r.ip,
      // A NAT gateway's EIP names the gateway, as Tencent's does.
      InstanceId: r.instance_id ?? r.nat_gateway_id,
      CreatedTime: isoSeconds(r.created_at),
      NetworkInterfaceId: r.network_interface_id,
      PrivateAddressIp: r.private_ip,
      // Weft bills nothing and blocks nothing.
      IsArrears: false,
      IsBlocked: false,
      IsEipDirectConnection: r.direct_connection === 1,
      AddressType: 'EIP',
      CascadeRelease: false,
      // The gateways will translate addresses only: no FTP or SIP application-level gateway.
      EipAlgType: { Ftp: false, Sip: false },
      InternetServiceProvider: r.isp,
      LocalBgp: false,
      Bandwidth: r.bandwidth,
      InternetChargeType: r.charge_type,
      TagSet: tags.get(r.id) ?? [],
      DeadlineDate: deadline,
      InstanceType: r.nat_gateway_id ? 'NAT' : r.status === 'BIND' ? 'CVM' : null,
      Egress: null,
      AntiDDoSPackageId: '',
      RenewFlag: prepaid ? RENEW_FLAGS[prepaid.AutoRenewFlag ?? 1]! : '',
      BandwidthPackageId: null,
      UnVpcId: '',
      DedicatedClusterId: '',
    };
  });
}

// ---------------------------------------------------------------------------
// Actions

const allocateParams = obj({
  AddressCount: opt(int({ min: 1 })),
  InternetServiceProvider: opt(str({ oneOf: ['BGP', 'CMCC', 'CTCC', 'CUCC'] })),
  InternetChargeType: opt(str({ oneOf: CHARGE_TYPES })),
  IPChargeType: opt(any()),
  InternetMaxBandwidthOut: opt(int()),
  AddressChargePrepaid: opt(obj({ Period: int(), AutoRenewFlag: opt(int()) })),
  AddressType: opt(str({ oneOf: ['EIP', 'AnycastEIP', 'HighQualityEIP', 'AntiDDoSEIP', 'ResidentialEIP'] })),
  AnycastZone: opt(any()),
  VipCluster: opt(arr(str(), { min: 1 })),
  ApplicableForCLB: opt(any()),
  Tags: tagsParam,
  BandwidthPackageId: opt(str()),
  AddressName: opt(addressName),
  DedicatedClusterId: opt(str()),
  IsDedicatedAddressPool: opt(any()),
  Egress: opt(any()),
  AntiDDoSPackageId: opt(any()),
  ClientToken: opt(str({ max: 64, pattern: /^[\x20-\x7e]*$/, patternHint: 'at most 64 ASCII characters' })),
});

/** What an AllocateAddresses request asks for, checked before anything is read (Weft's pools are BGP EIPs only). */
function allocationSettings(ctx: Ctx, p: Infer<typeof allocateParams>) {
  const type = p.AddressType ?? 'EIP';
  if (type === 'AnycastEIP') fail('UnauthorizedOperation.AnycastEip', 'Weft has no Anycast acceleration; omit `AddressType` or give EIP.');
  if (type !== 'EIP')
    fail('UnsupportedOperation.UnsupportedRegion', `Region ${ctx.region.name} offers no ${type}; omit \`AddressType\` or give EIP.`);
  const isp = p.InternetServiceProvider ?? 'BGP';
  if (isp !== 'BGP')
    fail('UnsupportedOperation.UnsupportedRegion', `Region ${ctx.region.name} has no static single-line (${isp}) addresses; omit \`InternetServiceProvider\` or give BGP.`);
  if (p.DedicatedClusterId !== undefined)
    fail('InvalidParameterValue.InvalidDedicatedClusterId', `Weft has no dedicated clusters (CDC); omit \`DedicatedClusterId\` (\`${p.DedicatedClusterId}\`).`);
  const chargeType = p.InternetChargeType ?? 'TRAFFIC_POSTPAID_BY_HOUR';
  if (chargeType === 'BANDWIDTH_PACKAGE' || p.BandwidthPackageId !== undefined)
    fail(
      'InvalidParameterValue.BandwidthPackageNotFound',
      'Weft has no bandwidth packages; omit `BandwidthPackageId` and give another `InternetChargeType` (default TRAFFIC_POSTPAID_BY_HOUR).',
    );
  const bandwidth = p.InternetMaxBandwidthOut ?? 1;
  checkBandwidth(bandwidth, chargeType, '`InternetMaxBandwidthOut`');
  let prepaid: string | null = null;
  if (chargeType === 'BANDWIDTH_PREPAID_BY_MONTH') {
    const pp = p.AddressChargePrepaid ?? fail('MissingParameter', '`AddressChargePrepaid` is required with InternetChargeType BANDWIDTH_PREPAID_BY_MONTH.');
    if (!PREPAID_PERIODS.includes(pp.Period))
      fail('InvalidParameterValue.Range', `\`AddressChargePrepaid.Period\` is ${pp.Period}; give one of ${PREPAID_PERIODS.join(', ')} (months).`);
    if (pp.AutoRenewFlag !== undefined && RENEW_FLAGS[pp.AutoRenewFlag] === undefined)
      fail('InvalidParameterValue.Range', `\`AddressChargePrepaid.AutoRenewFlag\` is ${pp.AutoRenewFlag}; give 0 (manual), 1 (automatic) or 2 (no renewal).`);
    prepaid = JSON.stringify({ Period: pp.Period, AutoRenewFlag: pp.AutoRenewFlag ?? 1 });
  }
  const requested = p.VipCluster;
  if (requested && p.AddressCount !== undefined && p.AddressCount !== requested.length)
    fail('InvalidParameterValue.Combination', `\`VipCluster\` names ${requested.length} address(es) but \`AddressCount\` is ${p.AddressCount}; give one address per EIP, or omit AddressCount.`);
  const count = requested?.length ?? p.AddressCount ?? 1;
  return { isp, chargeType, bandwidth, prepaid, requested, count };
}

export const allocateAddresses = defineAction({
  service: 'vpc',
  name: 'AllocateAddresses',
  idempotencyToken: 'ClientToken',
  params: allocateParams,
  async run(ctx, p) {
    const { isp, chargeType, bandwidth, prepaid, requested, count } = allocationSettings(ctx, p);
    const account = ctx.account.uin;
    return ctx.write(async (w) => {
      const rows = await allocateEips(w, ctx, { count, requested, isp, chargeType, bandwidth, prepaid, name: p.AddressName ?? '', tags: p.Tags });
      return { AddressSet: rows.map((r) => r.id), TaskId: await recordDoneTask(w, account, 'AllocateAddresses', ctx.requestId) };
    });
  },
});

/** What allocateEips allocates, and the codes it answers when over the account's quota or its daily allowance. */
export interface EipAllocation {
  count: number;
  /** Addresses asked for (VipCluster), else the pools' first free ones. */
  requested?: readonly string[];
  isp: string;
  chargeType: string;
  bandwidth: number;
  prepaid: string | null;
  name: string;
  tags?: readonly { Key: string; Value?: string }[];
  codes?: { quota: string; daily: string };
}

/**
 * Allocates EIPs to the account within its quota and daily allowance, from
 * the region's pools: AllocateAddresses, and a NAT gateway's AddressCount.
 * Takes the region's writer lock (the revision) after the usage rows.
 */
export async function allocateEips(w: Write, ctx: Ctx, o: EipAllocation): Promise<EipRow[]> {
  const { count, requested, isp, chargeType, bandwidth, prepaid } = o;
  const codes = o.codes ?? { quota: 'AddressQuotaLimitExceeded', daily: 'AddressQuotaLimitExceeded.DailyAllocate' };
  const account = ctx.account.uin;
  const quota = (await ctx.quotas()).eipPerAccount;
  await reserveEips(w, account, 'eip', count, quota, () =>
    fail(
      codes.quota,
      `This account may hold ${quota} EIPs in region ${ctx.region.name}; ${count} more would exceed that (DescribeAddressQuota shows how many it holds). Release unused EIPs (ReleaseAddresses) or ask the operator to raise the quota eipPerAccount.`,
    ),
  );
  const day = w.now.slice(0, 10);
  await dropEarlierDailyCounters(w.tx, account, day);
  await reserveEips(w, account, dailyAllocationKind(day), count, 2 * quota, () =>
    fail(
      codes.daily,
      `This account may allocate ${2 * quota} EIPs a day (twice its EIP quota), and ${count} more would exceed that today (UTC); try again tomorrow or ask the operator to raise the quota eipPerAccount.`,
    ),
  );
  // Allocators must not pick the same free address: the region's writer lock (the revision) orders them, taken
  // after the usage rows above so it is never held while waiting for one. Allocation is rare and short.
  await w.revision();
  const taken = await takenPublicIps(w.tx);
  const pools = ctx.region.publicPools;
  const ips = requested ? requested.map((ip, i) => checkRequested(ip, i, taken, ctx)) : allocatePublic(pools, taken, count);
  if (ips.length < count)
    fail(
      'ResourceInsufficient',
      `The region's public address pools (${pools.map(formatCidr).join(', ')}) have ${ips.length} free address(es), fewer than the ${count} asked for; release unused EIPs or ask the operator to add a pool.`,
    );
  const rows: EipRow[] = ips.map((ip) => ({
    id: newId('eip'),
    account,
    name: o.name,
    ip,
    status: 'UNBIND',
    instance_id: null,
    network_interface_id: null,
    private_ip: null,
    direct_connection: 0,
    isp,
    charge_type: chargeType,
    bandwidth,
    prepaid,
    created_at: w.now,
    nat_gateway_id: null,
  }));
  await insertEips(w.tx, rows);
  for (const r of rows) {
    await saveTags(w, account, r.id, o.tags);
    eipChanged(w, account, r.id, 'create');
  }
  return rows;
}

/** reserve() with the EIP actions' own code and message for going over. */
async function reserveEips(w: Write, account: string, kind: string, n: number, limit: number, over: () => never) {
  try {
    await reserve(w, account, kind, n, limit, kind);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'LimitExceeded') over();
    throw e;
  }
}

/** A VipCluster address: in a pool, not kept back, free (and asked for once). */
function checkRequested(ip: string, i: number, taken: Set<string>, ctx: Ctx): string {
  const c = checkPublicRequested(ctx.region.publicPools, ip, taken);
  const where = `\`${ip}\` (\`VipCluster.${i}\`)`;
  if (c.ok) {
    taken.add(c.ip); // a second mention of it in the list is then taken
    return c.ip;
  }
  const why = {
    malformed: 'is not an IPv4 address',
    outside: `is in none of the region's public address pools (${ctx.region.publicPools.map(formatCidr).join(', ')})`,
    reserved: "is kept back: a pool's first two and last addresses are never given out",
    taken: 'is already allocated (or named twice)',
  }[c.why];
  return fail('InvalidParameterValue.AddressIpNotAvailable', `${where} ${why}.`);
}

const DESCRIBE_FILTERS = [
  'address-id',
  'address-name',
  'address-ip',
  'address-status',
  'instance-id',
  'private-ip-address',
  'network-interface-id',
  'is-arrears',
  'instance-type',
  'address-type',
  'address-isp',
  'dedicated-cluster-id',
  'tag-key',
  'tag-value',
];

export const describeAddresses = defineAction({
  service: 'vpc',
  name: 'DescribeAddresses',
  params: obj({
    AddressIds: opt(arr(str())),
    Filters: opt(
      filters(DESCRIBE_FILTERS, {
        prefixes: ['tag:'],
        codes: { unknownName: 'InvalidParameter.InvalidFilter', tooManyFilters: 'LimitExceeded.NumberOfFilters', tooManyValues: 'InvalidParameterValue.LimitExceeded' },
      }),
    ),
    ...paging,
  }),
  async run(ctx, p) {
    if (p.AddressIds && p.AddressIds.length > 100)
      fail('InvalidParameterValue.LimitExceeded', `\`AddressIds\` takes at most 100 IDs per request; ${p.AddressIds.length} were given.`);
    const ids = p.AddressIds?.length ? checkEipIds(p.AddressIds, 'AddressIds') : undefined;
    const fs = p.Filters ?? [];
    if (ids && filterValues(fs, 'address-id'))
      fail('InvalidParameter', '`AddressIds` and the filter `address-id` cannot be given together; use one of them.');
    const account = ctx.account.uin;
    const { offset, limit } = page(p);
    const nothing = sql<SqlBool>`1 = 0`;
    let q = ctx.db.selectFrom('addresses').where('account', '=', account);
    if (ids) q = q.where('id', 'in', ids);
    // Values of one filter match any of them, filters combine with AND.
    fs.forEach((f, i) => {
      const v = f.Values;
      if (!v.length) fail('InvalidParameter.InvalidFilter', `\`Filters.${i}.Values\` must have at least one value.`);
      const flag = () =>
        v.map((x, j) => {
          const u = x.toUpperCase();
          if (u !== 'TRUE' && u !== 'FALSE') fail('InvalidParameter.InvalidFilter', `\`Filters.${i}.Values.${j}\` is \`${x}\`; ${f.Name} takes TRUE or FALSE.`);
          return u === 'TRUE';
        });
      switch (f.Name) {
        case 'address-id':
          return (q = q.where('id', 'in', v));
        case 'address-name': // Tencent: exact, and only the first value counts
          return (q = q.where('name', '=', v[0]!));
        case 'address-ip':
          return (q = q.where('ip', 'in', v));
        case 'address-status':
          return (q = q.where('status', 'in', v));
        case 'instance-id':
          return (q = q.where((e) => e.or([e('instance_id', 'in', v), e('nat_gateway_id', 'in', v)])));
        case 'private-ip-address': // Tencent: only the first value counts
          return (q = q.where('private_ip', '=', v[0]!));
        case 'network-interface-id':
          return (q = q.where('network_interface_id', 'in', v));
        case 'address-isp':
          return (q = q.where('isp', 'in', v));
        case 'is-arrears': // no Weft EIP is ever in arrears
          return flag().includes(false) ? q : (q = q.where(nothing));
        case 'instance-type': // a bound Weft EIP is bound to a CVM instance or held by a NAT gateway
          return (q = q.where((e) =>
            e.or([...(v.includes('CVM') ? [e('instance_id', 'is not', null)] : []), ...(v.includes('NAT') ? [e('nat_gateway_id', 'is not', null)] : []), nothing]),
          ));
        case 'address-type': // every Weft EIP is of type EIP
          return v.includes('EIP') ? q : (q = q.where(nothing));
        case 'dedicated-cluster-id': // Weft has no dedicated clusters
          return (q = q.where(nothing));
        case 'tag-value':
          return (q = q.where('id', 'in', ctx.db.selectFrom('tags').select('resource_id').where('account', '=', account).where('value', 'in', v)));
        default: // tag-key and tag:<key>, below
          return q;
      }
    });
    for (const tagged of taggedBy(ctx.db, account, fs)) q = q.where('id', 'in', tagged);
    const [rows, total] = await Promise.all([
      q.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute(),
      ids || fs.length ? q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)) : usage(ctx.db, account, 'eip'),
    ]);
    return { TotalCount: total, AddressSet: toAddresses(rows, await loadTags(ctx.db, rows.map((r) => r.id))) };
  },
});

/** An EIP a NAT gateway holds is the gateway's to bind and unbind: refused, the message ending with `what to do`. */
function refuseNatHeld(eip: { id: string; nat_gateway_id: string | null }, whatToDo: string): void {
  if (eip.nat_gateway_id)
    fail('UnsupportedOperation.AddressStatusNotPermit', `The EIP \`${eip.id}\` is held by the NAT gateway ${eip.nat_gateway_id}${whatToDo}`);
}

export const associateAddress = defineAction({
  service: 'vpc',
  name: 'AssociateAddress',
  params: obj({
    AddressId: str(),
    InstanceId: opt(str()),
    NetworkInterfaceId: opt(str()),
    PrivateIpAddress: opt(str()),
    EipDirectConnection: opt(bool()),
    InstanceRegion: opt(any()),
  }),
  async run(ctx, p) {
    checkEipIds([p.AddressId], 'AddressId');
    if (p.InstanceId !== undefined && p.NetworkInterfaceId !== undefined)
      fail('InvalidParameterConflict', 'Give `InstanceId` or `NetworkInterfaceId` with `PrivateIpAddress`, not both: an EIP binds to an instance or to one private address of a network interface.');
    if (p.InstanceId === undefined && p.NetworkInterfaceId === undefined)
      fail('InvalidParameterValue.MissingAssociateEntity', 'Name what to bind the EIP to: `InstanceId`, or `NetworkInterfaceId` with `PrivateIpAddress`.');
    if (p.NetworkInterfaceId !== undefined && p.PrivateIpAddress === undefined) throw missingParameter('PrivateIpAddress');
    if (p.InstanceId !== undefined && p.PrivateIpAddress !== undefined)
      fail('InvalidParameterValue.Combination', '`PrivateIpAddress` goes with `NetworkInterfaceId`; with `InstanceId` the EIP binds to the instance\'s primary private address.');
    if (p.InstanceId !== undefined && !ID.instance.test(p.InstanceId))
      fail('InvalidParameterValue.InstanceIdMalformed', `\`${p.InstanceId}\` (\`InstanceId\`) is not an instance ID; expected the form ins-xxxxxxxx.`);
    const eni = p.NetworkInterfaceId;
    if (eni !== undefined && !ENI_ID.test(eni))
      fail('InvalidNetworkInterfaceId.NotFound', `\`${eni}\` (\`NetworkInterfaceId\`) is not a network interface ID; expected the form eni-xxxxxxxx.`);
    if (p.PrivateIpAddress !== undefined && parseIp(p.PrivateIpAddress) === undefined)
      fail('InvalidNetworkInterfaceId.NotFound', `\`${p.PrivateIpAddress}\` (\`PrivateIpAddress\`) is not an IPv4 address.`);
    const account = ctx.account.uin;
    return ctx.write(async (w) => {
      const eip = await ownEip(w.tx, account, p.AddressId);
      refuseNatHeld(eip, '; remove it from the gateway first (DisassociateNatGatewayAddress).');
      if (eip.status !== 'UNBIND')
        fail('UnsupportedOperation.AddressStatusNotPermit', `The EIP \`${eip.id}\` is already bound to ${eip.instance_id}; unbind it first (DisassociateAddress).`);
      const inst = await bindableInstance(w.tx, ctx.store.engine, account, p.InstanceId !== undefined ? { instanceId: p.InstanceId } : { networkInterfaceId: eni! });
      if (!inst && p.InstanceId !== undefined) return fail('InvalidInstanceId.NotFound', `The instance \`${p.InstanceId}\` (\`InstanceId\`) does not exist.`);
      if (!inst) return fail('InvalidNetworkInterfaceId.NotFound', `The network interface \`${eni}\` (\`NetworkInterfaceId\`) does not exist.`);
      if (p.PrivateIpAddress !== undefined && p.PrivateIpAddress !== inst.private_ip)
        fail('InvalidNetworkInterfaceId.NotFound', `\`${p.PrivateIpAddress}\` (\`PrivateIpAddress\`) is not an address of \`${eni}\`; its address is ${inst.private_ip}.`);
      if (inst.state === 'STOPPED' && (JSON.parse(inst.spec) as { StoppedMode?: string }).StoppedMode === 'STOP_CHARGING')
        fail('UnsupportedOperation.InstanceStatusNotPermit', `The instance \`${inst.id}\` is stopped with STOP_CHARGING, which cannot hold an EIP; start it first.`);
      const held = await eipOfInstance(w.tx, inst.id);
      if (held && eni !== undefined)
        fail('InvalidPrivateIpAddress.AlreadyBindEip', `${inst.private_ip} of \`${eni}\` already has the EIP ${held.id} (${held.ip}); unbind it first (DisassociateAddress).`);
      if (held) fail('InvalidInstanceId.AlreadyBindEip', `The instance \`${inst.id}\` already has the EIP ${held.id} (${held.ip}); unbind it first (DisassociateAddress).`);
      const bound = await bindEip(w.tx, eip.id, { instanceId: inst.id, networkInterfaceId: inst.eni_id, privateIp: inst.private_ip, directConnection: p.EipDirectConnection ?? false });
      if (!bound) fail('UnsupportedOperation.AddressStatusNotPermit', `The EIP \`${eip.id}\` was bound by another request meanwhile; describe it and try again.`);
      eipChanged(w, account, eip.id, 'update', inst.vpc_id);
      return { TaskId: await recordDoneTask(w, account, 'AssociateAddress', ctx.requestId) };
    });
  },
});

export const disassociateAddress = defineAction({
  service: 'vpc',
  name: 'DisassociateAddress',
  params: obj({ AddressId: str(), ReallocateNormalPublicIp: opt(bool()) }),
  async run(ctx, p) {
    checkEipIds([p.AddressId], 'AddressId');
    if (p.ReallocateNormalPublicIp)
      fail('InvalidParameterValue.ResourceNotSupport', 'Weft instances have no normal public IPs to fall back to; omit `ReallocateNormalPublicIp` or set it to false.');
    const account = ctx.account.uin;
    return ctx.write(async (w) => {
      const eip = await ownEip(w.tx, account, p.AddressId);
      refuseNatHeld(eip, ', not bound to an instance; remove it from the gateway with DisassociateNatGatewayAddress.');
      if (eip.status !== 'BIND' || !eip.instance_id)
        fail('UnsupportedOperation.AddressStatusNotPermit', `The EIP \`${eip.id}\` is not bound; there is nothing to unbind.`);
      const vpcId = await vpcOfInstance(w, eip.instance_id!);
      if (!(await unbindEip(w.tx, eip.id, eip.instance_id!)))
        fail('UnsupportedOperation.AddressStatusNotPermit', `The EIP \`${eip.id}\` was unbound by another request meanwhile; nothing to do.`);
      eipChanged(w, account, eip.id, 'update', vpcId);
      return { TaskId: await recordDoneTask(w, account, 'DisassociateAddress', ctx.requestId) };
    });
  },
});

export const releaseAddresses = defineAction({
  service: 'vpc',
  name: 'ReleaseAddresses',
  params: obj({ AddressIds: arr(str(), { min: 1, max: 100 }) }),
  async run(ctx, p) {
    const ids = checkEipIds(p.AddressIds, 'AddressIds');
    const account = ctx.account.uin;
    return ctx.write(async (w) => {
      const rows = await ownEips(w.tx, account, ids);
      const bound = rows.filter((r) => r.status !== 'UNBIND');
      const refuse = (list: readonly EipRow[]) =>
        fail(
          'InvalidAddressState',
          `The EIP(s) ${list.map((r) => `\`${r.id}\` (${r.nat_gateway_id ? `held by the NAT gateway ${r.nat_gateway_id}` : `bound to ${r.instance_id}`})`).join(', ')} are bound; unbind them first (DisassociateAddress, or DisassociateNatGatewayAddress for a NAT gateway's). Nothing was released.`,
        );
      if (bound.length) refuse(bound);
      // A bind committed since the read above keeps its EIP in place: then release none.
      const deleted = new Set(await deleteUnboundEips(w.tx, ids));
      const left = ids.filter((id) => !deleted.has(id));
      if (left.length) refuse(await ownEips(w.tx, account, left));
      for (const id of ids) {
        await deleteTags(w, id);
        eipChanged(w, account, id, 'delete');
      }
      await release(w, account, 'eip', ids.length);
      return { TaskId: await recordDoneTask(w, account, 'ReleaseAddresses', ctx.requestId) };
    });
  },
});

export const modifyAddressAttribute = defineAction({
  service: 'vpc',
  name: 'ModifyAddressAttribute',
  params: obj({ AddressId: str(), AddressName: opt(addressName), EipDirectConnection: opt(str()) }),
  async run(ctx, p) {
    checkEipIds([p.AddressId], 'AddressId');
    const direct = p.EipDirectConnection?.toUpperCase();
    if (direct !== undefined && direct !== 'TRUE' && direct !== 'FALSE')
      fail('InvalidParameterValue', `\`EipDirectConnection\` is \`${p.EipDirectConnection}\`; give "TRUE" or "FALSE".`);
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const eip = await ownEip(w.tx, account, p.AddressId);
      const set: Partial<EipRow> = {};
      if (p.AddressName !== undefined) set.name = p.AddressName;
      if (direct !== undefined) {
        if (eip.status !== 'BIND' || !eip.instance_id)
          fail('UnsupportedOperation.AddressStatusNotPermit', `The EIP \`${eip.id}\` is not bound to an instance; direct connection is a setting of a binding to an instance. Bind it first (AssociateAddress).`);
        if (direct === 'TRUE' && eip.direct_connection === 1)
          fail('InvalidParameterValue.AddressAlreadyHasPassThrough', `The EIP \`${eip.id}\` already has direct connection on.`);
        set.direct_connection = direct === 'TRUE' ? 1 : 0;
      }
      if (Object.keys(set).length) {
        let q = w.tx.updateTable('addresses').set(set).where('id', '=', eip.id);
        if (set.direct_connection !== undefined) q = q.where('instance_id', '=', eip.instance_id!);
        if (Number((await q.executeTakeFirst()).numUpdatedRows) !== 1)
          fail('UnsupportedOperation.AddressStatusNotPermit', `The EIP \`${eip.id}\` was unbound by another request meanwhile; nothing was changed.`);
      }
      // A name reaches no host; direct connection changes how the instance's hosts deliver the address.
      const reachesHosts = set.direct_connection !== undefined && set.direct_connection !== eip.direct_connection;
      eipChanged(w, account, eip.id, 'update', reachesHosts ? await vpcOfInstance(w, eip.instance_id!) : undefined);
      return {};
    });
    return {};
  },
});

export const modifyAddressesBandwidth = defineAction({
  service: 'vpc',
  name: 'ModifyAddressesBandwidth',
  params: obj({ AddressIds: arr(str(), { min: 1, max: 100 }), InternetMaxBandwidthOut: int(), StartTime: opt(any()), EndTime: opt(any()) }),
  async run(ctx, p) {
    const ids = checkEipIds(p.AddressIds, 'AddressIds');
    const mbps = p.InternetMaxBandwidthOut;
    const account = ctx.account.uin;
    return ctx.write(async (w) => {
      const rows = await ownEips(w.tx, account, ids);
      for (const r of rows) checkBandwidth(mbps, r.charge_type, `\`InternetMaxBandwidthOut\` for ${r.id}`);
      await w.tx.updateTable('addresses').set({ bandwidth: mbps }).where('id', 'in', ids).execute();
      const vpcs = await vpcsOfInstances(w.tx, rows.flatMap((r) => (r.instance_id ? [r.instance_id] : [])));
      for (const r of rows) eipChanged(w, account, r.id, 'update', r.instance_id ? vpcs.get(r.instance_id) : undefined);
      return { TaskId: await recordDoneTask(w, account, 'ModifyAddressesBandwidth', ctx.requestId) };
    });
  },
});

export const describeAddressQuota = defineAction({
  service: 'vpc',
  name: 'DescribeAddressQuota',
  params: obj({}),
  async run(ctx) {
    const account = ctx.account.uin;
    const day = new Date().toISOString().slice(0, 10);
    // Read from the store, not the key cache's copy (seconds old): the quota is all this action answers.
    const [quotas, held, today] = await Promise.all([quotasOf(ctx.db, account), usage(ctx.db, account, 'eip'), usage(ctx.db, account, dailyAllocationKind(day))]);
    const quota = (quotas ?? ctx.account.quotas).eipPerAccount;
    const one = (QuotaId: string, QuotaCurrent: number, QuotaLimit: number): Quota => ({ QuotaId, QuotaCurrent, QuotaLimit, QuotaGroup: ctx.region.name });
    return {
      QuotaSet: [one('TOTAL_EIP_QUOTA', held, quota), one('DAILY_EIP_APPLY', today, 2 * quota), one('DAILY_PUBLIC_IP_ASSIGN', 0, DAILY_PUBLIC_IP_ASSIGN)],
    };
  },
});

export const eipActions = [
  allocateAddresses,
  describeAddresses,
  associateAddress,
  disassociateAddress,
  releaseAddresses,
  modifyAddressAttribute,
  modifyAddressesBandwidth,
  describeAddressQuota,
];
