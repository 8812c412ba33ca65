/**
 * Accounts (Uin/AppId) own every resource; API keys (SecretId/SecretKey)
 * authenticate requests on behalf of one account.
 */
import { randomInt } from 'node:crypto';
import { randomString } from '../core/ids.js';
import { isQuotaName, withOverrides, type Quotas } from '../core/quotas.js';
import type { Kysely } from 'kysely';
import type { DB } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { seal, unseal, type MasterKey } from './secrets.js';

export interface Account {
  uin: string;
  appId: string;
  name: string;
  quotas: Quotas;
}

export interface Credentials {
  SecretId: string;
  SecretKey: string;
  Uin: string;
  AppId: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');

export async function createAccount(store: Store, key: MasterKey, name: string): Promise<Credentials> {
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) throw new Error(`account name \`${name}\` must be 1-64 of A-Z a-z 0-9 _ . @ -`);
  const uin = '1000' + digits(8);
  const appId = '13' + digits(8);
  const secretId = 'AKID' + randomString(32, ALNUM);
  const secretKey = randomString(32, ALNUM);
  await store.write(async (w) => {
    const taken = await w.tx.selectFrom('accounts').select('uin').where('name', '=', name).executeTakeFirst();
    if (taken) throw new Error(`an account named \`${name}\` already exists`);
    await w.tx.insertInto('accounts').values({ uin, app_id: appId, name, quotas: null, created_at: w.now }).execute();
    await w.tx
      .insertInto('api_keys')
      .values({ secret_id: secretId, uin, secret_key_enc: seal(key, secretKey), created_at: w.now })
      .execute();
    w.changed(uin, 'account', uin, 'create');
  });
  return { SecretId: secretId, SecretKey: secretKey, Uin: uin, AppId: appId };
}

/**
 * The credentials of an existing account, its first API key unsealed: what a
 * new controller replica's data dir writes to credentials.json when it joins
 * a store that already has its admin (the same master key, WEFT_MASTER_KEY,
 * opens the key). Undefined when there is no such account.
 */
export async function existingCredentials(store: Store, key: MasterKey, name: string): Promise<Credentials | undefined> {
  const r = await store.db
    .selectFrom('accounts')
    .innerJoin('api_keys', 'api_keys.uin', 'accounts.uin')
    .select(['accounts.uin', 'accounts.app_id', 'api_keys.secret_id', 'api_keys.secret_key_enc'])
    .where('accounts.name', '=', name)
    .orderBy('api_keys.created_at')
    .orderBy('api_keys.secret_id')
    .executeTakeFirst();
  if (!r) return undefined;
  let secretKey: string;
  try {
    secretKey = unseal(key, r.secret_key_enc);
  } catch {
    throw new Error(
      `the store's \`${name}\` key cannot be opened with this data dir's master key: give every replica the master key the store was made with (WEFT_MASTER_KEY, or the first data dir's master.key)`,
    );
  }
  return { SecretId: r.secret_id, SecretKey: secretKey, Uin: r.uin, AppId: r.app_id };
}

export async function accountByName(store: Store, name: string): Promise<Account | undefined> {
  const r = await store.db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
  return r && { uin: r.uin, appId: r.app_id, name: r.name, quotas: withOverrides(r.quotas) };
}

export async function setQuotas(store: Store, name: string, changes: Record<string, number>): Promise<Quotas> {
  for (const [k, v] of Object.entries(changes)) {
    if (!isQuotaName(k)) throw new Error(`unknown quota \`${k}\``);
    if (!Number.isInteger(v) || v < 0) throw new Error(`quota \`${k}\` must be a whole number ≥ 0`);
  }
  return store.write(async (w) => {
    const r = await w.tx.selectFrom('accounts').select(['uin', 'quotas']).where('name', '=', name).executeTakeFirst();
    if (!r) throw new Error(`no account named \`${name}\``);
    const merged = { ...(r.quotas ? JSON.parse(r.quotas) : {}), ...changes };
    await w.tx.updateTable('accounts').set({ quotas: JSON.stringify(merged) }).where('uin', '=', r.uin).execute();
    w.changed(r.uin, 'account', r.uin, 'update');
    return withOverrides(JSON.stringify(merged));
  });
}

/** An account's quotas as stored now (for use inside a write transaction), or undefined if it is gone. */
export async function quotasOf(db: Kysely<DB>, uin: string): Promise<Quotas | undefined> {
  const r = await db.selectFrom('accounts').select('quotas').where('uin', '=', uin).executeTakeFirst();
  return r && withOverrides(r.quotas);
}

export interface KeyLookup {
  account: Account;
  secretKey: string;
}

/**
 * Key lookup for every request, cached briefly so the hot path costs no query
 * and no decryption. What the cache may serve stale for up to `ttlMs`: a key's
 * existence and the account's quotas as read-only requests see them. Writes
 * re-read quotas in their own transaction (server.ts), so a raised quota takes
 * effect at once without a query on every read.
 *
 * Unknown SecretIds are remembered apart from known ones, so a flood of made-up
 * IDs can neither evict the real keys nor turn into one query per request;
 * concurrent lookups of one uncached ID share a single query.
 */
export function keyring(store: Store, key: MasterKey, ttlMs = 5_000, maxEntries = 10_000) {
  const known = new Map<string, { at: number; found: KeyLookup }>();
  const unknown = new Map<string, number>();
  const pending = new Map<string, Promise<KeyLookup | undefined>>();

  async function load(secretId: string): Promise<KeyLookup | undefined> {
    const r = await store.db
      .selectFrom('api_keys')
      .innerJoin('accounts', 'accounts.uin', 'api_keys.uin')
      .select(['accounts.uin', 'accounts.app_id', 'accounts.name', 'accounts.quotas', 'api_keys.secret_key_enc'])
      .where('api_keys.secret_id', '=', secretId)
      .executeTakeFirst();
    const now = Date.now();
    if (!r) {
      if (unknown.size >= maxEntries) unknown.clear();
      unknown.set(secretId, now);
      return undefined;
    }
    const found = {
      account: { uin: r.uin, appId: r.app_id, name: r.name, quotas: withOverrides(r.quotas) },
      secretKey: unseal(key, r.secret_key_enc),
    };
    if (known.size >= maxEntries) known.clear();
    known.set(secretId, { at: now, found });
    return found;
  }

  return async (secretId: string): Promise<KeyLookup | undefined> => {
    const now = Date.now();
    const hit = known.get(secretId);
    if (hit && now - hit.at < ttlMs) return hit.found;
    const missAt = unknown.get(secretId);
    if (missAt !== undefined && now - missAt < ttlMs) return undefined;
    let p = pending.get(secretId);
    if (!p) {
      p = load(secretId).finally(() => pending.delete(secretId));
      pending.set(secretId, p);
    }
    return p;
  };
}
