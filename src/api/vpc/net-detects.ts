/**
 * Network detection (Tencent's NetDetect): CreateNetDetect,
 * DescribeNetDetects, ModifyNetDetect, DeleteNetDetect,
 * DescribeNetDetectStates, CheckNetDetectState.
 *
 * A detection belongs to a subnet of a VPC and probes up to two destination
 * addresses through a next hop: NORMAL_CVM (an instance of the VPC, by its
 * private address), PEERCONNECTION (an ACTIVE peering connection of the
 * VPC), NAT (a NAT gateway of the VPC) or NONEXTHOP (where the subnet's
 * route table sends it). Tencent's VPN, DIRECTCONNECT and CCN next hops have
 * no counterpart in Weft and are refused as such.
 *
 * A detection holds two addresses of its subnet (DetectSourceIp); the hosts
 * its sources are placed on (compile/net-detects.ts) probe each destination
 * from them (agent/probes.ts); the states combine their latest figures with
 * the packet tracer's verdict for the subnet's traffic
 * (core/net-detect-state.ts).
 * Design and limits: docs/operations.md, "NetDetect".
 */
import type { NetDetect, NetDetectIpState } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { sql } from 'kysely';
import { formatIp, parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { mergeProbes, netDetectIpState, type TraceWitness } from '../../core/net-detect-state.js';
import { deleteNetDetectResults, netDetectResults, RESULT_FRESH_MS, type NetDetectRow } from '../../store/net-detects.js';
import { findVisiblePeering } from '../../store/peerings.js';
import type { Tx } from '../../store/store.js';
import { TraceError } from '../../trace/model.js';
import { trace } from '../../trace/trace.js';
import { instancesOf, type World } from '../../trace/world.js';
import { defineAction, type Ctx } from '../action.js';
import { checkIds, deleteTags, loadTags, nameContains, page, saveTags, tagsParam, tencentTime } from '../common.js';
import { ApiError, invalidValue, missingParameter } from '../errors.js';
import { arr, filters, filterValues, idOf, obj, opt, paging, str } from '../params.js';
import { releaseAddresses, takeAddresses } from './addresses.js';
import { findSubnet, findVpc } from './lookup.js';
import { accountView, worldOf } from './region-view.js';

export const NETD_ID = idOf('netd');
/** Detections per VPC (Tencent's console quota for network detections is of this order). */
export const MAX_PER_VPC = 100;
/** Tencent's DetectSourceIp: "长度为2", two addresses of the subnet per detection. */
const SOURCES = [0, 1];

const NEXT_HOP_TYPES = ['NORMAL_CVM', 'PEERCONNECTION', 'NAT', 'NONEXTHOP'] as const;
type NextHopType = (typeof NEXT_HOP_TYPES)[number];
/** Tencent's types Weft has nothing to stand for. */
const ABSENT: Record<string, string> = { VPN: 'VPN gateways', DIRECTCONNECT: 'direct connect gateways', CCN: 'Cloud Connect Network (CCN) instances' };

const detectName = () => str({ min: 1, max: 60 });
const destinations = () => arr(str(), { min: 1, max: 2 });

/** Destination addresses, normalised; duplicates refused. */
function checkDestinations(ips: readonly string[], param = 'DetectDestinationIp'): string[] {
  const out: string[] = [];
  ips.forEach((text, i) => {
    const ip = parseIp(text.trim());
    if (ip === undefined) throw new ApiError('InvalidParameterValue.Malformed', `\`${text}\` in \`${param}.${i}\` is not an IPv4 address.`);
    const norm = formatIp(ip);
    if (out.includes(norm)) throw new ApiError('InvalidParameterValue.Duplicate', `\`${param}.${i}\` ${norm} is given twice; give each destination once.`);
    out.push(norm);
  });
  return out;
}

/** The next hop, checked against the VPC: returns what is stored (type, destination). */
async function checkNextHop(db: Tx | Ctx['db'], account: string, vpcId: string, type: string | undefined, destination: string | undefined): Promise<{ type: NextHopType; destination: string }> {
  if (type === undefined) {
    if (destination) throw missingParameter('NextHopType');
    return { type: 'NONEXTHOP', destination: '' };
  }
  if (ABSENT[type]) throw new ApiError('UnsupportedOperation', `\`NextHopType\` ${type}: Weft has no ${ABSENT[type]}; give NORMAL_CVM, PEERCONNECTION, NAT or NONEXTHOP.`);
  if (!(NEXT_HOP_TYPES as readonly string[]).includes(type))
    throw invalidValue('NextHopType', `\`${type}\` is not one of ${[...NEXT_HOP_TYPES, ...Object.keys(ABSENT)].map((t) => `\`${t}\``).join(', ')}`);
  const t = type as NextHopType;
  const d = (destination ?? '').trim();
  if (t === 'NONEXTHOP') {
    if (d) throw new ApiError('InvalidParameter.NextHopMismatch', `\`NextHopDestination\` \`${d}\` is given with NextHopType NONEXTHOP, which has no next hop; leave it out.`);
    return { type: t, destination: '' };
  }
  if (!d) throw missingParameter('NextHopDestination');
  if (t === 'NORMAL_CVM') {
    const ip = parseIp(d);
    if (ip === undefined) throw new ApiError('InvalidParameter.NextHopMismatch', `\`NextHopDestination\` \`${d}\` is not an IPv4 address; a NORMAL_CVM next hop is the private IP of an instance of VPC ${vpcId}.`);
    const text = formatIp(ip);
    const inst = await db.selectFrom('instances').select('id').where('vpc_id', '=', vpcId).where('private_ip', '=', text).where('account', '=', account).executeTakeFirst();
    if (!inst) throw new ApiError('ResourceNotFound', `\`NextHopDestination\` ${text} is not the private IP of an instance of VPC ${vpcId}; a NORMAL_CVM next hop must be an instance in the detection's VPC.`);
    return { type: t, destination: text };
  }
  if (t === 'PEERCONNECTION') {
    if (!idOf('pcx').test(d)) throw new ApiError('InvalidParameter.NextHopMismatch', `\`NextHopDestination\` \`${d}\` is not a peering connection ID (pcx-xxxxxxxx), which NextHopType PEERCONNECTION needs.`);
    const p = await findVisiblePeering(db, account, d);
    const joins = p && ((p.vpc_id === vpcId && p.account === account) || (p.peer_vpc_id === vpcId && p.peer_account === account));
    if (!p || !joins) throw new ApiError('ResourceNotFound', `\`NextHopDestination\`: VPC ${vpcId} has no peering connection \`${d}\`; a PEERCONNECTION next hop must be a peering connection of the detection's VPC.`);
    if (p.state !== 'ACTIVE') throw new ApiError('UnsupportedOperation', `\`NextHopDestination\`: peering connection ${d} is ${p.state}, not ACTIVE; traffic crosses only an active connection.`);
    return { type: t, destination: d };
  }
  if (!idOf('nat').test(d)) throw new ApiError('InvalidParameter.NextHopMismatch', `\`NextHopDestination\` \`${d}\` is not a NAT gateway ID (nat-xxxxxxxx), which NextHopType NAT needs.`);
  const nat = await db.selectFrom('nat_gateways').select('id').where('id', '=', d).where('vpc_id', '=', vpcId).where('account', '=', account).executeTakeFirst();
  if (!nat) throw new ApiError('ResourceNotFound', `\`NextHopDestination\`: VPC ${vpcId} has no NAT gateway \`${d}\`; a NAT next hop must be a NAT gateway of the detection's VPC.`);
  return { type: t, destination: d };
}

async function findSubnetOf(db: Tx | Ctx['db'], account: string, vpcId: string, subnetId: string) {
  const subnet = await findSubnet(db, account, subnetId);
  if (subnet.vpc_id !== vpcId)
    throw new ApiError('UnsupportedOperation.VpcMismatch', `The subnet \`${subnetId}\` is in VPC ${subnet.vpc_id}, not in \`VpcId\` ${vpcId}; a detection probes from a subnet of its own VPC.`);
  return subnet;
}

/** Another detection of the subnet that probes one of these addresses: the data plane forces one next hop per subnet and address. */
async function checkSameIp(db: Tx, subnetId: string, ips: readonly string[], self?: string) {
  const others = await db.selectFrom('net_detects').select(['id', 'destinations']).where('subnet_id', '=', subnetId).execute();
  for (const o of others) {
    if (o.id === self) continue;
    const clash = (JSON.parse(o.destinations) as string[]).find((ip) => ips.includes(ip));
    if (clash) throw new ApiError('InvalidParameterValue.NetDetectSameIp', `Detection ${o.id} of subnet ${subnetId} already probes ${clash}; one subnet probes one address through one next hop. Modify or delete ${o.id}.`);
  }
}

async function findNetDetect(db: Tx | Ctx['db'], account: string, id: string, param = 'NetDetectId'): Promise<NetDetectRow> {
  if (!NETD_ID.test(id)) throw new ApiError('InvalidParameterValue.Malformed', `\`${id}\` in \`${param}\` is not a valid ID; expected the form netd-xxxxxxxx.`);
  const row = await db.selectFrom('net_detects').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
  if (!row) throw new ApiError('ResourceNotFound', `The network detection \`${id}\` (\`${param}\`) does not exist.`);
  return row;
}

async function toNetDetects(ctx: Ctx, rows: readonly NetDetectRow[]): Promise<NetDetect[]> {
  if (!rows.length) return [];
  const vpcIds = [...new Set(rows.map((r) => r.vpc_id))];
  const subnetIds = [...new Set(rows.map((r) => r.subnet_id))];
  const [vpcs, subnets, tags, nats, pcxs, sources] = await Promise.all([
    ctx.db.selectFrom('vpcs').select(['id', 'name']).where('id', 'in', vpcIds).execute(),
    ctx.db.selectFrom('subnets').select(['id', 'name']).where('id', 'in', subnetIds).execute(),
    loadTags(ctx.db, rows.map((r) => r.id)),
    ctx.db.selectFrom('nat_gateways').select(['id', 'name']).where('vpc_id', 'in', vpcIds).execute(),
    ctx.db.selectFrom('peerings').select(['id', 'name']).where((eb) => eb.or([eb('vpc_id', 'in', vpcIds), eb('peer_vpc_id', 'in', vpcIds)])).execute(),
    ctx.db.selectFrom('private_ips').select(['owner_id', 'ip']).where('owner_kind', '=', 'net_detect').where('owner_id', 'in', rows.map((r) => r.id)).execute(),
  ]);
  const sourcesOf = new Map<string, string[]>();
  for (const x of sources) sourcesOf.set(x.owner_id, [...(sourcesOf.get(x.owner_id) ?? []), x.ip].sort((a, b) => parseIp(a)! - parseIp(b)!));
  const vpcName = new Map(vpcs.map((v) => [v.id, v.name]));
  const subnetName = new Map(subnets.map((s) => [s.id, s.name]));
  const hopName = new Map([...nats, ...pcxs].map((x) => [x.id, x.name]));
  const instances = rows.some((r) => r.next_hop_type === 'NORMAL_CVM')
    ? await ctx.db.selectFrom('instances').select(['vpc_id', 'private_ip', 'name']).where('vpc_id', 'in', vpcIds).execute()
    : [];
  const instanceName = new Map(instances.map((i) => [`${i.vpc_id} ${i.private_ip}`, i.name]));
  return rows.map((r) => ({
    VpcId: r.vpc_id,
    VpcName: vpcName.get(r.vpc_id) ?? '',
    SubnetId: r.subnet_id,
    SubnetName: subnetName.get(r.subnet_id) ?? '',
    NetDetectId: r.id,
    NetDetectName: r.name,
    DetectDestinationIp: JSON.parse(r.destinations) as string[],
    DetectSourceIp: sourcesOf.get(r.id) ?? [],
    NextHopType: r.next_hop_type,
    NextHopDestination: r.next_hop_destination,
    NextHopName: r.next_hop_type === 'NORMAL_CVM' ? (instanceName.get(`${r.vpc_id} ${r.next_hop_destination}`) ?? '') : (hopName.get(r.next_hop_destination) ?? ''),
    NetDetectDescription: r.description,
    CreateTime: tencentTime(r.created_at),
    TagSet: tags.get(r.id) ?? [],
  }));
}

export const createNetDetect = defineAction({
  service: 'vpc',
  name: 'CreateNetDetect',
  params: obj({
    VpcId: str(),
    SubnetId: str(),
    NetDetectName: detectName(),
    DetectDestinationIp: destinations(),
    NextHopType: opt(str()),
    NextHopDestination: opt(str()),
    NetDetectDescription: opt(str({ max: 100 })),
    Tags: tagsParam,
  }),
  async run(ctx, p) {
    const ips = checkDestinations(p.DetectDestinationIp);
    const account = ctx.account.uin;
    const id = newId('netd');
    await ctx.write(async (w) => {
      const vpc = await findVpc(w.tx, account, p.VpcId);
      const subnet = await findSubnetOf(w.tx, account, vpc.id, p.SubnetId);
      const hop = await checkNextHop(w.tx, account, vpc.id, p.NextHopType, p.NextHopDestination);
      await checkSameIp(w.tx, p.SubnetId, ips);
      const n = await w.tx.selectFrom('net_detects').select(sql<number>`count(*)`.as('n')).where('vpc_id', '=', vpc.id).executeTakeFirstOrThrow();
      if (Number(n.n) >= MAX_PER_VPC)
        throw new ApiError('LimitExceeded', `VPC ${vpc.id} has ${Number(n.n)} network detections, the most it may have; delete one first.`);
      await w.tx
        .insertInto('net_detects')
        .values({
          id,
          account,
          vpc_id: vpc.id,
          subnet_id: p.SubnetId,
          name: p.NetDetectName,
          description: p.NetDetectDescription ?? '',
          destinations: JSON.stringify(ips),
          next_hop_type: hop.type,
          next_hop_destination: hop.destination,
          created_at: w.now,
        })
        .execute();
      // Tencent's DetectSourceIp: two addresses of the subnet the probes leave from (compile/net-detects.ts places them).
      await takeAddresses(w, subnet, SOURCES.map(() => ({ kind: 'net_detect', id })), [], 'DetectSourceIp');
      await saveTags(w, account, id, p.Tags);
      w.changed(account, 'net_detect', id, 'create');
      // The hosts of the subnet probe it: their documents change.
      w.changed(account, 'vpc', vpc.id, 'update');
      return {};
    });
    const row = await findNetDetect(ctx.db, account, id);
    return { NetDetect: (await toNetDetects(ctx, [row]))[0] };
  },
});

export const describeNetDetects = defineAction({
  service: 'vpc',
  name: 'DescribeNetDetects',
  params: obj({
    NetDetectIds: opt(arr(str(), { max: 100 })),
    Filters: opt(filters(['vpc-id', 'net-detect-id', 'subnet-id', 'net-detect-name'])),
    ...paging,
  }),
  async run(ctx, p) {
    const { rows, total } = await listDetections(ctx, p);
    return { NetDetectSet: await toNetDetects(ctx, rows), TotalCount: total };
  },
});

async function listDetections(ctx: Ctx, p: { NetDetectIds?: string[]; Filters?: { Name: string; Values: string[] }[]; Offset?: number; Limit?: number }) {
  if (p.NetDetectIds?.length && p.Filters?.length)
    throw new ApiError('InvalidParameter.Coexist', 'NetDetectIds and Filters cannot be given together; use the net-detect-id filter or NetDetectIds alone.');
  checkIds(p.NetDetectIds, NETD_ID, 'NetDetectIds', 'netd-xxxxxxxx');
  (p.Filters ?? []).forEach((f, i) => {
    if (!f.Values.length) throw invalidValue(`Filters.${i}.Values`, 'give at least one value', 'InvalidParameterValue.Empty');
  });
  const { offset, limit } = page(p);
  let q = ctx.db.selectFrom('net_detects').where('account', '=', ctx.account.uin);
  if (p.NetDetectIds?.length) q = q.where('id', 'in', p.NetDetectIds);
  for (const [filter, column] of [
    ['vpc-id', 'vpc_id'],
    ['net-detect-id', 'id'],
    ['subnet-id', 'subnet_id'],
  ] as const) {
    const v = filterValues(p.Filters, filter);
    if (v) q = q.where(column, 'in', v);
  }
  const names = filterValues(p.Filters, 'net-detect-name');
  if (names) q = q.where((eb) => eb.or(names.map((n) => nameContains('name', n))));
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute(),
    q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)),
  ]);
  return { rows, total };
}

export const modifyNetDetect = defineAction({
  service: 'vpc',
  name: 'ModifyNetDetect',
  params: obj({
    NetDetectId: str(),
    NetDetectName: opt(detectName()),
    DetectDestinationIp: opt(destinations()),
    NextHopType: opt(str()),
    NextHopDestination: opt(str()),
    NetDetectDescription: opt(str({ max: 100 })),
  }),
  async run(ctx, p) {
    const ips = p.DetectDestinationIp ? checkDestinations(p.DetectDestinationIp) : undefined;
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const row = await findNetDetect(w.tx, account, p.NetDetectId);
      const set: Partial<NetDetectRow> = {};
      if (p.NetDetectName !== undefined) set.name = p.NetDetectName;
      if (p.NetDetectDescription !== undefined) set.description = p.NetDetectDescription;
      if (ips) {
        await checkSameIp(w.tx, row.subnet_id, ips, row.id);
        set.destinations = JSON.stringify(ips);
      }
      if (p.NextHopType !== undefined || p.NextHopDestination !== undefined) {
        // A new destination alone is checked against the type it is for.
        const hop = await checkNextHop(w.tx, account, row.vpc_id, p.NextHopType ?? row.next_hop_type, p.NextHopDestination);
        set.next_hop_type = hop.type;
        set.next_hop_destination = hop.destination;
      }
      if (!Object.keys(set).length) return {};
      await w.tx.updateTable('net_detects').set(set).where('id', '=', row.id).execute();
      // Figures of the old path say nothing of the new one.
      if (set.destinations || set.next_hop_type) await deleteNetDetectResults(w.tx, row.id);
      w.changed(account, 'net_detect', row.id, 'update');
      w.changed(account, 'vpc', row.vpc_id, 'update');
      return {};
    });
    return {};
  },
});

export const deleteNetDetect = defineAction({
  service: 'vpc',
  name: 'DeleteNetDetect',
  params: obj({ NetDetectId: str() }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const row = await findNetDetect(w.tx, account, p.NetDetectId);
      await w.tx.deleteFrom('net_detects').where('id', '=', row.id).execute();
      await releaseAddresses(w, row.id);
      await deleteNetDetectResults(w.tx, row.id);
      await deleteTags(w, row.id);
      w.changed(account, 'net_detect', row.id, 'delete');
      w.changed(account, 'vpc', row.vpc_id, 'update');
      return {};
    });
    return {};
  },
});

/**
 * The tracer's verdict for the subnet's traffic on the detection's path:
 * from a running instance of the subnet (the first by ID; none: undefined)
 * to the next hop instance (NORMAL_CVM: the first leg, which the
 * configuration governs; what the next hop does with the packet is its own)
 * or to the destination (where the subnet's route table sends it).
 */
function traceWitness(world: World, d: { vpc_id: string; subnet_id: string; next_hop_type: string; next_hop_destination: string }, ip: string): TraceWitness | undefined {
  const from = instancesOf(world, d.vpc_id)
    .filter((x) => x.port.subnetId === d.subnet_id)
    .map((x) => x.port.instanceId)
    .sort()[0];
  if (!from) return undefined;
  const to = d.next_hop_type === 'NORMAL_CVM' ? d.next_hop_destination : ip;
  try {
    const r = trace(world, { from, to, protocol: 'icmp' });
    const reaches = r.verdict === 'delivered' || r.verdict === 'forwarded' || (r.verdict === 'answered' && r.packet.protocol === 'icmp');
    return { reaches, code: r.code };
  } catch (e) {
    if (e instanceof TraceError) return undefined;
    throw e;
  }
}

/** The states of these detections' destinations: the tracer's verdict and the freshest probe figures. */
async function statesOf(ctx: Ctx, rows: readonly { id: string; vpc_id: string; subnet_id: string; next_hop_type: string; next_hop_destination: string; ips: string[] }[]) {
  if (!rows.length) return new Map<string, NetDetectIpState[]>();
  const vpcIds = [...new Set(rows.map((r) => r.vpc_id))];
  const view = await accountView(ctx.store, ctx.account.uin, { vpcIds, documents: ctx.documents });
  const world = worldOf(view);
  const results = await netDetectResults(ctx.db, rows.map((r) => r.id));
  const now = Date.now();
  const out = new Map<string, NetDetectIpState[]>();
  for (const r of rows) {
    out.set(
      r.id,
      r.ips.map((ip) => {
        // The rounds of the hosts that probe the path now: a host that stopped (its subnet left it, the path
        // became one it cannot measure) leaves its last figures behind, which say nothing of the present.
        const fresh = results.filter((x) => x.net_detect_id === r.id && x.ip === ip && now - Date.parse(x.at) <= RESULT_FRESH_MS);
        const probe = mergeProbes(fresh.map((x) => ({ sent: x.sent, received: x.received, ...(x.rtt_ms === null ? {} : { rttMs: Number(x.rtt_ms) }) })));
        return { DetectDestinationIp: ip, ...netDetectIpState(traceWitness(world, r, ip), probe) };
      }),
    );
  }
  return out;
}

export const describeNetDetectStates = defineAction({
  service: 'vpc',
  name: 'DescribeNetDetectStates',
  params: obj({
    NetDetectIds: opt(arr(str(), { max: 100 })),
    Filters: opt(filters(['net-detect-id'])),
    ...paging,
  }),
  async run(ctx, p) {
    const { rows, total } = await listDetections(ctx, p);
    const states = await statesOf(ctx, rows.map((r) => ({ ...r, ips: JSON.parse(r.destinations) as string[] })));
    return { NetDetectStateSet: rows.map((r) => ({ NetDetectId: r.id, NetDetectIpStateSet: states.get(r.id)! })), TotalCount: total };
  },
});

/**
 * Verifies a path without creating a detection: NetDetectId (its subnet,
 * and its next hop unless one is given), or VpcId, SubnetId and
 * NetDetectName. Synchronous: the tracer's verdict, with the latest probe
 * figures when a detection of the caller already probes the same subnet,
 * destination and next hop (no agent is asked to probe on demand).
 */
export const checkNetDetectState = defineAction({
  service: 'vpc',
  name: 'CheckNetDetectState',
  params: obj({
    DetectDestinationIp: destinations(),
    NetDetectId: opt(str()),
    VpcId: opt(str()),
    SubnetId: opt(str()),
    NetDetectName: opt(detectName()),
    NextHopType: opt(str()),
    NextHopDestination: opt(str()),
  }),
  async run(ctx, p) {
    const ips = checkDestinations(p.DetectDestinationIp);
    const account = ctx.account.uin;
    let vpcId: string;
    let subnetId: string;
    let hop: { type: string; destination: string };
    if (p.NetDetectId !== undefined) {
      const row = await findNetDetect(ctx.db, account, p.NetDetectId);
      vpcId = row.vpc_id;
      subnetId = row.subnet_id;
      hop =
        p.NextHopType !== undefined || p.NextHopDestination !== undefined
          ? await checkNextHop(ctx.db, account, vpcId, p.NextHopType ?? row.next_hop_type, p.NextHopDestination)
          : { type: row.next_hop_type, destination: row.next_hop_destination };
    } else {
      for (const name of ['VpcId', 'SubnetId', 'NetDetectName'] as const)
        if (p[name] === undefined) throw new ApiError('MissingParameter', `Give \`NetDetectId\`, or \`VpcId\`, \`SubnetId\` and \`NetDetectName\` together; \`${name}\` is missing.`);
      vpcId = (await findVpc(ctx.db, account, p.VpcId!)).id;
      subnetId = (await findSubnetOf(ctx.db, account, vpcId, p.SubnetId!)).id;
      hop = await checkNextHop(ctx.db, account, vpcId, p.NextHopType, p.NextHopDestination);
    }
    // The figures of the caller's detection of this very path, if one probes it.
    const same = await ctx.db
      .selectFrom('net_detects')
      .select(['id', 'destinations'])
      .where('account', '=', account)
      .where('subnet_id', '=', subnetId)
      .where('next_hop_type', '=', hop.type)
      .where('next_hop_destination', '=', hop.destination)
      .execute();
    const states = await statesOf(ctx, [{ id: same[0]?.id ?? '', vpc_id: vpcId, subnet_id: subnetId, next_hop_type: hop.type, next_hop_destination: hop.destination, ips }]);
    return { NetDetectIpStateSet: states.get(same[0]?.id ?? '')! };
  },
});

export const netDetectActions = [createNetDetect, describeNetDetects, modifyNetDetect, deleteNetDetect, describeNetDetectStates, checkNetDetectState];
