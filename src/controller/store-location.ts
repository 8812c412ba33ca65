/**
 * Where a data dir's store is. SQLite lives in the data dir (weft.db); a
 * controller on PostgreSQL records its URL in the data dir (`store-url`, mode
 * 0600: the URL may carry a password), so that the data-dir commands
 * (`weft account create`, `weft account quota` …) open the same store without
 * being told again.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const urlFile = (dataDir: string) => join(dataDir, 'store-url');
export const sqlitePath = (dataDir: string) => join(dataDir, 'weft.db');

/** The store's URL or path: `database` when given, else the one the data dir's controller recorded, else its SQLite file. */
export function storeLocation(dataDir: string, database?: string): string {
  if (database) return database;
  const f = urlFile(dataDir);
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : sqlitePath(dataDir);
}

/** Records the controller's store in its data dir (nothing to record for SQLite: a URL recorded before goes). */
export function recordStoreLocation(dataDir: string, database?: string): void {
  const f = urlFile(dataDir);
  if (!database) return rmSync(f, { force: true });
  writeFileSync(f, database + '\n', { mode: 0o600 });
  chmodSync(f, 0o600); // `mode` applies only when the file is created
}
