/**
 * Instances (cvm 2017-03-12): RunInstances, DescribeInstances,
 * TerminateInstances, AssociateSecurityGroups, DisassociateSecurityGroups
 * (Stop/Start/RebootInstances: power.ts).
 *
 * An instance is a network port as much as a machine: one primary private IP
 * in a subnet (a row of private_ips), a MAC, an ENI ID and an ordered list of
 * security groups. Weft runs instances as network namespaces on its hosts, so
 * images, disks, passwords and billing are accepted for compatibility and not
 * enforced. What is decided where, and why: docs/instances.md.
 *
 * The queries of RunInstances and TerminateInstances are store/instances.ts.
 *
 * Error codes are CVM's, which differ from VPC's for the same idea
 * (InvalidSecurityGroupId.NotFound, not ResourceNotFound); they come from the
 * per-action lists in tencentcloud-sdk-go(-intl-en) cvm/v20170312/client.go,
 * see docs/research/tencent-api-facts.md section 1c.
 */
import { randomUUID } from 'node:crypto';
import type { Instance } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_models.js';
import { parseIp } from '../../core/cidr.js';
import { newId, newMac } from '../../core/ids.js';
import { instanceNames, MAX_NAME_CHARS } from '../../core/instance-names.js';
import { DEFAULT_INSTANCE_TYPE, instanceType } from '../../core/instance-types.js';
import type { Write } from '../../store/store.js';
import { defineAction, type Ctx } from '../action.js';
import { checkTagKeys, isoSeconds, page, release, reserve } from '../common.js';
import { ApiError, fail, missingParameter } from '../errors.js';
import { any, arr, bool, intish, obj, opt, paging, str, type Filter, type Schema } from '../params.js';
import { unbindEipsOfInstances } from '../../store/eips.js';
import { deregisterInstances } from '../../store/load-balancers.js';
import { dropSnatRulesOf } from '../vpc/nat-rules.js';
import { takeAddresses } from '../vpc/addresses.js';
import { eipChanged } from '../vpc/eips.js';
import { ID } from '../vpc/lookup.js';
import { deleteFlowLogsOf } from '../../store/flow-logs.js';
import {
  bindGroups,
  boundGroups,
  deleteInstanceRows,
  effectiveState,
  identitiesInUse,
  insertInstances,
  instancePage,
  type InstanceCondition,
  instancesOf,
  launchTargets,
  markOperation,
  topPositions,
  unbindGroups,
  type InstanceRow,
} from '../../store/instances.js';
import { ownGroups } from '../../store/security-groups.js';

/** Stands for every image: Weft instances share their host's kernel, so an image is only a label. */
export const DEFAULT_IMAGE_ID = 'img-00000000';
const IMAGE_ID = /^img-[0-9a-z]{8}$/;
export const MAX_BATCH = 100;

// ---------------------------------------------------------------------------
// Parameter schemas

/** A list of resource IDs of at most `max` entries (CVM answers InvalidParameterValue.LimitExceeded past it). */
export function idList(max: number, min = 0): Schema<string[]> {
  const list = arr(str());
  return {
    describe: 'Array of String',
    parse(v, path) {
      const ids = list.parse(v, path);
      if (ids.length > max)
        fail('InvalidParameterValue.LimitExceeded', `\`${path}\` takes at most ${max} IDs per request; ${ids.length} were given.`);
      if (ids.length < min) fail('InvalidParameterValue', `\`${path}\` must name at least ${min} ID.`);
      return ids;
    },
  };
}

const clientToken: Schema<string> = {
  describe: 'String',
  parse(v, path) {
    const s = str().parse(v, path);
    if (Buffer.byteLength(s) > 64) fail('InvalidClientToken.TooLong', `\`${path}\` is ${Buffer.byteLength(s)} bytes long; at most 64 are allowed.`);
    return s;
  },
};

const instanceName: Schema<string> = {
  describe: 'String',
  parse(v, path) {
    const s = str().parse(v, path);
    if ([...s].length > MAX_NAME_CHARS)
      fail('InvalidInstanceName.TooLong', `\`${path}\` is ${[...s].length} characters long; at most ${MAX_NAME_CHARS} are allowed, patterns such as {R:1} included.`);
    return s;
  },
};

/**
 * A login password is checked for type and dropped on the spot: the parsed
 * parameters (which the idempotency record hashes) never carry it, so no form
 * of it is ever stored. Weft has no guest OS to give it to.
 */
const password: Schema<true> = {
  describe: 'String',
  parse(v, path) {
    str().parse(v, path);
    return true;
  },
};

const userData: Schema<string> = {
  describe: 'String',
  parse(v, path) {
    const s = str().parse(v, path);
    if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s))
      fail('InvalidParameterValue.InvalidUserDataFormat', `\`${path}\` must be base64-encoded.`);
    if (Buffer.byteLength(s, 'base64') > 16 * 1024) fail('InvalidParameterValue.TooLarge', `\`${path}\` decodes to more than 16 KB.`);
    return s;
  },
};

/** CVM's Filters: unknown names are InvalidFilter, more than 5 values InvalidFilterValue.LimitExceeded. */
function cvmFilters(names: readonly string[], prefixes: readonly string[]): Schema<Filter[]> {
  const one = obj({ Name: str(), Values: arr(str()) });
  const list = arr(one);
  return {
    describe: `Array of Filter (${names.join(', ')})`,
    parse(v, path) {
      const fs = list.parse(v, path);
      if (fs.length > 10) fail('InvalidParameterValue.LimitExceeded', `\`${path}\` takes at most 10 filters; ${fs.length} were given.`);
      fs.forEach((f, i) => {
        if (!names.includes(f.Name) && !prefixes.some((p) => f.Name.startsWith(p) && f.Name.length > p.length))
          fail('InvalidFilter', `The filter name \`${f.Name}\` at \`${path}.${i}.Name\` is not supported; supported: ${names.join(', ')}, tag:<key>.`);
        if (f.Values.length > 5)
          fail('InvalidFilterValue.LimitExceeded', `\`${path}.${i}.Values\` takes at most 5 values; ${f.Values.length} were given.`);
        if (!f.Values.length) fail('InvalidFilter', `\`${path}.${i}.Values\` must have at least one value.`);
      });
      return fs;
    },
  };
}

const placement = obj({
  Zone: str(),
  ProjectId: opt(intish()),
  HostIds: opt(any()),
  HostId: opt(any()),
  DedicatedResourcePackTenancy: opt(any()),
  DedicatedResourcePackIds: opt(any()),
  RackId: opt(any()),
});

const virtualPrivateCloud = obj({
  VpcId: str(),
  SubnetId: str(),
  AsVpcGateway: opt(bool()),
  PrivateIpAddresses: opt(arr(str())),
  Ipv6AddressCount: opt(intish({ min: 0 })),
});

const systemDisk = obj({
  DiskType: opt(str()),
  DiskId: opt(any()),
  DiskSize: opt(intish({ min: 1 })),
  CdcId: opt(any()),
  DiskName: opt(any()),
  Encrypt: opt(any()),
  KmsKeyId: opt(any()),
});

const internetAccessible = obj({
  InternetChargeType: opt(str()),
  InternetMaxBandwidthOut: opt(intish({ min: 0 })),
  PublicIpAssigned: opt(bool()),
  BandwidthPackageId: opt(any()),
  InternetServiceProvider: opt(any()),
  IPv4AddressType: opt(any()),
  IPv6AddressType: opt(any()),
  AntiDDoSPackageId: opt(any()),
});

const loginSettings = obj({ Password: opt(password), KeyIds: opt(arr(str())), KeepImageLogin: opt(any()) });

const tagSpecification = obj({
  ResourceType: str(),
  Tags: arr(obj({ Key: str({ min: 1, max: 127 }), Value: str({ max: 255 }) }), { max: 50 }),
});

const CHARGE_TYPES = ['PREPAID', 'POSTPAID_BY_HOUR', 'CDHPAID', 'SPOTPAID', 'CDCPAID', 'UNDERWRITE'] as const;

// ---------------------------------------------------------------------------
// Shared checks

export function checkInstanceIds(ids: readonly string[], param: string) {
  ids.forEach((id, i) => {
    if (!ID.instance.test(id))
      fail('InvalidInstanceId.Malformed', `\`${id}\` at \`${param}.${i}\` is not a valid instance ID; expected the form ins-xxxxxxxx.`);
  });
  return [...new Set(ids)];
}

function checkSgIds(ids: readonly string[], param: string) {
  ids.forEach((id, i) => {
    if (!ID.sg.test(id)) fail('InvalidSgId.Malformed', `\`${id}\` at \`${param}.${i}\` is not a valid security group ID; expected the form sg-xxxxxxxx.`);
  });
}

/**
 * The account's instances among `ids` with the state DescribeInstances reports
 * for them, or InvalidInstanceId.NotFound naming the others (foreign ones included).
 */
export async function ownInstances(w: Write, account: string, ids: readonly string[]): Promise<InstanceRow[]> {
  return refuseMissingInstances(ids, await instancesOf(w.tx, account, ids));
}

function refuseMissingInstances(ids: readonly string[], rows: InstanceRow[]): InstanceRow[] {
  const found = new Set(rows.map((r) => r.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) fail('InvalidInstanceId.NotFound', `The instance(s) ${missing.map((m) => `\`${m}\``).join(', ')} do(es) not exist.`);
  return rows;
}

/** Checks that every security group of `ids` is the account's (`found`); foreign groups answer as missing ones. */
function refuseForeignGroups(ids: readonly string[], found: ReadonlySet<string>) {
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length)
    fail('InvalidSecurityGroupId.NotFound', `The security group(s) ${missing.map((m) => `\`${m}\``).join(', ')} do(es) not exist.`);
}

/** Addresses for the new instances, with the codes CVM uses for them (takeAddresses speaks VPC's). */
async function takeInstanceAddresses(w: Write, subnet: Parameters<typeof takeAddresses>[1], ids: readonly string[], requested: readonly string[]) {
  const codes: Record<string, string> = {
    'InvalidParameterValue.Malformed': 'InvalidParameterValue.IPAddressMalformed',
    'InvalidParameterValue.Range': 'VpcAddrNotInSubNet',
    'InvalidParameterValue.Reserved': 'VpcIpIsUsed',
    'InvalidParameterValue.Duplicate': 'VpcIpIsUsed',
    ResourceInsufficient: 'FailedOperation.NoAvailableIpAddressCountInSubnet',
  };
  try {
    return await takeAddresses(
      w,
      subnet,
      ids.map((id) => ({ kind: 'instance', id })),
      requested,
      'VirtualPrivateCloud.PrivateIpAddresses',
    );
  } catch (e) {
    if (e instanceof ApiError && codes[e.code]) throw new ApiError(codes[e.code]!, e.message);
    throw e;
  }
}

interface Identity {
  id: string;
  eniId: string;
  mac: string;
  uuid: string;
}

export interface Draw {
  id(): string;
  eniId(): string;
  mac(): string;
}
const randomDraw: Draw = { id: () => newId('ins'), eniId: () => newId('eni'), mac: newMac };

/**
 * IDs, ENI IDs and MACs for `n` new instances. The mac and eni_id columns are
 * unique: candidates already in use (or drawn twice) are drawn again. Writes
 * are serialised by the store, so a check inside the transaction holds.
 */
export async function newIdentities(w: Write, n: number, draw: Draw = randomDraw): Promise<Identity[]> {
  const out: Identity[] = Array.from({ length: n }, () => ({ id: draw.id(), eniId: draw.eniId(), mac: draw.mac(), uuid: randomUUID() }));
  for (let attempt = 0; ; attempt++) {
    const used = await identitiesInUse(w.tx, { ids: out.map((x) => x.id), eniIds: out.map((x) => x.eniId), macs: out.map((x) => x.mac) });
    const seen = new Set<string>();
    let redrawn = 0;
    for (const x of out) {
      const clash = (v: string) => used.has(v) || seen.has(v);
      if (clash(x.id)) {
        x.id = draw.id();
        redrawn++;
      }
      if (clash(x.eniId)) {
        x.eniId = draw.eniId();
        redrawn++;
      }
      if (clash(x.mac)) {
        x.mac = draw.mac();
        redrawn++;
      }
      seen.add(x.id).add(x.eniId).add(x.mac);
    }
    if (!redrawn) return out;
    if (attempt > 10) throw new Error('could not draw unused instance IDs and MACs');
  }
}

// ---------------------------------------------------------------------------
// The Instance model

export interface Spec {
  SystemDisk?: { DiskType?: string; DiskSize?: number };
  KeyIds?: string[];
  /** StopInstances' StoppedMode while the instance is STOPPED; reported as StopChargingMode. */
  StoppedMode?: string;
}

export { effectiveState, markOperation, type InstanceRow };

/** The Instance models of a page (store/instances.ts `instancePage`). */
function toInstances({ rows, groups, tags, publicIps }: Awaited<ReturnType<typeof instancePage>>): Instance[] {
  return rows.map((r) => {
    const spec = JSON.parse(r.spec) as Spec;
    const pending = r.effective_state === 'PENDING';
    return {
      Placement: { Zone: r.zone, ProjectId: 0 },
      InstanceId: r.id,
      InstanceType: r.instance_type,
      CPU: r.cpu,
      Memory: r.memory,
      RestrictState: 'NORMAL',
      InstanceName: r.name,
      InstanceChargeType: r.charge_type,
      SystemDisk: { DiskType: spec.SystemDisk?.DiskType ?? 'CLOUD_PREMIUM', DiskId: '', DiskSize: spec.SystemDisk?.DiskSize ?? 50 },
      DataDisks: [],
      PrivateIpAddresses: [r.private_ip],
      // Weft gives no normal public IPs: an instance's public address is its EIP, if one is bound.
      PublicIpAddresses: publicIps.get(r.id) ?? [],
      InternetAccessible: { InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR', InternetMaxBandwidthOut: 0, PublicIpAssigned: false },
      VirtualPrivateCloud: { VpcId: r.vpc_id, SubnetId: r.subnet_id, AsVpcGateway: false },
      ImageId: r.image_id,
      CreatedTime: isoSeconds(r.created_at),
      OsName: 'Linux',
      SecurityGroupIds: groups.get(r.id) ?? [],
      LoginSettings: { KeyIds: spec.KeyIds ?? [] },
      InstanceState: r.effective_state,
      Tags: tags.get(r.id) ?? [],
      // Weft bills nothing: the mode is only echoed from StopInstances while the instance is stopped.
      StopChargingMode: r.effective_state === 'STOPPED' ? (spec.StoppedMode ?? 'KEEP_CHARGING') : 'NOT_APPLICABLE',
      Uuid: r.uuid,
      LatestOperation: r.latest_operation,
      // A launch or a start is done when the instance runs; other operations are done when committed.
      LatestOperationState: (r.latest_operation === 'RunInstances' || r.latest_operation === 'StartInstances') && pending ? 'OPERATING' : r.latest_operation_state,
      LatestOperationRequestId: r.latest_operation_request_id,
      IPv6Addresses: [],
      IsolatedSource: 'NOTISOLATED',
      DisableApiTermination: r.disable_api_termination === 1,
    };
  });
}

// ---------------------------------------------------------------------------
// Actions

/** Thrown inside the write transaction of a DryRun to roll back everything it checked. */
class DryRunPassed extends Error {}

export const runInstances = defineAction({
  service: 'cvm',
  name: 'RunInstances',
  idempotencyToken: 'ClientToken',
  params: obj({
    InstanceChargeType: opt(str({ oneOf: CHARGE_TYPES })),
    InstanceChargePrepaid: opt(any()),
    Placement: placement,
    InstanceType: opt(str()),
    ImageId: opt(str()),
    SystemDisk: opt(systemDisk),
    DataDisks: opt(arr(any(), { max: 21 })),
    VirtualPrivateCloud: opt(virtualPrivateCloud),
    InternetAccessible: opt(internetAccessible),
    InstanceCount: opt(intish({ min: 1, max: MAX_BATCH })),
    MinCount: opt(any()),
    InstanceName: opt(instanceName),
    LoginSettings: opt(loginSettings),
    SecurityGroupIds: opt(arr(str())),
    EnhancedService: opt(any()),
    ClientToken: opt(clientToken),
    HostName: opt(any()),
    ActionTimer: opt(any()),
    DisasterRecoverGroupIds: opt(any()),
    TagSpecification: opt(arr(tagSpecification)),
    InstanceMarketOptions: opt(any()),
    UserData: opt(userData),
    Metadata: opt(any()),
    DryRun: opt(bool()),
    CpuTopology: opt(any()),
    CamRoleName: opt(any()),
    HpcClusterId: opt(any()),
    LaunchTemplate: opt(any()),
    DedicatedClusterId: opt(any()),
    ChcIds: opt(any()),
    PartitionNumber: opt(any()),
    DisableApiTermination: opt(bool()),
    EnableJumboFrame: opt(any()),
    NetworkInterfaces: opt(any()),
  }),
  async run(ctx, p) {
    const count = p.InstanceCount ?? 1;

    // Everything that needs no database first.
    if (p.LaunchTemplate !== undefined)
      fail('InvalidParameterValue.LaunchTemplateNotFound', 'Weft has no launch templates; give Placement, ImageId and VirtualPrivateCloud directly.');
    const zone =
      ctx.region.zones.find((z) => z.name === p.Placement.Zone) ??
      fail(
        'InvalidZone.MismatchRegion',
        `The zone \`${p.Placement.Zone}\` (\`Placement.Zone\`) is not in region ${ctx.region.name}; zones: ${ctx.region.zones.map((z) => z.name).join(', ')}.`,
      );
    if (p.Placement.ProjectId !== undefined && p.Placement.ProjectId !== 0)
      fail('InvalidProjectId.NotFound', `The project ${p.Placement.ProjectId} (\`Placement.ProjectId\`) does not exist; Weft has only the default project 0.`);
    if (p.InstanceChargeType === 'PREPAID' && p.InstanceChargePrepaid === undefined) throw missingParameter('InstanceChargePrepaid');
    const typeName = p.InstanceType ?? DEFAULT_INSTANCE_TYPE;
    const type = instanceType(typeName);
    if (type === 'malformed')
      return fail('InvalidInstanceType.Malformed', `\`${typeName}\` (\`InstanceType\`) is not an instance type name; expected the form S5.MEDIUM2 (family.size + GiB).`);
    if (type === 'unknown') return fail('InvalidParameterValue.InstanceTypeNotFound', `The instance type \`${typeName}\` (\`InstanceType\`) does not exist.`);
    const imageId = p.ImageId ?? DEFAULT_IMAGE_ID;
    if (!IMAGE_ID.test(imageId)) fail('InvalidImageId.Malformed', `\`${imageId}\` (\`ImageId\`) is not an image ID; expected the form img-xxxxxxxx.`);

    const vpc =
      p.VirtualPrivateCloud ??
      fail('MissingParameter', 'The request is missing a required parameter `VirtualPrivateCloud`: Weft has no classic network, every instance needs VpcId and SubnetId.');
    if (!ID.vpc.test(vpc.VpcId))
      fail('InvalidParameterValue.VpcIdMalformed', `\`${vpc.VpcId}\` (\`VirtualPrivateCloud.VpcId\`) is not a VPC ID; expected the form vpc-xxxxxxxx.`);
    if (!ID.subnet.test(vpc.SubnetId))
      fail('InvalidParameterValue.SubnetIdMalformed', `\`${vpc.SubnetId}\` (\`VirtualPrivateCloud.SubnetId\`) is not a subnet ID; expected the form subnet-xxxxxxxx.`);
    if (vpc.AsVpcGateway)
      fail('UnsupportedOperation', 'Weft instances cannot act as public gateways (`VirtualPrivateCloud.AsVpcGateway`); use a NAT gateway.');
    if (vpc.Ipv6AddressCount)
      fail('InvalidParameterValue.VpcNotSupportIpv6Address', 'Weft VPCs are IPv4 only; omit `VirtualPrivateCloud.Ipv6AddressCount` or set it to 0.');
    const requested = vpc.PrivateIpAddresses ?? [];
    if (vpc.PrivateIpAddresses && requested.length !== count)
      fail(
        'InvalidParameterCombination',
        `\`VirtualPrivateCloud.PrivateIpAddresses\` lists ${requested.length} address(es) but \`InstanceCount\` is ${count}; give one address per instance.`,
      );
    requested.forEach((ip, i) => {
      if (parseIp(ip) === undefined)
        fail('InvalidParameterValue.IPAddressMalformed', `\`${ip}\` (\`VirtualPrivateCloud.PrivateIpAddresses.${i}\`) is not an IPv4 address.`);
      const first = requested.indexOf(ip);
      if (first !== i)
        fail('InvalidParameterValue.Duplicate', `\`${ip}\` is given twice (\`VirtualPrivateCloud.PrivateIpAddresses.${first}\` and \`.${i}\`).`);
    });

    // Without SecurityGroupIds Tencent binds the project's default group, creating it if needed. Weft binds
    // none and creates nothing behind the caller's back: a port without groups matches no policy, so the data
    // plane drops its traffic until a group is bound (docs/instances.md).
    const sgIds = p.SecurityGroupIds ?? [];
    checkSgIds(sgIds, 'SecurityGroupIds');
    sgIds.forEach((id, i) => {
      if (sgIds.indexOf(id) !== i) fail('InvalidParameterValue.Duplicate', `The security group \`${id}\` is given twice in \`SecurityGroupIds\`.`);
    });

    const net = p.InternetAccessible;
    if (net && (net.PublicIpAssigned === true || (net.PublicIpAssigned === undefined && (net.InternetMaxBandwidthOut ?? 0) > 0)))
      fail(
        'InvalidParameter.InternetAccessibleNotSupported',
        'Weft does not give instances a public IP at launch (`InternetAccessible`); allocate an EIP and associate it, or set InternetMaxBandwidthOut to 0.',
      );
    if (Array.isArray(p.NetworkInterfaces) && p.NetworkInterfaces.length)
      fail('UnsupportedOperation', 'Weft instances have one network interface; omit `NetworkInterfaces`.');

    const names = instanceNames(p.InstanceName || undefined, count);
    const tags = (p.TagSpecification ?? []).filter((t) => t.ResourceType === 'instance').flatMap((t) => t.Tags);
    const spec: Spec = {
      ...(p.SystemDisk && { SystemDisk: { DiskType: p.SystemDisk.DiskType, DiskSize: p.SystemDisk.DiskSize } }),
      ...(p.LoginSettings?.KeyIds && { KeyIds: p.LoginSettings.KeyIds }),
    };
    const uin = ctx.account.uin;

    try {
      return await ctx.write(async (w) => {
        const { vpcFound, subnet, ownGroups } = await launchTargets(w.tx, uin, vpc.VpcId, vpc.SubnetId, sgIds);
        if (!vpcFound) fail('InvalidParameterValue.VpcIdNotExist', `The VPC \`${vpc.VpcId}\` (\`VirtualPrivateCloud.VpcId\`) does not exist.`);
        if (!subnet) return fail('InvalidParameterValue.SubnetNotExist', `The subnet \`${vpc.SubnetId}\` (\`VirtualPrivateCloud.SubnetId\`) does not exist.`);
        if (subnet.vpc_id !== vpc.VpcId)
          fail(
            'InvalidParameterValue.VpcIdSubnetIdNotMatch',
            `The subnet \`${subnet.id}\` (\`VirtualPrivateCloud.SubnetId\`) belongs to ${subnet.vpc_id}, not to \`VirtualPrivateCloud.VpcId\` ${vpc.VpcId}.`,
          );
        if (subnet.zone !== zone.name)
          fail(
            'InvalidParameterValue.SubnetIdZoneIdNotMatch',
            `The subnet \`${subnet.id}\` is in zone ${subnet.zone}, but \`Placement.Zone\` is ${zone.name}; instances launch in their subnet's zone.`,
          );
        refuseForeignGroups(sgIds, ownGroups);
        if (sgIds.length > ctx.account.quotas.sgPerInstance)
          fail('LimitExceeded.SingleUSGQuota', `An instance takes at most ${ctx.account.quotas.sgPerInstance} security groups; ${sgIds.length} were given in \`SecurityGroupIds\`.`);
        const [, who] = await Promise.all([
          reserve(w, uin, 'instance', count, ctx.account.quotas.instance, 'instance').catch((e: unknown) => {
            if (e instanceof ApiError && e.code === 'LimitExceeded') throw new ApiError('LimitExceeded.InstanceQuota', e.message);
            throw e;
          }),
          newIdentities(w, count),
        ]);
        const ips = await takeInstanceAddresses(w, subnet, who.map((x) => x.id), requested);
        const rows = who.map((x, i) => ({
          id: x.id,
          account: uin,
          name: names[i]!,
          zone: zone.name,
          vpc_id: subnet.vpc_id,
          subnet_id: subnet.id,
          private_ip: ips[i]!,
          mac: x.mac,
          eni_id: x.eniId,
          state: 'PENDING',
          image_id: imageId,
          instance_type: type.name,
          cpu: type.cpu,
          memory: type.memory,
          host_id: null,
          created_at: w.now,
          uuid: x.uuid,
          charge_type: p.InstanceChargeType ?? 'POSTPAID_BY_HOUR',
          disable_api_termination: p.DisableApiTermination ? 1 : 0,
          latest_operation: 'RunInstances',
          latest_operation_state: 'SUCCESS',
          latest_operation_request_id: ctx.requestId,
          spec: JSON.stringify(spec),
        }));
        checkTagKeys(tags);
        await insertInstances(w, rows, sgIds, tags);
        for (const x of who) w.changed(uin, 'instance', x.id, 'create');
        if (p.DryRun) throw new DryRunPassed();
        return { InstanceIdSet: who.map((x) => x.id) };
      });
    } catch (e) {
      // DryRun: every check passed and the transaction rolled back; Tencent answers with just the RequestId.
      if (e instanceof DryRunPassed) return {};
      throw e;
    }
  },
});

const FILTERS = [
  'zone',
  'project-id',
  'host-id',
  'dedicated-cluster-id',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'uuid',
  'security-group-id',
  'instance-name',
  'instance-charge-type',
  'instance-state',
  'private-ip-address',
  'public-ip-address',
  'ipv6-address',
  'tag-key',
  'tag-value',
  'creation-start-time',
  'creation-end-time',
] as const;

/** `2023-06-01 00:00:00` (or ISO-8601) as an ISO timestamp comparable with created_at. */
function filterTime(text: string, param: string): string {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)Z?$/.exec(text.trim());
  const d = m && new Date(`${m[1]}T${m[2]}Z`);
  if (!d || Number.isNaN(d.getTime()))
    return fail('InvalidParameterValue.InvalidTimeFormat', `\`${text}\` (\`${param}\`) is not a time in the form 2023-06-01 00:00:00 (UTC).`);
  return d.toISOString();
}

export const describeInstances = defineAction({
  service: 'cvm',
  name: 'DescribeInstances',
  params: obj({
    InstanceIds: opt(idList(MAX_BATCH)),
    Filters: opt(cvmFilters(FILTERS, ['tag:'])),
    ...paging,
  }),
  async run(ctx, p) {
    if (p.InstanceIds?.length && p.Filters?.length)
      fail('InvalidParameter', '`InstanceIds` and `Filters` cannot be given together; use the instance-id filter, or InstanceIds alone.');
    const ids = p.InstanceIds?.length ? checkInstanceIds(p.InstanceIds, 'InstanceIds') : undefined;
    const { offset, limit } = page(p);
    const uin = ctx.account.uin;
    const fs = p.Filters ?? [];
    // Values of one filter match any of them; filters combine with AND.
    const where: InstanceCondition[] = ids ? [{ on: 'id', values: ids }] : [];
    const on = {
      zone: 'zone',
      'vpc-id': 'vpc',
      'subnet-id': 'subnet',
      'instance-id': 'id',
      uuid: 'uuid',
      'instance-charge-type': 'chargeType',
      'private-ip-address': 'privateIp',
      'instance-state': 'state',
      'instance-name': 'name',
      'security-group-id': 'securityGroup',
      'tag-key': 'tagKey',
      'tag-value': 'tagValue',
      'public-ip-address': 'publicIp', // the address of its EIP
    } as const;
    fs.forEach((f, i) => {
      const v = f.Values;
      const times = () => v.map((_, j) => filterTime(v[j]!, `Filters.${i}.Values.${j}`)).sort();
      if (f.Name in on) return void where.push({ on: on[f.Name as keyof typeof on], values: v });
      switch (f.Name) {
        case 'creation-start-time':
          return void where.push({ on: 'createdFrom', at: times()[0]! });
        case 'creation-end-time': // the end second is included whole
          return void where.push({ on: 'createdTo', at: times().at(-1)!.replace('.000Z', '.999Z') });
        case 'project-id': // every Weft instance is in the default project 0
          return void (v.includes('0') || where.push({ on: 'nothing' }));
        case 'host-id': // dedicated hosts (CDH), clusters (CDC) and IPv6 addresses: no Weft instance has any
        case 'dedicated-cluster-id':
        case 'ipv6-address':
          return void where.push({ on: 'nothing' });
        default: // tag:<key>
          return void where.push({ on: 'tag', key: f.Name.slice('tag:'.length), values: v });
      }
    });
    const found = await instancePage(ctx.db, { account: uin, where, offset, limit });
    return { TotalCount: found.total, InstanceSet: toInstances(found) };
  },
});

export const terminateInstances = defineAction({
  service: 'cvm',
  name: 'TerminateInstances',
  params: obj({ InstanceIds: idList(MAX_BATCH, 1), ReleaseAddress: opt(any()), ReleasePrepaidDataDisks: opt(any()) }),
  async run(ctx, p) {
    const ids = checkInstanceIds(p.InstanceIds, 'InstanceIds');
    const uin = ctx.account.uin;
    // Weft deletes at once: no recycle bin and no billing, so TERMINATING/SHUTDOWN are never observable.
    return ctx.write(async (w) => {
      const rows = await ownInstances(w, uin, ids);
      const protectedOnes = rows.filter((r) => r.disable_api_termination === 1).map((r) => r.id);
      if (protectedOnes.length)
        fail(
          'UnsupportedOperation.InstancesProtected',
          `The instance(s) ${protectedOnes.map((x) => `\`${x}\``).join(', ')} have termination protection (DisableApiTermination); turn it off first.`,
        );
      await Promise.all([
        dropSnatRulesOf(w, rows.map((r) => r.eni_id)),
        deleteFlowLogsOf(w.tx, rows.map((r) => r.eni_id)), // the flow logs of their network interfaces go with them
        deleteInstanceRows(w, ids),
      ]);
      // As on Tencent, an EIP outlives its instance: it is unbound and stays allocated. After the delete, which
      // waits for a concurrent AssociateAddress holding an instance's row, so its binding is seen here.
      const vpcOf = new Map(rows.map((r) => [r.id, r.vpc_id]));
      for (const eip of await unbindEipsOfInstances(w.tx, ids)) eipChanged(w, uin, eip.id, 'update', vpcOf.get(eip.instance_id!));
      await release(w, uin, 'instance', ids.length);
      for (const id of ids) w.changed(uin, 'instance', id, 'delete');
      // Their load balancer targets go with them (Tencent unbinds a terminated instance).
      for (const lb of await deregisterInstances(w.tx, ids)) {
        w.changed(lb.account, 'load_balancer', lb.id, 'update');
        w.changed(lb.account, 'vpc', lb.vpc_id, 'update');
      }
      return {};
    });
  },
});

const sgBindingParams = obj({ SecurityGroupIds: idList(MAX_BATCH, 1), InstanceIds: idList(MAX_BATCH, 1) });

/**
 * Associate/DisassociateSecurityGroups share their checks and bookkeeping:
 * IDs well formed and the account's own, the change, then the operation
 * recorded and the instances logged as changed.
 */
function bindingAction(
  name: 'AssociateSecurityGroups' | 'DisassociateSecurityGroups',
  change: (ctx: Ctx, w: Write, ids: string[], sgIds: string[], bound: Map<string, string[]>, top: Map<string, number>) => Promise<void>,
) {
  return defineAction({
    service: 'cvm',
    name,
    params: sgBindingParams,
    async run(ctx, p) {
      checkSgIds(p.SecurityGroupIds, 'SecurityGroupIds');
      const sgIds = [...new Set(p.SecurityGroupIds)];
      const ids = checkInstanceIds(p.InstanceIds, 'InstanceIds');
      const uin = ctx.account.uin;
      return ctx.write(async (w) => {
        // Read together, checked in order: the groups, then the instances.
        const [groups, rows, bound, top] = await Promise.all([
          ownGroups(w.tx, uin, sgIds),
          instancesOf(w.tx, uin, ids),
          boundGroups(w.tx, ids),
          topPositions(w.tx, ids),
        ]);
        refuseForeignGroups(sgIds, groups);
        refuseMissingInstances(ids, rows);
        await Promise.all([change(ctx, w, ids, sgIds, bound, top), markOperation(w, ids, name, ctx.requestId)]);
        for (const id of ids) w.changed(uin, 'instance', id, 'update');
        return {};
      });
    },
  });
}

export const associateSecurityGroups = bindingAction('AssociateSecurityGroups', async (ctx, w, ids, sgIds, bound, top) => {
  const limit = ctx.account.quotas.sgPerInstance;
  const rows: { instance_id: string; sg_id: string; position: number }[] = [];
  for (const id of ids) {
    const have = bound.get(id)!;
    const added = sgIds.filter((sg) => !have.includes(sg)); // binding a bound group again changes nothing
    if (have.length + added.length > limit)
      fail(
        'LimitExceeded.AssociateUSGLimitExceeded',
        `The instance \`${id}\` has ${have.length} security group(s); ${added.length} more would exceed the limit of ${limit} per instance.`,
      );
    // Appended after the last bound group, in the order given.
    added.forEach((sg, i) => rows.push({ instance_id: id, sg_id: sg, position: (top.get(id) ?? -1) + 1 + i }));
  }
  await bindGroups(w, rows);
});

export const disassociateSecurityGroups = bindingAction('DisassociateSecurityGroups', async (_ctx, w, ids, sgIds, bound) => {
  for (const id of ids) {
    const notBound = sgIds.filter((sg) => !bound.get(id)!.includes(sg));
    if (notBound.length)
      fail(
        'FailedOperation.SecurityGroupActionFailed',
        `The security group(s) ${notBound.map((x) => `\`${x}\``).join(', ')} are not bound to the instance \`${id}\`; nothing was unbound.`,
      );
  }
  await unbindGroups(w, ids, sgIds);
});

export const instanceActions = [runInstances, describeInstances, terminateInstances, associateSecurityGroups, disassociateSecurityGroups];
