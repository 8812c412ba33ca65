/**
 * Instances in the store: the queries of RunInstances and TerminateInstances,
 * with their round trips designed here (see store/security-groups.ts):
 * statements that do not wait on each other are issued together, on
 * PostgreSQL one round trip.
 */
import { sql, type Insertable, type Kysely, type Selectable, type SqlBool } from 'kysely';
import { nameContains } from './name-filter.js';
import type { DB, InstancesTable, SubnetsTable } from './schema.js';
import type { Write } from './store.js';

type Reader = Kysely<DB>;
export type NewInstanceRow = Insertable<InstancesTable>;

/**
 * The state DescribeInstances reports: PENDING until the instance's host has
 * applied the revision its placement was written at, RUNNING from then on
 * (the stored state wins once it is anything but PENDING).
 */
export const effectiveState = sql<string>`case when ${sql.ref('instances.state')} = 'PENDING' and ${sql.ref('instances.placed_revision')} > 0 and ${sql.ref(
  'hosts.applied_revision',
)} >= ${sql.ref('instances.placed_revision')} then 'RUNNING' else ${sql.ref('instances.state')} end`;

export type InstanceRow = Selectable<InstancesTable> & { effective_state: string };

/** The account's instances among `ids`, with their effective state. */
export async function instancesOf(db: Reader, account: string, ids: readonly string[]): Promise<InstanceRow[]> {
  return db
    .selectFrom('instances')
    .leftJoin('hosts', 'hosts.id', 'instances.host_id')
    .selectAll('instances')
    .select(effectiveState.as('effective_state'))
    .where('instances.account', '=', account)
    .where('instances.id', 'in', [...ids])
    .execute();
}

/** The security groups bound to each instance, in bound order. */
export async function boundGroups(db: Reader, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (!ids.length) return out;
  const rows = await db.selectFrom('instance_sgs').select(['instance_id', 'sg_id']).where('instance_id', 'in', [...ids]).orderBy('instance_id').orderBy('position').execute();
  for (const r of rows) out.get(r.instance_id)!.push(r.sg_id);
  return out;
}

/** Each instance's highest bound position (positions may have gaps where groups were unbound). */
export async function topPositions(db: Reader, ids: readonly string[]): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('instance_sgs')
    .select(['instance_id', (eb) => eb.fn.max('position').as('top')])
    .where('instance_id', 'in', [...ids])
    .groupBy('instance_id')
    .execute();
  return new Map(rows.map((t) => [t.instance_id, Number(t.top)]));
}

/** Binds groups to instances at the positions given. */
export async function bindGroups(w: Write, rows: readonly { instance_id: string; sg_id: string; position: number }[]): Promise<void> {
  if (rows.length) await w.tx.insertInto('instance_sgs').values([...rows]).execute();
}

/** Unbinds `sgIds` from every instance of `ids`. */
export async function unbindGroups(w: Write, ids: readonly string[], sgIds: readonly string[]): Promise<void> {
  await w.tx.deleteFrom('instance_sgs').where('instance_id', 'in', [...ids]).where('sg_id', 'in', [...sgIds]).execute();
}

/** Records an action as the instances' latest operation (LatestOperation of DescribeInstances). */
export async function markOperation(w: Write, ids: readonly string[], operation: string, requestId: string): Promise<void> {
  await w.tx
    .updateTable('instances')
    .set({ latest_operation: operation, latest_operation_state: 'SUCCESS', latest_operation_request_id: requestId })
    .where('id', 'in', [...ids])
    .execute();
}

/** Where instances are to launch, read together: whether the VPC is the account's, its subnet, and which of `sgIds` are the account's groups. */
export async function launchTargets(db: Reader, account: string, vpcId: string, subnetId: string, sgIds: readonly string[]) {
  const [vpc, subnet, groups] = await Promise.all([
    db.selectFrom('vpcs').select('id').where('id', '=', vpcId).where('account', '=', account).executeTakeFirst(),
    db.selectFrom('subnets').selectAll().where('id', '=', subnetId).where('account', '=', account).executeTakeFirst(),
    sgIds.length ? db.selectFrom('security_groups').select('id').where('account', '=', account).where('id', 'in', [...sgIds]).execute() : [],
  ]);
  return { vpcFound: !!vpc, subnet: subnet as Selectable<SubnetsTable> | undefined, ownGroups: new Set(groups.map((g) => g.id)) };
}

/** Which of the candidate IDs, ENI IDs and MACs some instance already has, in one round trip. */
export async function identitiesInUse(db: Reader, c: { ids: string[]; eniIds: string[]; macs: string[] }): Promise<Set<string>> {
  const [ids, enis, macs] = await Promise.all([
    db.selectFrom('instances').select('id as v').where('id', 'in', c.ids).execute(),
    db.selectFrom('instances').select('eni_id as v').where('eni_id', 'in', c.eniIds).execute(),
    db.selectFrom('instances').select('mac as v').where('mac', 'in', c.macs).execute(),
  ]);
  return new Set([...ids, ...enis, ...macs].map((r) => r.v));
}

/** New instances, each bound to `sgIds` in that order, each with `tags`. */
export async function insertInstances(
  w: Write,
  rows: readonly NewInstanceRow[],
  sgIds: readonly string[],
  tags: readonly { Key: string; Value?: string }[],
): Promise<void> {
  const bindings = rows.flatMap((r) => sgIds.map((sg, position) => ({ instance_id: r.id, sg_id: sg, position })));
  const tagRows = rows.flatMap((r) => tags.map((t) => ({ account: r.account, resource_id: r.id, key: t.Key, value: t.Value ?? '' })));
  // In this order (answered in it): the bindings reference the instances.
  await Promise.all([
    w.tx.insertInto('instances').values([...rows]).execute(),
    ...(bindings.length ? [w.tx.insertInto('instance_sgs').values(bindings).execute()] : []),
    ...(tagRows.length ? [w.tx.insertInto('tags').values(tagRows).execute()] : []),
  ]);
}

/** Deletes instances with their addresses, bindings and tags (flow logs, SNAT rules, EIPs and targets are the caller's). */
export async function deleteInstanceRows(w: Write, ids: readonly string[]): Promise<void> {
  // In this order (answered in it): everything that references an instance goes before it.
  await Promise.all([
    w.tx.deleteFrom('private_ips').where('owner_id', 'in', [...ids]).execute(),
    w.tx.deleteFrom('instance_sgs').where('instance_id', 'in', [...ids]).execute(),
    w.tx.deleteFrom('tags').where('resource_id', 'in', [...ids]).execute(),
    w.tx.deleteFrom('instances').where('id', 'in', [...ids]).execute(),
  ]);
}

/** One condition of DescribeInstances (a filter, or the IDs asked for); values of one condition: any of them. */
export type InstanceCondition =
  | {
      on: 'id' | 'zone' | 'vpc' | 'subnet' | 'uuid' | 'chargeType' | 'privateIp' | 'state' | 'name' | 'securityGroup' | 'tagKey' | 'tagValue' | 'publicIp';
      values: readonly string[];
    }
  | { on: 'tag'; key: string; values: readonly string[] }
  | { on: 'createdFrom' | 'createdTo'; at: string }
  /** A filter no instance can match. */
  | { on: 'nothing' };

export interface InstanceQuery {
  account: string;
  /** All must hold (AND). */
  where: readonly InstanceCondition[];
  offset: number;
  limit: number;
}

/**
 * A page of instances in creation order, how many match, and what the Instance
 * model needs of each (bound groups, tags, EIP addresses), in one round trip:
 * those are read by subqueries of the same page rather than after it. With no
 * condition the count is the usage row (O(1)).
 */
export async function instancePage(db: Reader, q: InstanceQuery) {
  const tagged = () => db.selectFrom('tags').select('resource_id').where('account', '=', q.account);
  let s = db.selectFrom('instances').leftJoin('hosts', 'hosts.id', 'instances.host_id').where('instances.account', '=', q.account);
  const columns = {
    id: 'instances.id',
    zone: 'instances.zone',
    vpc: 'instances.vpc_id',
    subnet: 'instances.subnet_id',
    uuid: 'instances.uuid',
    chargeType: 'instances.charge_type',
    privateIp: 'instances.private_ip',
  } as const;
  for (const c of q.where) {
    switch (c.on) {
      case 'id':
      case 'zone':
      case 'vpc':
      case 'subnet':
      case 'uuid':
      case 'chargeType':
      case 'privateIp':
        s = s.where(columns[c.on], 'in', [...c.values]);
        break;
      case 'state':
        s = s.where(effectiveState, 'in', [...c.values]);
        break;
      case 'name':
        s = s.where((eb) => eb.or(c.values.map((x) => nameContains('instances.name', x, { db, table: 'instances' }))));
        break;
      case 'securityGroup':
        s = s.where('instances.id', 'in', db.selectFrom('instance_sgs').select('instance_id').where('sg_id', 'in', [...c.values]));
        break;
      case 'tagKey':
        s = s.where('instances.id', 'in', tagged().where('key', 'in', [...c.values]));
        break;
      case 'tagValue':
        s = s.where('instances.id', 'in', tagged().where('value', 'in', [...c.values]));
        break;
      case 'tag':
        s = s.where('instances.id', 'in', tagged().where('key', '=', c.key).where('value', 'in', [...c.values]));
        break;
      case 'publicIp':
        s = s.where('instances.id', 'in', db.selectFrom('addresses').select('instance_id as id').where('account', '=', q.account).where('ip', 'in', [...c.values]));
        break;
      case 'createdFrom':
        s = s.where('instances.created_at', '>=', c.at);
        break;
      case 'createdTo':
        s = s.where('instances.created_at', '<=', c.at);
        break;
      case 'nothing':
        s = s.where(sql<SqlBool>`1 = 0`);
        break;
    }
  }
  const ordered = s.orderBy('instances.created_at').orderBy('instances.id').limit(q.limit).offset(q.offset);
  const pageIds = () => ordered.select('instances.id');
  const [rows, total, bindings, tagRows, eips] = await Promise.all([
    ordered.selectAll('instances').select(effectiveState.as('effective_state')).execute() as Promise<InstanceRow[]>,
    q.where.length
      ? s.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n))
      : db.selectFrom('usage').select('count').where('account', '=', q.account).where('kind', '=', 'instance').executeTakeFirst().then((r) => r?.count ?? 0),
    db.selectFrom('instance_sgs').select(['instance_id', 'sg_id']).where('instance_id', 'in', pageIds()).orderBy('instance_id').orderBy('position').execute(),
    db.selectFrom('tags').select(['resource_id', 'key', 'value']).where('resource_id', 'in', pageIds()).orderBy('key').execute(),
    db.selectFrom('addresses').select(['instance_id', 'ip']).where('instance_id', 'in', pageIds()).orderBy('ip').execute(),
  ]);
  const per = <T>() => new Map<string, T[]>(rows.map((r) => [r.id, []]));
  const groups = per<string>();
  for (const b of bindings) groups.get(b.instance_id)?.push(b.sg_id);
  const tags = per<{ Key: string; Value: string }>();
  for (const t of tagRows) tags.get(t.resource_id)?.push({ Key: t.key, Value: t.value });
  const publicIps = per<string>();
  for (const e of eips) publicIps.get(e.instance_id!)?.push(e.ip);
  return { rows, total, groups, tags, publicIps };
}
