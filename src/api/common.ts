/** Helpers every resource module shares: quotas, paging, tags, time format. */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../store/schema.js';
import type { Write } from '../store/store.js';
import { ApiError } from './errors.js';
import { arr, filterValues, obj, opt, str, type Filter } from './params.js';

/**
 * Counts a new resource against the account's quota (the usage row doubles as
 * the TotalCount of unfiltered Describe calls, so that stays O(1)).
 */
export async function reserve(w: Write, account: string, kind: string, n: number, limit: number, what: string): Promise<void> {
  // One atomic upsert: on PostgreSQL two first reservations of an account would otherwise both insert the row
  // (a key conflict), and two later ones both read the same count (a lost update past the quota). Its row lock
  // orders concurrent reservers; going over the quota throws, and the transaction undoes the increment.
  const { count } = await w.tx
    .insertInto('usage')
    .values({ account, kind, count: n })
    .onConflict((oc) => oc.columns(['account', 'kind']).doUpdateSet({ count: sql<number>`usage.count + ${n}` }))
    .returning('count')
    .executeTakeFirstOrThrow();
  if (count > limit)
    throw new ApiError('LimitExceeded', `The ${what} quota is ${limit}; ${count - n} in use, ${n} more requested. Delete unused ones or ask the operator to raise the quota.`);
}

export async function release(w: Write, account: string, kind: string, n = 1): Promise<void> {
  await w.tx
    .updateTable('usage')
    .set({ count: sql<number>`case when count > ${n} then count - ${n} else 0 end` })
    .where('account', '=', account)
    .where('kind', '=', kind)
    .execute();
}

export async function usage(db: Kysely<DB>, account: string, kind: string): Promise<number> {
  const row = await db.selectFrom('usage').select('count').where('account', '=', account).where('kind', '=', kind).executeTakeFirst();
  return row?.count ?? 0;
}

export const page = (p: { Offset?: number; Limit?: number }, defaultLimit = 20) => ({
  offset: p.Offset ?? 0,
  limit: p.Limit ?? defaultLimit,
});

/** Tencent's timestamp format, `2006-01-02 15:04:05` (UTC here). */
export const tencentTime = (iso: string) => iso.slice(0, 19).replace('T', ' ');

/** ISO-8601 UTC without fractions, as CVM and the EIP actions write times: 2020-09-22T00:00:00Z. */
export const isoSeconds = (iso: string) => `${iso.slice(0, 19)}Z`;

export const tagSchema = obj({ Key: str({ min: 1, max: 127 }), Value: opt(str({ max: 255 })) });
export const tagsParam = opt(arr(tagSchema, { max: 50 }));
export interface Tag {
  Key: string;
  Value: string;
}

/** A request's tags name each key once. */
export function checkTagKeys(tags: readonly { Key: string }[] | undefined) {
  const seen = new Set<string>();
  for (const t of tags ?? []) {
    if (seen.has(t.Key)) throw new ApiError('InvalidParameterValue.Duplicate', `The tag key \`${t.Key}\` is given more than once.`);
    seen.add(t.Key);
  }
}

export async function saveTags(w: Write, account: string, resourceId: string, tags: readonly { Key: string; Value?: string }[] | undefined) {
  if (!tags?.length) return;
  checkTagKeys(tags);
  await w.tx
    .insertInto('tags')
    .values(tags.map((t) => ({ account, resource_id: resourceId, key: t.Key, value: t.Value ?? '' })))
    .execute();
}

export async function deleteTags(w: Write, resourceId: string) {
  await w.tx.deleteFrom('tags').where('resource_id', '=', resourceId).execute();
}

/** A request's tags as a create action answers them, in key order as loadTags reads them: no need to read them back. */
export function requestTags(tags: readonly { Key: string; Value?: string }[] | undefined): Tag[] {
  return (tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value ?? '' })).sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
}

export async function loadTags(db: Kysely<DB>, ids: readonly string[]): Promise<Map<string, Tag[]>> {
  const out = new Map<string, Tag[]>(ids.map((id) => [id, []]));
  if (!ids.length) return out;
  const rows = await db.selectFrom('tags').select(['resource_id', 'key', 'value']).where('resource_id', 'in', ids).orderBy('key').execute();
  for (const r of rows) out.get(r.resource_id)!.push({ Key: r.key, Value: r.value });
  return out;
}

/** Rejects an ID list with duplicates or malformed IDs, naming the first offender. */
export function checkIds(ids: readonly string[] | undefined, pattern: RegExp, param: string, example: string) {
  ids?.forEach((id, i) => {
    if (!pattern.test(id))
      throw new ApiError('InvalidParameterValue.Malformed', `\`${id}\` at \`${param}.${i}\` is not a valid ID; expected the form ${example}.`);
  });
}

export { nameContains, type NameSearch } from '../store/name-filter.js';

/**
 * The `tag-key` and `tag:<key>` filters of Describe actions, as subqueries of
 * the resource IDs each selects (filters AND together, values OR).
 */
export function taggedBy(db: Kysely<DB>, account: string, f: readonly Filter[] | undefined) {
  const tags = () => db.selectFrom('tags').select('resource_id').where('account', '=', account);
  const keys = filterValues(f, 'tag-key');
  return [
    ...(keys ? [tags().where('key', 'in', keys)] : []),
    ...(f ?? []).filter((x) => x.Name.startsWith('tag:')).map((x) => tags().where('key', '=', x.Name.slice(4)).where('value', 'in', x.Values)),
  ];
}
