/**
 * VPC peering connections: CreateVpcPeeringConnection,
 * AcceptVpcPeeringConnection, RejectVpcPeeringConnection,
 * DescribeVpcPeeringConnections, ModifyVpcPeeringConnection,
 * DeleteVpcPeeringConnection.
 *
 * A connection joins two VPCs of this region whose CIDR blocks do not overlap.
 * Between VPCs of one account it is ACTIVE at once; towards another account's
 * VPC (DestinationUin) it is PENDING until that account accepts (ACTIVE) or
 * rejects (REJECTED) it. Both accounts see it and either may delete it; its
 * routes go with it. Traffic flows only where route tables send it
 * (GatewayType PEERCONNECTION), and never transits a third VPC.
 *
 * Weft neither bills nor grades peerings: ChargeType and QosLevel are
 * validated, not kept, and answered empty; Bandwidth is kept and answered but
 * not enforced. Facts and choices: docs/research/acl-peering.md.
 */
import type { PeerConnection } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { sql } from 'kysely';
import { overlaps, parseCidr } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { deletePeeringRoutes, findVisiblePeering, LIVE_STATES, otherEnd, peeringsOf } from '../../store/peerings.js';
import type { PeeringsTable, VpcsTable } from '../../store/schema.js';
import type { Tx, Write } from '../../store/store.js';
import { quotasOf } from '../../accounts/accounts.js';
import { defineAction, type Ctx } from '../action.js';
import { checkIds, deleteTags, loadTags, nameContains, page, saveTags, tencentTime } from '../common.js';
import { ApiError, invalidValue } from '../errors.js';
import { arr, filters, filterValues, idOf, int, obj, opt, paging, str } from '../params.js';
import { findVpc, ID } from './lookup.js';

export const PCX_ID = idOf('pcx');

const peeringName = () => str({ min: 1, max: 60 });
const chargeType = () => opt(str({ oneOf: ['POSTPAID_BY_DAY_MAX', 'POSTPAID_BY_MONTH_95'] }));
const bandwidth = () => opt(int({ min: 0 }));

/** The connection if the caller is either side of it; anything else answers as missing. */
async function findPeering(db: Tx | Ctx['db'], account: string, id: string, param = 'PeeringConnectionId'): Promise<PeeringsTable> {
  if (!PCX_ID.test(id)) throw new ApiError('InvalidParameterValue.Malformed', `\`${id}\` in \`${param}\` is not a valid ID; expected the form pcx-xxxxxxxx.`);
  const row = await findVisiblePeering(db, account, id);
  if (!row) throw new ApiError('ResourceNotFound', `The peering connection \`${id}\` (\`${param}\`) does not exist.`);
  return row;
}

/**
 * Whether two VPCs may be joined now (both are read in this transaction):
 * their blocks must not overlap, neither may already be peered with a VPC
 * whose block overlaps the other's (Tencent: "一端与已建立的对等连接某一端冲突"),
 * and each must be under its active-connection quota. `self` is the
 * connection being activated, if it exists already.
 */
async function checkJoin(tx: Tx, a: VpcsTable, b: VpcsTable, quota: { a: number; b: number }, self?: string) {
  const ca = parseCidr(a.cidr)!;
  const cb = parseCidr(b.cidr)!;
  if (overlaps(ca, cb))
    throw new ApiError(
      'UnsupportedOperation.VpcPeerCidrConflict',
      `The CIDR blocks of VPC ${a.id} (${a.cidr}) and VPC ${b.id} (${b.cidr}) overlap; peered VPCs need disjoint address ranges.`,
    );
  const active = (await peeringsOf(tx, [a.id, b.id], ['ACTIVE'])).filter((p) => p.id !== self);
  const peerIds = [...new Set(active.flatMap((p) => [p.vpc_id, p.peer_vpc_id]))];
  const cidrs = new Map(
    peerIds.length ? (await tx.selectFrom('vpcs').select(['id', 'cidr']).where('id', 'in', peerIds).execute()).map((v) => [v.id, v.cidr]) : [],
  );
  for (const [here, there] of [
    [a, b],
    [b, a],
  ] as const) {
    const mine = active.filter((p) => p.vpc_id === here.id || p.peer_vpc_id === here.id);
    for (const p of mine) {
      const peer = otherEnd(p, here.id).vpcId;
      const cidr = cidrs.get(peer);
      if (cidr && overlaps(parseCidr(cidr)!, parseCidr(there.cidr)!))
        throw new ApiError(
          'UnauthorizedOperation.VpcPeerCidrConflict',
          `VPC ${here.id} is already peered with VPC ${peer} (${cidr}, ${p.id}), which overlaps VPC ${there.id} (${there.cidr}); the peers of one VPC need disjoint address ranges.`,
        );
    }
    const limit = here === a ? quota.a : quota.b;
    if (mine.length >= limit)
      throw new ApiError(
        'LimitExceeded.VpcPeerAvaLimitExceeded',
        `VPC ${here.id} already has ${mine.length} active peering connections, its quota; delete one or ask the operator to raise the quota.`,
      );
  }
}

/** Records the change of a connection, and of both VPCs when their hosts' documents change. */
function record(w: Write, account: string, p: PeeringsTable, op: 'create' | 'update' | 'delete', hostsAffected: boolean) {
  w.changed(account, 'peering', p.id, op);
  if (!hostsAffected) return;
  w.changed(p.account, 'vpc', p.vpc_id, 'update');
  w.changed(p.peer_account, 'vpc', p.peer_vpc_id, 'update');
}

async function toPeerConnections(ctx: Ctx, rows: readonly PeeringsTable[]): Promise<PeerConnection[]> {
  const uins = [...new Set(rows.flatMap((r) => [r.account, r.peer_account]))];
  const [tags, accounts] = await Promise.all([
    loadTags(ctx.db, rows.map((r) => r.id)),
    uins.length ? ctx.db.selectFrom('accounts').select(['uin', 'app_id']).where('uin', 'in', uins).execute() : Promise.resolve([]),
  ]);
  const appId = new Map(accounts.map((a) => [a.uin, Number(a.app_id)]));
  const region = ctx.region.name;
  return rows.map((r) => ({
    SourceVpcId: r.vpc_id,
    PeerVpcId: r.peer_vpc_id,
    PeeringConnectionId: r.id,
    PeeringConnectionName: r.name,
    State: r.state,
    IsNgw: false,
    Bandwidth: r.bandwidth,
    SourceRegion: region,
    DestinationRegion: region,
    CreateTime: tencentTime(r.created_at),
    AppId: appId.get(r.account) ?? 0,
    PeerAppId: appId.get(r.peer_account) ?? 0,
    ChargeType: '',
    SourceUin: Number(r.account),
    DestinationUin: Number(r.peer_account),
    TagSet: tags.get(r.id) ?? [],
    QosLevel: '',
    Type: 'VPC_PEER',
    DestinationVpcId: r.peer_vpc_id,
  }));
}

export const createVpcPeeringConnection = defineAction({
  service: 'vpc',
  name: 'CreateVpcPeeringConnection',
  params: obj({
    SourceVpcId: str(),
    PeeringConnectionName: peeringName(),
    DestinationVpcId: str(),
    DestinationUin: str({ min: 1 }),
    DestinationRegion: str(),
    Bandwidth: bandwidth(),
    Type: opt(str({ oneOf: ['VPC_PEER', 'VPC_BM_PEER'] })),
    ChargeType: chargeType(),
    QosLevel: opt(str({ oneOf: ['PT', 'AU', 'AG'] })),
    Tags: opt(arr(obj({ Key: opt(str({ min: 1, max: 127 })), Value: opt(str({ max: 255 })) }), { max: 50 })),
  }),
  async run(ctx, p) {
    if (p.Type === 'VPC_BM_PEER')
      throw new ApiError('UnsupportedOperation', '`Type` VPC_BM_PEER: Weft has no bare-metal (BM) networks; omit Type or give VPC_PEER.');
    if (p.DestinationRegion !== ctx.region.name)
      throw invalidValue('DestinationRegion', `\`${p.DestinationRegion}\` is not a region of this deployment; peering joins VPCs of region \`${ctx.region.name}\``);
    if (!ID.vpc.test(p.DestinationVpcId))
      throw new ApiError('InvalidParameterValue.Malformed', `\`${p.DestinationVpcId}\` in \`DestinationVpcId\` is not a valid ID; expected the form vpc-xxxxxxxx.`);
    if (p.DestinationVpcId === p.SourceVpcId)
      throw invalidValue('DestinationVpcId', `\`${p.DestinationVpcId}\` is the source VPC itself; a VPC cannot be peered with itself`);
    const tags = (p.Tags ?? []).map((t, i) => {
      if (!t.Key) throw new ApiError('MissingParameter', `The tag \`Tags.${i}\` has no \`Key\`.`);
      return { Key: t.Key, Value: t.Value };
    });
    const account = ctx.account.uin;
    const sameAccount = p.DestinationUin === account;
    const id = newId('pcx');
    await ctx.write(async (w) => {
      const source = await findVpc(w.tx, account, p.SourceVpcId, 'SourceVpcId');
      // The peer VPC must be the named account's: another account's VPC, or an unknown account, answers as missing.
      const dest = await w.tx.selectFrom('vpcs').selectAll().where('id', '=', p.DestinationVpcId).where('account', '=', p.DestinationUin).executeTakeFirst();
      if (!dest)
        throw new ApiError(
          'ResourceNotFound',
          `The VPC \`${p.DestinationVpcId}\` (\`DestinationVpcId\`) of account \`${p.DestinationUin}\` (\`DestinationUin\`) does not exist.`,
        );
      const live = await peeringsOf(w.tx, [source.id], LIVE_STATES);
      const twin = live.find((x) => otherEnd(x, source.id).vpcId === dest.id);
      if (twin)
        throw new ApiError(
          'UnsupportedOperation.VpcPeerAlreadyExist',
          `VPC ${source.id} and VPC ${dest.id} are already joined by ${twin.id} (${twin.state}); delete it before creating another.`,
        );
      const limit = ctx.account.quotas.peeringPerVpc;
      if (live.length >= limit)
        throw new ApiError(
          'LimitExceeded.VpcPeerTotalLimitExceeded',
          `The peering-connections-per-VPC quota is ${limit}; VPC ${source.id} has ${live.length} pending or active. Delete unused ones or ask the operator to raise the quota.`,
        );
      const peerQuota = sameAccount ? limit : ((await quotasOf(w.tx, dest.account))?.peeringPerVpc ?? limit);
      // Checked now against what is active, and again when the peer accepts.
      await checkJoin(w.tx, source, dest, { a: limit, b: peerQuota });
      const row: PeeringsTable = {
        id,
        account,
        name: p.PeeringConnectionName,
        vpc_id: source.id,
        peer_account: dest.account,
        peer_vpc_id: dest.id,
        state: sameAccount ? 'ACTIVE' : 'PENDING',
        bandwidth: p.Bandwidth ?? 0,
        created_at: w.now,
      };
      await w.tx.insertInto('peerings').values(row).execute();
      await saveTags(w, account, id, tags);
      record(w, account, row, 'create', sameAccount);
      return {};
    });
    return { PeeringConnectionId: id };
  },
});

/** Accept and Reject: only the peer account may answer a pending request. */
async function answerable(w: Write, account: string, id: string): Promise<PeeringsTable> {
  const row = await findPeering(w.tx, account, id);
  if (row.peer_account !== account)
    throw new ApiError(
      'UnsupportedOperation.VpcPeerPurviewError',
      `The peering connection \`${id}\` was requested by this account; only the peer account (${row.peer_account}) can accept or reject it.`,
    );
  if (row.state !== 'PENDING')
    throw new ApiError('UnsupportedOperation.VpcPeerInvalidStateChange', `The peering connection \`${id}\` is ${row.state}; only a PENDING request can be accepted or rejected.`);
  return row;
}

export const acceptVpcPeeringConnection = defineAction({
  service: 'vpc',
  name: 'AcceptVpcPeeringConnection',
  params: obj({ PeeringConnectionId: str() }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const row = await answerable(w, account, p.PeeringConnectionId);
      const vpcs = await w.tx.selectFrom('vpcs').selectAll().where('id', 'in', [row.vpc_id, row.peer_vpc_id]).execute();
      const source = vpcs.find((v) => v.id === row.vpc_id);
      const dest = vpcs.find((v) => v.id === row.peer_vpc_id);
      if (!source || !dest)
        throw new ApiError('ResourceNotFound', `A VPC of the peering connection \`${row.id}\` (${!source ? row.vpc_id : row.peer_vpc_id}) no longer exists; delete the connection.`);
      const requesterQuota = (await quotasOf(w.tx, row.account))?.peeringPerVpc ?? ctx.account.quotas.peeringPerVpc;
      await checkJoin(w.tx, source, dest, { a: requesterQuota, b: ctx.account.quotas.peeringPerVpc }, row.id);
      await w.tx.updateTable('peerings').set({ state: 'ACTIVE' }).where('id', '=', row.id).execute();
      record(w, account, row, 'update', true);
      return {};
    });
    return {};
  },
});

export const rejectVpcPeeringConnection = defineAction({
  service: 'vpc',
  name: 'RejectVpcPeeringConnection',
  params: obj({ PeeringConnectionId: str() }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const row = await answerable(w, account, p.PeeringConnectionId);
      await w.tx.updateTable('peerings').set({ state: 'REJECTED' }).where('id', '=', row.id).execute();
      record(w, account, row, 'update', false);
      return {};
    });
    return {};
  },
});

export const describeVpcPeeringConnections = defineAction({
  service: 'vpc',
  name: 'DescribeVpcPeeringConnections',
  params: obj({
    PeeringConnectionIds: opt(arr(str(), { max: 100 })),
    Filters: opt(filters(['vpc-id', 'state', 'peering-connection-name'])),
    ...paging,
    OrderField: opt(str({ oneOf: ['CreatedTime', 'PeeringConnectionName'] })),
    OrderDirection: opt(str({ oneOf: ['ASC', 'DESC'] })),
  }),
  async run(ctx, p) {
    if (p.PeeringConnectionIds?.length && p.Filters?.length)
      throw new ApiError('InvalidParameter.Coexist', 'PeeringConnectionIds and Filters cannot be given together; give one of them.');
    checkIds(p.PeeringConnectionIds, PCX_ID, 'PeeringConnectionIds', 'pcx-xxxxxxxx');
    (p.Filters ?? []).forEach((f, i) => {
      if (!f.Values.length) throw invalidValue(`Filters.${i}.Values`, 'give at least one value', 'InvalidParameterValue.Empty');
    });
    const account = ctx.account.uin;
    const { offset, limit } = page(p);
    let q = ctx.db.selectFrom('peerings').where((eb) => eb.or([eb('account', '=', account), eb('peer_account', '=', account)]));
    if (p.PeeringConnectionIds?.length) q = q.where('id', 'in', p.PeeringConnectionIds);
    const vpcs = filterValues(p.Filters, 'vpc-id');
    if (vpcs) q = q.where((eb) => eb.or([eb('vpc_id', 'in', vpcs), eb('peer_vpc_id', 'in', vpcs)]));
    const states = filterValues(p.Filters, 'state');
    if (states) q = q.where('state', 'in', states.map((s) => s.toUpperCase()));
    const names = filterValues(p.Filters, 'peering-connection-name');
    if (names) q = q.where((eb) => eb.or(names.map((n) => nameContains('name', n))));
    const dir = p.OrderDirection === 'DESC' ? 'desc' : 'asc';
    const ordered = p.OrderField === 'PeeringConnectionName' ? q.selectAll().orderBy('name', dir).orderBy('id', dir) : q.selectAll().orderBy('created_at', dir).orderBy('id', dir);
    const [rows, total] = await Promise.all([
      ordered.limit(limit).offset(offset).execute(),
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    ]);
    return { TotalCount: total, PeerConnectionSet: await toPeerConnections(ctx, rows) };
  },
});

export const modifyVpcPeeringConnection = defineAction({
  service: 'vpc',
  name: 'ModifyVpcPeeringConnection',
  params: obj({ PeeringConnectionId: str(), PeeringConnectionName: opt(peeringName()), Bandwidth: bandwidth(), ChargeType: chargeType() }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const row = await findPeering(w.tx, account, p.PeeringConnectionId);
      const set: Partial<PeeringsTable> = {};
      if (p.PeeringConnectionName !== undefined) set.name = p.PeeringConnectionName;
      if (p.Bandwidth !== undefined) set.bandwidth = p.Bandwidth;
      if (Object.keys(set).length) await w.tx.updateTable('peerings').set(set).where('id', '=', row.id).execute();
      // Name and bandwidth appear in no host document.
      record(w, account, row, 'update', false);
      return {};
    });
    return {};
  },
});

export const deleteVpcPeeringConnection = defineAction({
  service: 'vpc',
  name: 'DeleteVpcPeeringConnection',
  params: obj({ PeeringConnectionId: str() }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const row = await findPeering(w.tx, account, p.PeeringConnectionId);
      // Its routes go with it, in whichever account's tables they are.
      const tables = await deletePeeringRoutes(w.tx, row.id);
      await w.tx.deleteFrom('peerings').where('id', '=', row.id).execute();
      await deleteTags(w, row.id);
      for (const t of tables) w.changed(t.account, 'route_table', t.tableId, 'update');
      record(w, account, row, 'delete', row.state === 'ACTIVE' || tables.length > 0);
      return {};
    });
    return {};
  },
});

export const peeringActions = [
  createVpcPeeringConnection,
  acceptVpcPeeringConnection,
  rejectVpcPeeringConnection,
  describeVpcPeeringConnections,
  modifyVpcPeeringConnection,
  deleteVpcPeeringConnection,
];
