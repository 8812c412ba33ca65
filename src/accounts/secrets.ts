/**
 * Secret keys at rest. TC3 verification needs the secret key itself (the
 * signing key is derived per date and service), so keys cannot be stored as
 * one-way hashes; they are sealed with AES-256-GCM under the region's master
 * key, which lives outside the database (DATA_DIR/master.key, mode 0600, or
 * WEFT_MASTER_KEY for replicas that share one PostgreSQL).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type MasterKey = Buffer;

/**
 * The region's master key. Only the controller creates one (`create`); the
 * account commands must find the controller's, or the keys they seal would be
 * unreadable to it.
 */
export function loadMasterKey(dataDir: string, o: { create?: boolean } = { create: true }): MasterKey {
  const fromEnv = process.env.WEFT_MASTER_KEY;
  if (fromEnv) return decodeKey(fromEnv, 'WEFT_MASTER_KEY');
  const file = join(dataDir, 'master.key');
  if (!existsSync(file)) {
    if (!o.create) throw new Error(`${file} not found: is --data-dir the controller's data directory?`);
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return decodeKey(readFileSync(file, 'utf8').trim(), file);
}

function decodeKey(text: string, where: string): MasterKey {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`${where}: the master key must be 32 bytes, base64-encoded`);
  return key;
}

export function seal(key: MasterKey, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64'), c.getAuthTag().toString('base64'), body.toString('base64')].join('.');
}

export function unseal(key: MasterKey, sealed: string): string {
  const [v, iv, tag, body] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown sealed secret format');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  d.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(body, 'base64')), d.final()]).toString('utf8');
}
