/**
 * Load balancers (CLB) in the store: the SQL the clb actions (api/clb), their
 * tasks (controller/lb-task.ts), the LB nodes' health reports
 * (controller/lb-health.ts) and TerminateInstances share.
 *
 * A load balancer's listeners, targets and health rows go with it; a
 * listener's targets and health rows go with the listener; a target's health
 * rows go with the target. An internal VIP is a private_ips row of its subnet
 * (owner kind 'clb'), a public one is unique among the region's public
 * addresses (store/eips.ts takenPublicIps counts it).
 *
 * Writers lock the load balancer row first (lockLoadBalancers, FOR UPDATE on
 * PostgreSQL), so two changes of one load balancer run one after the other
 * and the second sees the first's task (operation_id) running.
 */
import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { DB, LbListenersTable, LbTargetHealthTable, LbTargetsTable, LoadBalancersTable } from './schema.js';
import type { Engine, Tx } from './store.js';

type Reader = Kysely<DB>;
export type LoadBalancerRow = Selectable<LoadBalancersTable>;
export type ListenerRow = Selectable<LbListenersTable>;
export type TargetRow = Selectable<LbTargetsTable>;
export type TargetHealthRow = Selectable<LbTargetHealthTable>;

/**
 * What lb_listeners.health_check holds: Tencent's HealthCheck with every field
 * normalised by the API (api/clb/health-check.ts), as DescribeListeners
 * answers it; the compiler derives what the LB nodes probe from it
 * (compile/load-balancers.ts healthCheckSpec). HealthSwitch 0: checks off.
 */
export type StoredHealthCheck = Record<string, unknown>;

export const parseHealthCheck = (json: string) => JSON.parse(json) as StoredHealthCheck;
export const healthChecksOn = (json: string) => parseHealthCheck(json).HealthSwitch !== 0;

// ---------------------------------------------------------------------------
// Load balancers

export async function insertLoadBalancers(tx: Tx, rows: readonly LoadBalancerRow[]): Promise<void> {
  if (rows.length) await tx.insertInto('load_balancers').values([...rows]).execute();
}

/**
 * The account's load balancers among `ids` (another account's are left out);
 * with `lock` (a transaction on PostgreSQL), locked until commit.
 */
export async function loadBalancersOf(db: Reader, account: string, ids: readonly string[], lock?: Engine): Promise<LoadBalancerRow[]> {
  if (!ids.length) return [];
  const q = db.selectFrom('load_balancers').selectAll().where('account', '=', account).where('id', 'in', [...ids]).orderBy('id');
  return (lock === 'postgres' ? q.forUpdate() : q).execute();
}

/** The task IDs among `ids` still RUNNING. */
export async function runningTasks(db: Reader, ids: readonly string[]): Promise<Set<string>> {
  const wanted = ids.filter(Boolean);
  if (!wanted.length) return new Set();
  const rows = await db.selectFrom('tasks').select('id').where('id', 'in', wanted).where('status', '=', 'RUNNING').execute();
  return new Set(rows.map((r) => r.id));
}

/** Marks `taskId` as the operation now running on the load balancers. */
export async function startOperation(tx: Tx, lbIds: readonly string[], taskId: string): Promise<void> {
  if (lbIds.length) await tx.updateTable('load_balancers').set({ operation_id: taskId }).where('id', 'in', [...lbIds]).execute();
}

/** Makes creating (Status 0) load balancers among `ids` normal (Status 1); answers those it changed. */
export async function settleCreating(tx: Tx, ids: readonly string[]): Promise<LoadBalancerRow[]> {
  if (!ids.length) return [];
  const rows = await tx.selectFrom('load_balancers').selectAll().where('id', 'in', [...ids]).where('status', '=', 0).execute();
  if (rows.length)
    await tx
      .updateTable('load_balancers')
      .set({ status: 1 })
      .where('id', 'in', rows.map((r) => r.id))
      .execute();
  return rows;
}

/** The load balancers CreateLoadBalancer task `taskId` made (still present). */
export async function loadBalancersOfTask(db: Reader, account: string, taskId: string): Promise<string[]> {
  const rows = await db.selectFrom('load_balancers').select('id').where('account', '=', account).where('task_id', '=', taskId).orderBy('id').execute();
  return rows.map((r) => r.id);
}

export async function updateLoadBalancer(tx: Tx, id: string, set: Partial<Pick<LoadBalancerRow, 'name' | 'delete_protect' | 'pass_to_target'>>): Promise<void> {
  if (Object.keys(set).length) await tx.updateTable('load_balancers').set(set).where('id', '=', id).execute();
}

/** Deletes load balancers with their listeners, targets and health rows. */
export async function deleteLoadBalancers(tx: Tx, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const listeners = tx.selectFrom('lb_listeners').select('id').where('load_balancer_id', 'in', [...ids]);
  await tx.deleteFrom('lb_target_health').where('listener_id', 'in', listeners).execute();
  await tx.deleteFrom('lb_targets').where('load_balancer_id', 'in', [...ids]).execute();
  await tx.deleteFrom('lb_listeners').where('load_balancer_id', 'in', [...ids]).execute();
  await tx.deleteFrom('load_balancers').where('id', 'in', [...ids]).execute();
}

/** Public VIPs of OPEN load balancers, region-wide. */
export async function publicVips(db: Reader): Promise<string[]> {
  return (await db.selectFrom('load_balancers').select('vip').where('type', '=', 'OPEN').execute()).map((r) => r.vip);
}

/** Load balancers in a VPC (at most `limit`), by ID: what keeps the VPC. */
export async function loadBalancersInVpc(db: Reader, vpcId: string, limit = 6): Promise<string[]> {
  return (await db.selectFrom('load_balancers').select('id').where('vpc_id', '=', vpcId).orderBy('id').limit(limit).execute()).map((r) => r.id);
}

export interface LoadBalancerQuery {
  ids?: string[];
  type?: string;
  forward?: number;
  nameContains?: string;
  domainContains?: string;
  vips?: string[];
  backendPrivateIps?: string[];
  backendPublicIps?: string[];
  searchKey?: string;
  projectId?: number;
  withTargets?: boolean;
  vpcId?: string;
  /** Conditions no Weft load balancer meets (a security group, a master zone, a domain …). */
  none?: boolean;
  /** IDs selected by tag filters, each list ANDed. */
  tagged?: ReturnType<Reader['selectFrom']>[];
  orderBy: 'name' | 'created_at' | 'type';
  descending: boolean;
  offset: number;
  limit: number;
}

const likeText = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`).toLowerCase()}%`;

/** DescribeLoadBalancers' selection: the page and the total. */
export async function findLoadBalancers(db: Reader, account: string, q: LoadBalancerQuery): Promise<{ rows: LoadBalancerRow[]; total: number }> {
  let s = db.selectFrom('load_balancers').where('account', '=', account);
  if (q.none) s = s.where(sql<boolean>`1 = 0`);
  if (q.ids) s = s.where('id', 'in', q.ids.length ? q.ids : ['']);
  if (q.type) s = s.where('type', '=', q.type);
  if (q.forward !== undefined && q.forward !== 1) s = s.where(sql<boolean>`1 = 0`);
  if (q.nameContains !== undefined) s = s.where(sql<boolean>`lower(name) like ${likeText(q.nameContains)} escape '\\'`);
  if (q.vips) s = s.where('vip', 'in', q.vips.length ? q.vips : ['']);
  if (q.vpcId !== undefined) s = s.where('vpc_id', '=', q.vpcId);
  if (q.projectId !== undefined) s = s.where('project_id', '=', q.projectId);
  if (q.searchKey !== undefined) {
    const k = likeText(q.searchKey);
    s = s.where(sql<boolean>`(lower(name) like ${k} escape '\\' or vip like ${k} escape '\\' or id like ${k} escape '\\')`);
  }
  const targets = () => db.selectFrom('lb_targets').select('load_balancer_id');
  if (q.withTargets === true) s = s.where('id', 'in', targets());
  if (q.withTargets === false) s = s.where('id', 'not in', targets());
  if (q.backendPrivateIps) s = s.where('id', 'in', targets().where('private_ip', 'in', q.backendPrivateIps.length ? q.backendPrivateIps : ['']));
  if (q.backendPublicIps)
    s = s.where(
      'id',
      'in',
      targets().where('instance_id', 'in', db.selectFrom('addresses').select('instance_id as id').where('ip', 'in', q.backendPublicIps.length ? q.backendPublicIps : [''])) as never,
    );
  for (const t of q.tagged ?? []) s = s.where('id', 'in', t as never);
  const [rows, total] = await Promise.all([
    s
      .selectAll()
      .orderBy(q.orderBy, q.descending ? 'desc' : 'asc')
      .orderBy('id', q.descending ? 'desc' : 'asc')
      .limit(q.limit)
      .offset(q.offset)
      .execute(),
    s.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)),
  ]);
  return { rows, total };
}

/** How many targets each load balancer has. */
export async function targetCounts(db: Reader, lbIds: readonly string[]): Promise<Map<string, number>> {
  if (!lbIds.length) return new Map();
  const rows = await db
    .selectFrom('lb_targets')
    .select(['load_balancer_id', sql<number>`count(*)`.as('n')])
    .where('load_balancer_id', 'in', [...lbIds])
    .groupBy('load_balancer_id')
    .execute();
  return new Map(rows.map((r) => [r.load_balancer_id, Number(r.n)]));
}

// ---------------------------------------------------------------------------
// Listeners

export async function insertListeners(tx: Tx, rows: readonly ListenerRow[]): Promise<void> {
  if (rows.length) await tx.insertInto('lb_listeners').values([...rows]).execute();
}

export async function listenersOf(db: Reader, lbIds: readonly string[], f: { ids?: string[]; protocol?: string; port?: number } = {}): Promise<ListenerRow[]> {
  if (!lbIds.length) return [];
  let q = db.selectFrom('lb_listeners').selectAll().where('load_balancer_id', 'in', [...lbIds]);
  if (f.ids) q = q.where('id', 'in', f.ids.length ? f.ids : ['']);
  if (f.protocol) q = q.where('protocol', '=', f.protocol);
  if (f.port !== undefined) q = q.where('port', '=', f.port);
  return q.orderBy('load_balancer_id').orderBy('protocol').orderBy('port').execute();
}

export async function updateListener(tx: Tx, id: string, set: Partial<Pick<ListenerRow, 'name' | 'scheduler' | 'session_expire_time' | 'health_check'>>): Promise<void> {
  if (Object.keys(set).length) await tx.updateTable('lb_listeners').set(set).where('id', '=', id).execute();
}

/** Deletes a listener with its targets and their health rows. */
export async function deleteListener(tx: Tx, id: string): Promise<void> {
  await tx.deleteFrom('lb_target_health').where('listener_id', '=', id).execute();
  await tx.deleteFrom('lb_targets').where('listener_id', '=', id).execute();
  await tx.deleteFrom('lb_listeners').where('id', '=', id).execute();
}

// ---------------------------------------------------------------------------
// Targets

export async function targetsOf(db: Reader, listenerIds: readonly string[], privateIps?: readonly string[]): Promise<TargetRow[]> {
  if (!listenerIds.length) return [];
  let q = db.selectFrom('lb_targets').selectAll().where('listener_id', 'in', [...listenerIds]);
  if (privateIps) q = q.where('private_ip', 'in', privateIps.length ? [...privateIps] : ['']);
  return q.orderBy('listener_id').orderBy('private_ip').orderBy('port').execute();
}

export async function insertTargets(tx: Tx, rows: readonly TargetRow[]): Promise<void> {
  if (rows.length) await tx.insertInto('lb_targets').values([...rows]).execute();
}

export interface TargetKey {
  ip: string;
  port: number;
}

/** Deletes targets of a listener with their health rows. */
export async function deleteTargets(tx: Tx, listenerId: string, keys: readonly TargetKey[]): Promise<void> {
  for (const k of keys) {
    await tx.deleteFrom('lb_target_health').where('listener_id', '=', listenerId).where('private_ip', '=', k.ip).where('port', '=', k.port).execute();
    await tx.deleteFrom('lb_targets').where('listener_id', '=', listenerId).where('private_ip', '=', k.ip).where('port', '=', k.port).execute();
  }
}

export async function setTargetWeight(tx: Tx, listenerId: string, k: TargetKey, weight: number): Promise<void> {
  await tx.updateTable('lb_targets').set({ weight }).where('listener_id', '=', listenerId).where('private_ip', '=', k.ip).where('port', '=', k.port).execute();
}

/**
 * Deregisters every target of the instances (TerminateInstances), with their
 * health rows; answers the load balancers that lost targets.
 */
export async function deregisterInstances(tx: Tx, instanceIds: readonly string[]): Promise<{ id: string; account: string; vpc_id: string }[]> {
  if (!instanceIds.length) return [];
  const targets = await tx.selectFrom('lb_targets').select(['listener_id', 'private_ip', 'port', 'load_balancer_id']).where('instance_id', 'in', [...instanceIds]).execute();
  if (!targets.length) return [];
  for (const t of targets)
    await tx.deleteFrom('lb_target_health').where('listener_id', '=', t.listener_id).where('private_ip', '=', t.private_ip).where('port', '=', t.port).execute();
  await tx.deleteFrom('lb_targets').where('instance_id', 'in', [...instanceIds]).execute();
  const lbIds = [...new Set(targets.map((t) => t.load_balancer_id))];
  return tx.selectFrom('load_balancers').select(['id', 'account', 'vpc_id']).where('id', 'in', lbIds).orderBy('id').execute();
}

/** The account's instances among `ids` with what a target needs of them. */
export async function instancesForTargets(db: Reader, account: string, ids: readonly string[]) {
  if (!ids.length) return [];
  return db.selectFrom('instances').select(['id', 'vpc_id', 'private_ip']).where('account', '=', account).where('id', 'in', [...ids]).execute();
}

/** Holders of private addresses of a VPC among `ips` (EniIp targets): the instance holding each, if any. */
export async function addressHolders(db: Reader, account: string, vpcId: string, ips: readonly string[]) {
  if (!ips.length) return [];
  return db
    .selectFrom('private_ips')
    .select(['ip', 'owner_kind', 'owner_id'])
    .where('account', '=', account)
    .where('vpc_id', '=', vpcId)
    .where('ip', 'in', [...ips])
    .execute();
}

/** What DescribeTargets tells of the instances behind targets. */
export async function targetInstances(db: Reader, ids: readonly string[]) {
  if (!ids.length) return [];
  return db.selectFrom('instances').select(['id', 'name', 'eni_id', 'zone']).where('id', 'in', [...ids]).execute();
}

// ---------------------------------------------------------------------------
// Health (what the LB nodes' checks say)

export async function healthRowsOf(db: Reader, listenerIds: readonly string[]): Promise<TargetHealthRow[]> {
  if (!listenerIds.length) return [];
  return db.selectFrom('lb_target_health').selectAll().where('listener_id', 'in', [...listenerIds]).execute();
}

export async function healthRowsOfHost(db: Reader, hostId: string): Promise<TargetHealthRow[]> {
  return db.selectFrom('lb_target_health').selectAll().where('host_id', '=', hostId).execute();
}

export interface ReportedStatus {
  listenerId: string;
  ip: string;
  port: number;
  status: string;
}

const healthKey = (listenerId: string, ip: string, port: number) => `${listenerId} ${ip} ${port}`;

/**
 * What a node's report changes of its rows: the reported targets that exist
 * (others are dropped: the node's document is behind a deregistration), rows
 * to insert or update where the status differs, and the node's rows of
 * targets it no longer reports, to delete. Answers the load balancers touched.
 */
export async function healthChanges(db: Reader, hostId: string, reported: readonly ReportedStatus[]) {
  const listenerIds = [...new Set(reported.map((r) => r.listenerId))];
  const existing = listenerIds.length
    ? await db.selectFrom('lb_targets').select(['listener_id', 'private_ip', 'port', 'load_balancer_id']).where('listener_id', 'in', listenerIds).execute()
    : [];
  const lbOf = new Map(existing.map((t) => [healthKey(t.listener_id, t.private_ip, t.port), t.load_balancer_id]));
  const known = reported.filter((r) => lbOf.has(healthKey(r.listenerId, r.ip, r.port)));
  const mine = await healthRowsOfHost(db, hostId);
  const had = new Map(mine.map((h) => [healthKey(h.listener_id, h.private_ip, h.port), h]));
  const upserts = known.filter((r) => had.get(healthKey(r.listenerId, r.ip, r.port))?.status !== r.status);
  const reportedKeys = new Set(known.map((r) => healthKey(r.listenerId, r.ip, r.port)));
  const gone = mine.filter((h) => !reportedKeys.has(healthKey(h.listener_id, h.private_ip, h.port)));
  const touchedListeners = [...new Set([...upserts.map((u) => u.listenerId), ...gone.map((g) => g.listener_id)])];
  const lbIds = touchedListeners.length
    ? [...new Set((await db.selectFrom('lb_listeners').select('load_balancer_id').where('id', 'in', touchedListeners).execute()).map((r) => r.load_balancer_id))]
    : [];
  return { accepted: known.length, dropped: reported.length - known.length, upserts, gone, lbIds };
}

/** Applies healthChanges' rows for a node. */
export async function applyHealth(tx: Tx, hostId: string, upserts: readonly ReportedStatus[], gone: readonly TargetHealthRow[], now: string): Promise<void> {
  for (const g of gone)
    await tx
      .deleteFrom('lb_target_health')
      .where('listener_id', '=', g.listener_id)
      .where('private_ip', '=', g.private_ip)
      .where('port', '=', g.port)
      .where('host_id', '=', hostId)
      .execute();
  for (const u of upserts)
    await tx
      .insertInto('lb_target_health')
      .values({ listener_id: u.listenerId, private_ip: u.ip, port: u.port, host_id: hostId, status: u.status, changed_at: now })
      .onConflict((oc) => oc.columns(['listener_id', 'private_ip', 'port', 'host_id']).doUpdateSet({ status: u.status, changed_at: now }))
      .execute();
}

export async function loadBalancersByIds(db: Reader, ids: readonly string[]) {
  if (!ids.length) return [];
  return db.selectFrom('load_balancers').select(['id', 'account', 'vpc_id']).where('id', 'in', [...ids]).orderBy('id').execute();
}
