// Runs the test suite on SQLite, then the tests that touch the store again on
// PostgreSQL when one is reachable (WEFT_TEST_DATABASE, default
// postgres://postgres@127.0.0.1:5432/postgres). In CI (CI=true) a missing
// PostgreSQL is a failure, not a skip. Ends with one combined summary line.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const testFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );
const given = process.argv.slice(2);
const all = given.length ? given : testFiles('dist/test').sort();
// Pure cores and the kernel data plane do not touch the store: once is enough.
const usesStore = (f) => /test\/(api|cli|controller|region|store)\//.test(f);
const pgUrl = process.env.WEFT_TEST_DATABASE ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const totals = { pass: 0, fail: 0 };
// Every skip, test or whole suite, with its reason: the runner's own `# skipped`
// counts tests only, so a skipped describe() would vanish from the total.
const skips = [];

function suite(label, files, env) {
  console.log(`\n== tests on ${label}: ${files.length} file(s) ==`);
  return new Promise((ok) => {
    // The controller's request logs (core/log.ts) would drown the test output: warnings and errors only, unless asked.
    const logLevel = { WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'warn' };
    const p = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...logLevel, ...env } });
    let tail = '';
    let line = '';
    p.stdout.on('data', (d) => {
      process.stdout.write(d);
      tail = (tail + d).slice(-4000);
      const lines = (line + d).split('\n');
      line = lines.pop();
      for (const l of lines) {
        const m = /^\s*ok \d+ - (.*) # SKIP\s*(.*)$/.exec(l);
        if (m) skips.push(`${label}: ${m[1]}${m[2] ? ` (${m[2]})` : ''}`);
      }
    });
    p.on('close', (code) => {
      for (const k of ['pass', 'fail']) totals[k] += Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(tail)?.[1] ?? 0);
      ok(code === 0);
    });
  });
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

let ok = await suite('SQLite', all, { WEFT_TEST_DATABASE: '' });
const pgFiles = all.filter(usesStore);
if (!pgFiles.length) console.log('no test file touches the store: no PostgreSQL run');
else if (await postgresReachable()) ok = (await suite('PostgreSQL', pgFiles, { WEFT_TEST_DATABASE: pgUrl })) && ok;
else if (process.env.CI) {
  console.log('CI requires PostgreSQL: failing.');
  ok = false;
} else console.log('SKIPPED the PostgreSQL run: no server reachable (set WEFT_TEST_DATABASE).');
if (skips.length) console.log(`\nskipped:\n${skips.map((s) => `  ${s}`).join('\n')}`);
console.log(`\nall runs: ${totals.pass} passed, ${totals.fail} failed, ${skips.length} skipped`);
process.exit(ok ? 0 : 1);
