/**
 * What an operator meets around `weft up`, `weft down` and `weft exec` on the
 * sim data plane (no namespaces, no root): the data dir's lock, precise
 * errors, honest reports.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engineName, freshDatabase, run, WEFT } from '../helpers/region.js';

/** Runs weft; a process still running after `ms` is killed and reported as such (code -1). */
function runFor(args: string[], ms: number) {
  return new Promise<{ code: number; stdout: string; stderr: string; killed: boolean }>((ok) => {
    const p = spawn(process.execPath, [WEFT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      p.kill('SIGTERM');
    }, ms);
    p.on('close', (code) => {
      clearTimeout(timer);
      ok({ code: code ?? -1, stdout, stderr, killed });
    });
  });
}

/** A pid no process has any more. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '0']);
  await new Promise((ok) => p.on('exit', ok));
  return p.pid!;
}

describe(`weft up, down and exec for an operator (${engineName()})`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-ops-'));
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let dbArgs: string[] = [];
  const upArgs = () => ['up', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--hosts', '1', '--dataplane', 'sim', ...dbArgs];

  before(async () => {
    db = await freshDatabase();
    dbArgs = db ? ['--database', db.url] : [];
  });
  after(async () => {
    await run(['down', '--data-dir', dataDir]);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a second weft up on a data dir whose region runs, and weft down still stops it', async () => {
    const first = await run([...upArgs(), '--detach']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const creds = readFileSync(join(dataDir, 'credentials.json'), 'utf8');
    const runJson = readFileSync(join(dataDir, 'run.json'), 'utf8');
    const { pid } = JSON.parse(runJson) as { pid: number };

    for (const detach of [[], ['--detach']]) {
      const second = await runFor([...upArgs(), ...detach], 20_000);
      assert.ok(!second.killed, `the second weft up ${detach.join('')} did not stop: ${second.stdout}`);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`a region is already running in ${dataDir} \\(weft up, pid ${pid}\\)`));
      assert.match(second.stderr, /weft down --data-dir/);
      assert.equal(readFileSync(join(dataDir, 'credentials.json'), 'utf8'), creds, 'credentials.json untouched');
      assert.equal(readFileSync(join(dataDir, 'run.json'), 'utf8'), runJson, 'run.json untouched');
    }

    const down = await run(['down', '--data-dir', dataDir]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`stopped process ${pid}`));
    assert.ok(!existsSync(join(dataDir, 'run.json')));
    assert.ok(!existsSync(join(dataDir, 'up.lock')), 'the lock is gone with the region');
  });

  it('takes over the lock of a weft up that died', async () => {
    writeFileSync(join(dataDir, 'up.lock'), `${await deadPid()}\n`);
    const up = await run([...upArgs(), '--detach']);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    const { pid } = JSON.parse(readFileSync(join(dataDir, 'run.json'), 'utf8')) as { pid: number };
    assert.equal(Number(readFileSync(join(dataDir, 'up.lock'), 'utf8')), pid, 'the lock now holds the running weft up');
    const down = await run(['down', '--data-dir', dataDir]);
    assert.equal(down.code, 0, down.stderr);
  });
});
