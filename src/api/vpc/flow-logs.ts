/**
 * Flow logs (vpc 2017-03-12): CreateFlowLog, DescribeFlowLogs, DescribeFlowLog,
 * ModifyFlowLogAttribute, DeleteFlowLog, EnableFlowLogs, DisableFlowLogs.
 *
 * A flow log covers a VPC, a subnet or one instance's port (NETWORKINTERFACE:
 * the instance's ENI ID, eni-xxxxxxxx, as DescribeInstances does not show but
 * AssociateAddress takes); the hosts of its VPC capture the covered ports'
 * accepted flows and/or rejected packets (docs/operations.md "Flow logs").
 * Tencent stores records in CLS (CloudLogId, StorageType cls) or CKafka;
 * Weft has neither: records stay in the region's store (and a JSON-lines file
 * a shipper can follow), CloudLogId and CloudLogRegion are kept and answered
 * as given, and StorageType ckafka is refused. CCN, NAT and DCG flow logs are
 * refused: Weft has no CCN or direct connect, and NAT gateway flows are
 * EnableGatewayFlowMonitor's. Every change records its VPC, whose hosts'
 * documents carry the captures.
 *
 * Error codes: tencentcloud-sdk-go vpc/v20170312 client.go per action
 * (InvalidParameterValue.Duplicate/Empty/Malformed/Range, LimitExceeded,
 * ResourceNotFound, MissingParameter).
 */
import type { Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import { deleteFlowLog, findFlowLog, type FlowLogRow } from '../../store/flow-logs.js';
import type { DB } from '../../store/schema.js';
import { defineAction, type Ctx } from '../action.js';
import { deleteTags, loadTags, saveTags, tagsParam, taggedBy, tencentTime } from '../common.js';
import { ApiError, fail, missingParameter } from '../errors.js';
import { any, arr, filters, int, intish, obj, opt, str } from '../params.js';
import { findSubnet, findVpc } from './lookup.js';

export const FLOW_LOG_ID = /^fl-[0-9a-z]{8}$/;
const ENI_ID = /^eni-[0-9a-z]{8}$/;
const RESOURCE_TYPES = ['VPC', 'SUBNET', 'NETWORKINTERFACE'] as const;
const ELSEWHERE: Record<string, string> = {
  CCN: 'Weft has no Cloud Connect Network',
  DCG: 'Weft has no direct connect gateways',
  NAT: "a NAT gateway's per-address flows are EnableGatewayFlowMonitor's",
};
const TRAFFIC_TYPES = ['ACCEPT', 'REJECT', 'ALL'] as const;
/** Flow logs per VPC (Tencent's console allows 10 per resource kind and region; one number keeps it simple). */
export const FLOW_LOGS_PER_VPC = 50;

const malformedId = (param: string, id: string) =>
  fail('InvalidParameterValue.Malformed', `\`${id}\` (\`${param}\`) is not a valid flow log ID; expected the form fl-xxxxxxxx.`);

function checkName(name: string, param: string) {
  if (!name.trim()) fail('InvalidParameterValue.Empty', `\`${param}\` is empty; give the flow log a name of 1 to 60 characters.`);
  if ([...name].length > 60) fail('InvalidParameterValue.Range', `\`${param}\` is ${[...name].length} characters long; at most 60.`);
}

function checkDescription(d: string | undefined) {
  if (d !== undefined && [...d].length > 512) fail('InvalidParameterValue.Range', `\`FlowLogDescription\` is ${[...d].length} characters long; at most 512.`);
}

function checkPeriod(period: number | undefined) {
  if (period !== undefined) fail('InvalidParameterValue.Range', '`Period` is for CCN flow logs only; leave it out (Weft captures in fixed windows, 60 s by default).');
}

/** The VPC's flow log (FlowLogId with VpcId, as Tencent asks for every type but CCN); foreign or elsewhere: missing. */
async function ownFlowLog(db: Kysely<DB>, ctx: Ctx, id: string, vpcId: string | undefined): Promise<FlowLogRow> {
  if (!FLOW_LOG_ID.test(id)) malformedId('FlowLogId', id);
  if (vpcId === undefined) throw missingParameter('VpcId');
  await findVpc(db, ctx.account.uin, vpcId);
  const row = await findFlowLog(db, ctx.account.uin, id);
  if (!row || row.vpc_id !== vpcId) fail('ResourceNotFound', `The flow log \`${id}\` (\`FlowLogId\`) does not exist in VPC \`${vpcId}\`.`);
  return row!;
}

/** The resource a flow log covers, checked against its VPC: a port is named by its instance's ENI ID. */
async function checkResource(db: Kysely<DB>, account: string, type: string, id: string, vpcId: string): Promise<void> {
  if (type === 'VPC') {
    if (id !== vpcId) fail('InvalidParameterValue', `\`ResourceId\` is \`${id}\` but ResourceType VPC covers the VPC of \`VpcId\` (\`${vpcId}\`); give the same ID.`);
    return;
  }
  if (type === 'SUBNET') {
    const subnet = await findSubnet(db, account, id, 'ResourceId');
    if (subnet.vpc_id !== vpcId) fail('InvalidParameterValue', `The subnet \`${id}\` (\`ResourceId\`) is in \`${subnet.vpc_id}\`, not in \`VpcId\` \`${vpcId}\`.`);
    return;
  }
  if (!ENI_ID.test(id)) fail('InvalidParameterValue.Malformed', `\`${id}\` (\`ResourceId\`) is not a network interface ID; expected the form eni-xxxxxxxx (an instance's primary network interface).`);
  const ins = await db.selectFrom('instances').select(['id', 'vpc_id']).where('eni_id', '=', id).where('account', '=', account).executeTakeFirst();
  if (!ins) fail('ResourceNotFound', `The network interface \`${id}\` (\`ResourceId\`) does not exist.`);
  if (ins!.vpc_id !== vpcId) fail('InvalidParameterValue', `The network interface \`${id}\` (\`ResourceId\`, of ${ins!.id}) is in \`${ins!.vpc_id}\`, not in \`VpcId\` \`${vpcId}\`.`);
}

async function view(db: Kysely<DB>, rows: readonly FlowLogRow[]) {
  const tags = await loadTags(db, rows.map((r) => r.id));
  return rows.map((r) => ({
    VpcId: r.vpc_id,
    FlowLogId: r.id,
    FlowLogName: r.name,
    ResourceType: r.resource_type,
    ResourceId: r.resource_id,
    TrafficType: r.traffic_type,
    CloudLogId: r.cloud_log_id,
    CloudLogState: 'SUCCESS',
    FlowLogDescription: r.description,
    CreatedTime: tencentTime(r.created_at),
    TagSet: tags.get(r.id) ?? [],
    Enable: r.enabled === 1,
    StorageType: r.storage_type,
    CloudLogRegion: r.cloud_log_region,
  }));
}

export const createFlowLog = defineAction({
  service: 'vpc',
  name: 'CreateFlowLog',
  params: obj({
    FlowLogName: str(),
    ResourceType: str(),
    ResourceId: str(),
    TrafficType: str(),
    VpcId: opt(str()),
    FlowLogDescription: opt(str()),
    CloudLogId: opt(str({ max: 128 })),
    Tags: tagsParam,
    StorageType: opt(str()),
    FlowLogStorage: opt(any()),
    CloudLogRegion: opt(str({ max: 64 })),
    Period: opt(int()),
  }),
  async run(ctx, p) {
    checkName(p.FlowLogName, 'FlowLogName');
    checkDescription(p.FlowLogDescription);
    if (ELSEWHERE[p.ResourceType]) fail('InvalidParameterValue.Range', `\`ResourceType\` ${p.ResourceType} is not supported: ${ELSEWHERE[p.ResourceType]}; give one of ${RESOURCE_TYPES.join(', ')}.`);
    if (!(RESOURCE_TYPES as readonly string[]).includes(p.ResourceType))
      fail('InvalidParameterValue.Range', `\`ResourceType\` is \`${p.ResourceType}\`; give one of ${RESOURCE_TYPES.join(', ')}.`);
    if (!(TRAFFIC_TYPES as readonly string[]).includes(p.TrafficType))
      fail('InvalidParameterValue.Range', `\`TrafficType\` is \`${p.TrafficType}\`; give one of ${TRAFFIC_TYPES.join(', ')} (accepted flows, rejected packets, or both).`);
    const storage = p.StorageType ?? 'cls';
    if (storage === 'ckafka') fail('InvalidParameterValue.Range', '`StorageType` ckafka is not supported: Weft keeps records in the region\'s store and a JSON-lines file a shipper can follow (docs/operations.md); give cls or leave it out.');
    if (storage !== 'cls') fail('InvalidParameterValue.Range', `\`StorageType\` is \`${storage}\`; give cls (the region's store) or leave it out.`);
    checkPeriod(p.Period);
    if (p.VpcId === undefined) throw missingParameter('VpcId');
    const account = ctx.account.uin;
    return ctx.write(async (w) => {
      const vpc = await findVpc(w.tx, account, p.VpcId!);
      await checkResource(w.tx, account, p.ResourceType, p.ResourceId, vpc.id);
      const same = await w.tx
        .selectFrom('flow_logs')
        .select('id')
        .where('account', '=', account)
        .where('resource_id', '=', p.ResourceId)
        .where('traffic_type', '=', p.TrafficType)
        .executeTakeFirst();
      if (same) fail('InvalidParameterValue.Duplicate', `\`${p.ResourceId}\` already has a flow log of TrafficType ${p.TrafficType} (${same.id}); enable that one, or choose another traffic type.`);
      const n = await w.tx.selectFrom('flow_logs').select((e) => e.fn.countAll<string | number>().as('n')).where('vpc_id', '=', vpc.id).executeTakeFirstOrThrow();
      if (Number(n.n) >= FLOW_LOGS_PER_VPC) fail('LimitExceeded', `VPC \`${vpc.id}\` has ${Number(n.n)} flow logs, the most one VPC may have (${FLOW_LOGS_PER_VPC}); delete one first.`);
      const row: FlowLogRow = {
        id: newId('fl'),
        account,
        vpc_id: vpc.id,
        name: p.FlowLogName,
        description: p.FlowLogDescription ?? '',
        resource_type: p.ResourceType,
        resource_id: p.ResourceId,
        traffic_type: p.TrafficType,
        cloud_log_id: p.CloudLogId ?? '',
        cloud_log_region: p.CloudLogRegion ?? ctx.region.name,
        storage_type: storage,
        enabled: 1,
        created_at: w.now,
      };
      await w.tx.insertInto('flow_logs').values(row).execute();
      await saveTags(w, account, row.id, p.Tags);
      w.changed(account, 'vpc', vpc.id, 'update');
      return { FlowLog: await view(w.tx, [row]) };
    });
  },
});

const ORDER_FIELDS: Record<string, 'name' | 'created_at'> = { flowLogName: 'name', createTime: 'created_at' };

export const describeFlowLogs = defineAction({
  service: 'vpc',
  name: 'DescribeFlowLogs',
  params: obj({
    VpcId: opt(str()),
    FlowLogId: opt(str()),
    FlowLogName: opt(str()),
    ResourceType: opt(str()),
    ResourceId: opt(str()),
    TrafficType: opt(str()),
    CloudLogId: opt(str()),
    CloudLogState: opt(str()),
    OrderField: opt(str()),
    OrderDirection: opt(str()),
    Offset: opt(intish({ min: 0 })),
    Limit: opt(intish()),
    Filters: opt(any()),
    CloudLogRegion: opt(str()),
  }),
  async run(ctx, p) {
    // Filters is one Filter here (not a list), as the model says.
    const f = p.Filters === undefined ? undefined : filters(['tag-key'], { prefixes: ['tag:'] }).parse([p.Filters], 'Filters');
    if (p.FlowLogId !== undefined && f) fail('InvalidParameter', '`FlowLogId` and `Filters` cannot be given together; give one of them.');
    if (p.FlowLogId !== undefined && !FLOW_LOG_ID.test(p.FlowLogId)) malformedId('FlowLogId', p.FlowLogId);
    if (p.OrderField !== undefined && !ORDER_FIELDS[p.OrderField]) fail('InvalidParameterValue.Range', `\`OrderField\` is \`${p.OrderField}\`; give flowLogName or createTime.`);
    if (p.OrderDirection !== undefined && p.OrderDirection !== 'ASC' && p.OrderDirection !== 'DESC') fail('InvalidParameterValue.Range', `\`OrderDirection\` is \`${p.OrderDirection}\`; give ASC or DESC.`);
    const limit = p.Limit ?? 10;
    if (limit < 1 || limit > 100) fail('InvalidParameterValue.Range', `\`Limit\` is ${limit}; give 1 to 100.`);
    let q = ctx.db.selectFrom('flow_logs').where('account', '=', ctx.account.uin);
    const eq = { VpcId: 'vpc_id', FlowLogId: 'id', FlowLogName: 'name', ResourceType: 'resource_type', ResourceId: 'resource_id', TrafficType: 'traffic_type', CloudLogId: 'cloud_log_id', CloudLogRegion: 'cloud_log_region' } as const;
    for (const [param, column] of Object.entries(eq)) {
      const v = p[param as keyof typeof eq];
      if (v !== undefined) q = q.where(column, '=', v);
    }
    // Weft's "CLS" is the region's store: it is never deleted.
    if (p.CloudLogState !== undefined && p.CloudLogState !== 'SUCCESS') q = q.where('id', '=', '');
    for (const sub of taggedBy(ctx.db, ctx.account.uin, f)) q = q.where('id', 'in', sub);
    const dir = p.OrderDirection === 'ASC' ? 'asc' : 'desc';
    const [rows, total] = await Promise.all([
      q.selectAll().orderBy(ORDER_FIELDS[p.OrderField ?? 'createTime']!, dir).orderBy('id', dir).limit(limit).offset(p.Offset ?? 0).execute(),
      q.select((e) => e.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { FlowLog: await view(ctx.db, rows), TotalNum: Number(total.n) };
  },
});

export const describeFlowLog = defineAction({
  service: 'vpc',
  name: 'DescribeFlowLog',
  params: obj({ VpcId: str(), FlowLogId: str() }),
  async run(ctx, p) {
    return { FlowLog: await view(ctx.db, [await ownFlowLog(ctx.db, ctx, p.FlowLogId, p.VpcId)]) };
  },
});

export const modifyFlowLogAttribute = defineAction({
  service: 'vpc',
  name: 'ModifyFlowLogAttribute',
  params: obj({ FlowLogId: str(), VpcId: opt(str()), FlowLogName: opt(str()), FlowLogDescription: opt(str()), Period: opt(int()) }),
  async run(ctx, p) {
    if (p.FlowLogName !== undefined) checkName(p.FlowLogName, 'FlowLogName');
    checkDescription(p.FlowLogDescription);
    checkPeriod(p.Period);
    return ctx.write(async (w) => {
      const row = await ownFlowLog(w.tx, ctx, p.FlowLogId, p.VpcId);
      // Name and description are in no document: nothing for the hosts to do.
      await w.tx
        .updateTable('flow_logs')
        .set({ name: p.FlowLogName ?? row.name, description: p.FlowLogDescription ?? row.description })
        .where('id', '=', row.id)
        .execute();
      return {};
    });
  },
});

export const deleteFlowLogAction = defineAction({
  service: 'vpc',
  name: 'DeleteFlowLog',
  params: obj({ FlowLogId: str(), VpcId: opt(str()) }),
  async run(ctx, p) {
    return ctx.write(async (w) => {
      const row = await ownFlowLog(w.tx, ctx, p.FlowLogId, p.VpcId);
      await deleteFlowLog(w.tx, row.id);
      await deleteTags(w, row.id);
      w.changed(ctx.account.uin, 'vpc', row.vpc_id, 'update');
      return {};
    });
  },
});

/** EnableFlowLogs / DisableFlowLogs: all of the IDs or none (a missing one names itself and changes nothing). */
function switchFlowLogs(name: string, on: boolean) {
  return defineAction({
    service: 'vpc',
    name,
    params: obj({ FlowLogIds: arr(str(), { min: 1, max: 100 }) }),
    async run(ctx, p) {
      p.FlowLogIds.forEach((id, i) => {
        if (!FLOW_LOG_ID.test(id)) malformedId(`FlowLogIds.${i}`, id);
      });
      return ctx.write(async (w) => {
        const ids = [...new Set(p.FlowLogIds)];
        const rows = await w.tx.selectFrom('flow_logs').select(['id', 'vpc_id', 'enabled']).where('account', '=', ctx.account.uin).where('id', 'in', ids).execute();
        const found = new Set(rows.map((r) => r.id));
        const missing = ids.filter((id) => !found.has(id));
        if (missing.length) throw new ApiError('ResourceNotFound', `The flow log(s) ${missing.map((m) => `\`${m}\``).join(', ')} (\`FlowLogIds\`) do(es) not exist; nothing was changed.`);
        const changing = rows.filter((r) => (r.enabled === 1) !== on);
        if (changing.length) await w.tx.updateTable('flow_logs').set({ enabled: on ? 1 : 0 }).where('id', 'in', changing.map((r) => r.id)).execute();
        for (const vpc of new Set(changing.map((r) => r.vpc_id))) w.changed(ctx.account.uin, 'vpc', vpc, 'update');
        return {};
      });
    },
  });
}

export const flowLogActions = [
  createFlowLog,
  describeFlowLogs,
  describeFlowLog,
  modifyFlowLogAttribute,
  deleteFlowLogAction,
  switchFlowLogs('EnableFlowLogs', true),
  switchFlowLogs('DisableFlowLogs', false),
];
