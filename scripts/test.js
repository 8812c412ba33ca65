// Runs the whole test suite on SQLite, then again on PostgreSQL when one is
// reachable (WEFT_TEST_DATABASE, default postgres://postgres@127.0.0.1:5432/postgres).
// In CI (CI=true) a missing PostgreSQL is a failure, not a skip.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const testFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );
const files = process.argv.slice(2);
const targets = files.length ? files : testFiles('dist/test').sort();
const pgUrl = process.env.WEFT_TEST_DATABASE ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function suite(label, env) {
  console.log(`\n== tests on ${label} ==`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...targets], { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

async function postgresReachable() {
  const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch (e) {
    console.log(`PostgreSQL at ${pgUrl} is not reachable: ${e.message}`);
    return false;
  }
}

let ok = suite('SQLite', { WEFT_TEST_DATABASE: '' });
if (await postgresReachable()) ok = suite('PostgreSQL', { WEFT_TEST_DATABASE: pgUrl }) && ok;
else if (process.env.CI) {
  console.log('CI requires PostgreSQL: failing.');
  ok = false;
} else console.log('SKIPPED the PostgreSQL run: no server reachable (set WEFT_TEST_DATABASE).');
process.exit(ok ? 0 : 1);
