/**
 * A second controller data dir joining a store that already has its admin
 * (issue 13 item 1): with the region's master key (WEFT_MASTER_KEY) it gets
 * the admin's credentials written, not an error; with another key it stops
 * and says which key to give. The store is shared: PostgreSQL, or on SQLite
 * the first data dir's weft.db file named by --database.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engineName, freshDatabase, run, spawnServer, vpcCommonClient } from '../helpers/region.js';

/** Runs `weft server` until it prints its endpoint, stops it, and gives back what it wrote. */
async function serveOnce(dataDir: string, database: string, masterKey: string) {
  const { proc: p, endpoint } = await spawnServer(['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--database', database], { WEFT_MASTER_KEY: masterKey });
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { SecretId: string; SecretKey: string; Uin: string };
  const vpcs = await vpcCommonClient(endpoint, creds).request('DescribeVpcs', {});
  await new Promise<void>((ok) => {
    p.once('exit', () => ok());
    p.kill('SIGTERM');
  });
  return { creds, vpcs: vpcs as { TotalCount: number } };
}

describe(`a controller data dir joining an existing store (${engineName()})`, () => {
  const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'weft-join-')));
  const key = randomBytes(32).toString('base64');
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let database: string;
  before(async () => {
    db = await freshDatabase();
    database = db?.url ?? join(dirs[0]!, 'weft.db');
  });
  after(async () => {
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('writes the admin credentials the store already has, when it has the master key', async () => {
    const first = await serveOnce(dirs[0]!, database, key);
    const second = await serveOnce(dirs[1]!, database, key);
    assert.deepEqual(
      { id: second.creds.SecretId, key: second.creds.SecretKey, uin: second.creds.Uin },
      { id: first.creds.SecretId, key: first.creds.SecretKey, uin: first.creds.Uin },
    );
    assert.equal(second.vpcs.TotalCount, 0, 'and they work against the second');
  });

  it('stops with a clear message when its master key is another', async () => {
    const r = await run(['server', '--data-dir', dirs[2]!, '--listen', '127.0.0.1:0', '--database', database], { WEFT_MASTER_KEY: randomBytes(32).toString('base64') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /master key the store was made with/);
  });
});
