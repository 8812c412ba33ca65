/**
 * A real `weft server` child process for a bench, on SQLite in a temporary
 * data dir or on a fresh PostgreSQL database, and the weft CLI beside it.
 * Everything made here is registered for cleanup, so an interrupted bench
 * leaves no process, directory or database behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { CredentialsFile as Credentials } from '../../src/controller/controller.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
/** The weft entry point the bench runs; `--weft PATH` points it at another build, to compare side by side. */
export let WEFT = join(ROOT, 'dist/src/cli/main.js');
export function useWeft(path: string) {
  WEFT = resolve(path);
}

export type { Credentials };

// ---- cleanup on any exit -------------------------------------------------

const cleanups = new Set<() => Promise<void> | void>();
export function onCleanup(fn: () => Promise<void> | void): () => void {
  cleanups.add(fn);
  return () => void cleanups.delete(fn);
}
/** Runs every registered cleanup, newest first (servers stop before their database is dropped). */
export async function cleanupAll(): Promise<void> {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    try {
      await fn();
    } catch (e) {
      console.error(`cleanup: ${(e as Error).message}`);
    }
  }
}

// ---- places to keep state -------------------------------------------------

export function tempDataDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `weft-bench-${label}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Database {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function postgresReachable(base: string): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A new, empty database on the server of `base`, dropped by `drop()` or at cleanup. */
export async function freshPostgres(base: string, label: string): Promise<Database> {
  const name = `weft_bench_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    unregister();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  const unregister = onCleanup(drop);
  return { url: url.toString(), name, drop };
}

// ---- the weft CLI and server ---------------------------------------------

export function weft(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [WEFT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}

export async function weftOrThrow(args: string[]): Promise<string> {
  const r = await weft(args);
  if (r.code !== 0) throw new Error(`weft ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

export interface ServerOptions {
  dataDir: string;
  database?: string;
  /** Directory for a V8 CPU profile of the whole server lifetime (node --cpu-prof). */
  cpuProfDir?: string;
  /** More node options (before the script) and environment of the server process. */
  nodeArgs?: string[];
  env?: Record<string, string>;
}

export interface RunningServer {
  pid: number;
  /** host:port */
  endpoint: string;
  credentials: Credentials;
  /** SIGTERM, then wait for exit (the profile, if any, is written on exit). */
  stop(): Promise<void>;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const node = [...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []), ...(o.nodeArgs ?? [])];
  const db = o.database ? ['--database', o.database] : [];
  const p: ChildProcess = spawn(
    process.execPath,
    [...node, WEFT, 'server', '--data-dir', o.dataDir, '--listen', '127.0.0.1:0', ...db, '--rate-limit', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } },
  );
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((ok) => p.once('exit', () => ok()));
  const stop = async () => {
    unregister();
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await exited;
  };
  const unregister = onCleanup(stop);
  const endpoint = await new Promise<string>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`weft server printed no endpoint within 30 s: ${stderr}`)), 30_000);
    p.stdout!.on('data', (d) => {
      out += d;
      const m = /endpoint\s+http:\/\/(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`weft server exited with ${code}: ${stderr}`));
    });
  });
  const credentials = JSON.parse(readFileSync(join(o.dataDir, 'credentials.json'), 'utf8')) as Credentials;
  return { pid: p.pid!, endpoint, credentials, stop };
}

/** The newest .cpuprofile in a directory, if any. */
export function latestProfile(dir: string): string | undefined {
  try {
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
    return files.length ? join(dir, files[files.length - 1]!) : undefined;
  } catch {
    return undefined;
  }
}
