/**
 * Security groups and their policy lists in the store: every query the
 * security-group actions make, in one place, so the round trips of each
 * action are designed here (store/postgres.ts: on PostgreSQL, statements sent
 * together travel together). Statements that do not depend on each other's
 * answers are issued together (`Promise.all`); on SQLite that costs nothing.
 *
 * Lists are stored one row per policy, `position` = PolicyIndex, dense.
 */
import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Direction, Policy, PolicyAction, Protocol } from '../core/sg-policy.js';
import { nameContains } from './name-filter.js';
import type { DB, SecurityGroupsTable, SgPoliciesTable } from './schema.js';
import type { Write } from './store.js';

type Reader = Kysely<DB>;
export type GroupRow = Selectable<SecurityGroupsTable>;

/** A policy as stored: the normalised policy and when it last changed. */
export interface StoredPolicy extends Policy {
  modifiedAt: string;
}
export type PolicyLists = Record<Direction, StoredPolicy[]>;

const dbDirection = (d: Direction): SgPoliciesTable['direction'] => (d === 'Ingress' ? 'ingress' : 'egress');

export async function findGroupRow(db: Reader, account: string, id: string): Promise<GroupRow | undefined> {
  return db.selectFrom('security_groups').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
}

export async function loadPolicyLists(db: Reader, sgId: string): Promise<PolicyLists> {
  const rows = await db.selectFrom('sg_policies').selectAll().where('sg_id', '=', sgId).orderBy('direction').orderBy('position').execute();
  const lists: PolicyLists = { Ingress: [], Egress: [] };
  for (const r of rows)
    lists[r.direction === 'ingress' ? 'Ingress' : 'Egress'].push({
      protocol: r.protocol as Protocol,
      port: r.port,
      cidr: r.cidr,
      ipv6Cidr: r.ipv6_cidr,
      sgRef: r.ref_sg_id,
      action: r.action as PolicyAction,
      description: r.description,
      modifiedAt: r.modified_at,
    });
  return lists;
}

/** A group of the account and its lists, read together (one round trip); the lists are empty when there is no such group. */
export async function groupWithPolicies(db: Reader, account: string, id: string): Promise<{ group?: GroupRow; lists: PolicyLists }> {
  const [group, lists] = await Promise.all([findGroupRow(db, account, id), loadPolicyLists(db, id)]);
  return group ? { group, lists } : { lists: { Ingress: [], Egress: [] } };
}

/** Which of `ids` are groups of the account. */
export async function ownGroups(db: Reader, account: string, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db.selectFrom('security_groups').select('id').where('account', '=', account).where('id', 'in', [...ids]).execute();
  return new Set(rows.map((r) => r.id));
}

/** One direction's change: its list before and after. */
export interface ListChange {
  direction: Direction;
  old: readonly StoredPolicy[];
  list: readonly StoredPolicy[];
}

function policyRow(sgId: string, dir: Direction, p: StoredPolicy, position: number): SgPoliciesTable {
  return {
    sg_id: sgId,
    direction: dbDirection(dir),
    position,
    protocol: p.protocol,
    port: p.port,
    cidr: p.cidr,
    ipv6_cidr: p.ipv6Cidr,
    ref_sg_id: p.sgRef,
    action: p.action,
    description: p.description,
    modified_at: p.modifiedAt,
  };
}

/**
 * The statements that store a direction's new list. Rows before the first
 * difference stay; the rest are rewritten, so the common edit — appending —
 * inserts only the new policies instead of the whole list.
 */
function listStatements(w: Write, sgId: string, c: ListChange): Promise<unknown>[] {
  const same = (i: number) => JSON.stringify(policyRow(sgId, c.direction, c.old[i]!, i)) === JSON.stringify(policyRow(sgId, c.direction, c.list[i]!, i));
  let keep = 0;
  while (keep < c.old.length && keep < c.list.length && same(keep)) keep++;
  const out: Promise<unknown>[] = [];
  // Issued in this order and answered in it: the delete runs before the insert that reuses its positions.
  if (keep < c.old.length)
    out.push(w.tx.deleteFrom('sg_policies').where('sg_id', '=', sgId).where('direction', '=', dbDirection(c.direction)).where('position', '>=', keep).execute());
  if (keep < c.list.length)
    out.push(w.tx.insertInto('sg_policies').values(c.list.slice(keep).map((p, i) => policyRow(sgId, c.direction, p, keep + i))).execute());
  return out;
}

/** Stores changed lists and the group's next Version, together. */
export async function savePolicyEdit(w: Write, group: GroupRow, changes: readonly ListChange[]): Promise<void> {
  await Promise.all([
    ...changes.flatMap((c) => listStatements(w, group.id, c)),
    w.tx.updateTable('security_groups').set({ version: group.version + 1, updated_at: w.now }).where('id', '=', group.id).execute(),
  ]);
}

/** A new group with its lists. */
export async function insertGroup(w: Write, row: GroupRow, lists: PolicyLists): Promise<void> {
  // The group first: its policies reference it.
  const group = w.tx.insertInto('security_groups').values(row).execute();
  const policies = (['Ingress', 'Egress'] as const).flatMap((d) => listStatements(w, row.id, { direction: d, old: [], list: lists[d] }));
  await Promise.all([group, ...policies]);
}

export async function updateGroup(w: Write, id: string, set: Partial<Pick<GroupRow, 'name' | 'description'>>): Promise<void> {
  await w.tx.updateTable('security_groups').set({ ...set, updated_at: w.now }).where('id', '=', id).execute();
}

/** What keeps a group from being deleted: up to `n` instances bound to it and `n` other groups whose policies reference it. */
export async function groupUsers(db: Reader, id: string, n: number): Promise<{ instances: string[]; holders: string[] }> {
  const [instances, holders] = await Promise.all([
    db.selectFrom('instance_sgs').select('instance_id').where('sg_id', '=', id).orderBy('instance_id').limit(n).execute(),
    db.selectFrom('sg_policies').select('sg_id').distinct().where('ref_sg_id', '=', id).where('sg_id', '<>', id).orderBy('sg_id').limit(n).execute(),
  ]);
  return { instances: instances.map((r) => r.instance_id), holders: holders.map((r) => r.sg_id) };
}

/** Deletes a group and its policies (its tags and quota are the caller's). */
export async function deleteGroup(w: Write, id: string): Promise<void> {
  await Promise.all([
    w.tx.deleteFrom('sg_policies').where('sg_id', '=', id).execute(),
    w.tx.deleteFrom('security_groups').where('id', '=', id).execute(),
  ]);
}

export interface GroupQuery {
  account: string;
  ids?: readonly string[];
  projects?: readonly string[];
  /** Case-insensitive substrings of the name; any matches. */
  names?: readonly string[];
  /** Subqueries of resource IDs each of which the group must be in (tag filters). */
  within?: readonly SelectQueryBuilder<DB, 'tags', { resource_id: string }>[];
  order: 'created_at' | 'updated_at';
  direction: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/**
 * A page of groups, how many match and the page's tags, in one round trip (the
 * tags by a subquery of the same page); `total` is the caller's when the query
 * has no filter (the usage row).
 */
export async function groupPage(
  db: Reader,
  q: GroupQuery,
  total?: Promise<number>,
): Promise<{ rows: GroupRow[]; total: number; tags: Map<string, { Key: string; Value: string }[]> }> {
  let s = db.selectFrom('security_groups').where('account', '=', q.account);
  if (q.ids) s = s.where('id', 'in', [...q.ids]);
  if (q.projects) s = s.where('project_id', 'in', [...q.projects]);
  const names = q.names;
  if (names) s = s.where((eb) => eb.or(names.map((n) => nameContains('name', n, { db, table: 'security_groups' }))));
  for (const w of q.within ?? []) s = s.where('id', 'in', w);
  const ordered = s.orderBy(q.order, q.direction).orderBy('id', q.direction).limit(q.limit).offset(q.offset);
  const [rows, n, tagRows] = await Promise.all([
    ordered.selectAll().execute(),
    total ?? s.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    db.selectFrom('tags').select(['resource_id', 'key', 'value']).where('resource_id', 'in', ordered.select('id')).orderBy('key').execute(),
  ]);
  const tags = new Map<string, { Key: string; Value: string }[]>(rows.map((r) => [r.id, []]));
  for (const t of tagRows) tags.get(t.resource_id)?.push({ Key: t.key, Value: t.value });
  return { rows, total: n, tags };
}
