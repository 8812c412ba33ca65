/**
 * The store of a data dir, for the commands that read or write it directly
 * (accounts, `weft status` without a controller, `weft flowlogs`): --database,
 * else what the data dir's controller recorded (controller/store-location.ts).
 * Refusing when neither is there and no SQLite file exists keeps a forgotten
 * --database from quietly creating a second, empty store.
 */
import { existsSync } from 'node:fs';
import { sqlitePath, storeLocation } from '../controller/store-location.js';
import { openStore, type Store } from '../store/store.js';
import { UsageError } from './args.js';

/** `also`: more of why, added to the refusal (e.g. that the controller does not answer either). */
export function openDataDirStore(dataDir: string, database?: string, also?: string): Promise<Store> {
  const url = storeLocation(dataDir, database);
  if (url === sqlitePath(dataDir) && !existsSync(url))
    throw new UsageError(`no store in ${dataDir} (${url} not found, no PostgreSQL URL recorded): is it a controller's data dir? Pass --database URL otherwise${also ? `; and ${also}` : ''}`);
  return openStore(url);
}
