/**
 * Thin wrappers over the tools that program the kernel: `ip`, `bridge`, `nft`
 * and `sysctl`, run as argument arrays (never through a shell), optionally
 * inside a network namespace. Failures throw CommandError carrying the
 * command line and what the tool printed on stderr.
 */
import { spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    detail?: string,
  ) {
    super(`${argv.join(' ')} failed (${exitCode === null ? 'killed' : `exit ${exitCode}`}): ${detail ?? (stderr.trim() || 'no output')}`);
    this.name = 'CommandError';
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin (batch input). */
  input?: string;
  timeoutMs?: number;
}

/** Runs argv[0] with argv[1..]; rejects with CommandError on a non-zero exit. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CommandError(argv, null, String(e)));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(argv, code, stderr, batchFailures(stderr, opts.input)));
    });
    // A tool that exits early closes its stdin; the resulting EPIPE is not the error to report.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * `ip -batch` and `bridge -batch` report failures as "Command failed -:N";
 * name the failing lines so the error says what was refused, not just where.
 */
export function batchFailures(stderr: string, input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  const lines = input.split('\n');
  const failed = [...stderr.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1]));
  if (failed.length === 0) return undefined;
  const messages = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('Command failed'));
  return `${failed.map((n) => `line ${n} "${lines[n - 1] ?? ''}"`).join('; ')}: ${messages.join(' | ')}`;
}

const nsArgs = (ns: string | null | undefined) => (ns ? ['-n', ns] : []);
const inNs = (ns: string | null | undefined, argv: string[]) => (ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv);

/** `ip [-n ns] args…` */
export const ip = (ns: string | null | undefined, args: string[]) => run(['ip', ...nsArgs(ns), ...args]);

/** `ip [-n ns] -j args…`, parsed. An empty answer is an empty list. */
export async function ipJson<T = unknown>(ns: string | null | undefined, args: string[]): Promise<T[]> {
  const { stdout } = await run(['ip', ...nsArgs(ns), '-j', ...args]);
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

/**
 * Several `ip -j -d` queries in one process: `ip -batch` prints one JSON
 * document per command, each on its own line.
 */
export async function ipJsonBatch(ns: string | null | undefined, commands: string[]): Promise<unknown[][]> {
  const input = commands.join('\n') + '\n';
  const { stdout } = await run(['ip', ...nsArgs(ns), '-j', '-d', '-batch', '-'], { input });
  return parseJsonLines(stdout, commands.length, `ip -n ${ns} -j -batch`);
}

export function parseJsonLines(stdout: string, expected: number, what: string): unknown[][] {
  const docs = stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown[]);
  if (docs.length !== expected) throw new Error(`${what}: expected ${expected} JSON documents, got ${docs.length}`);
  return docs;
}

/**
 * `ip [-n ns] -force -batch -`: every line is tried (so one refusal does not
 * hide the others) and any failure rejects, naming the failed lines.
 */
export async function ipBatch(ns: string | null | undefined, lines: string[]): Promise<void> {
  if (lines.length) await run(['ip', ...nsArgs(ns), '-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/**
 * `ip -force -batch -` inside a namespace entered with `nsenter --net`, for
 * batches that only speak netlink (addresses, links, routes). `ip -n` also
 * unshares a mount namespace and remounts /sys in it; the unshare copies every
 * mount of the machine, each /run/netns/* included, so with a thousand
 * instance namespaces it costs ~4 ms of kernel time per call against ~1 ms.
 */
export async function ipBatchNetlink(ns: string, lines: string[]): Promise<void> {
  if (lines.length) await run(['nsenter', `--net=${netnsPath(ns)}`, 'ip', '-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** `ip -j args…` inside a namespace entered with `nsenter --net` (see ipBatchNetlink), parsed. */
export async function ipJsonNetlink<T = unknown>(ns: string, args: string[]): Promise<T[]> {
  const { stdout } = await run(['nsenter', `--net=${netnsPath(ns)}`, 'ip', '-j', ...args]);
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

/** Where `ip netns` keeps a named namespace. */
export const netnsPath = (ns: string) => `/run/netns/${ns}`;

export async function bridgeJson<T = unknown>(ns: string | null | undefined, args: string[]): Promise<T[]> {
  const { stdout } = await run(['bridge', ...nsArgs(ns), '-j', ...args]);
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

export async function bridgeBatch(ns: string | null | undefined, lines: string[]): Promise<void> {
  if (lines.length) await run(['bridge', ...nsArgs(ns), '-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** `tc -batch`: lines in order, the first failure stops it. */
export async function tcBatch(ns: string | null | undefined, lines: string[]): Promise<void> {
  if (lines.length) await run(['tc', ...nsArgs(ns), '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** Loads a ruleset with `nft -f -`: one transaction, all or nothing. */
export async function nftApply(ns: string | null | undefined, text: string): Promise<void> {
  await run(inNs(ns, ['nft', '-f', '-']), { input: text });
}

/** `nft -j args…` → the `nftables` array of the answer. */
export async function nftJson(ns: string | null | undefined, args: string[]): Promise<unknown[]> {
  const { stdout } = await run(inNs(ns, ['nft', '-j', ...args]));
  if (!stdout.trim()) return [];
  const doc = JSON.parse(stdout) as { nftables?: unknown[] };
  return doc.nftables ?? [];
}

/** Reads sysctls; keys that do not exist (yet) are absent from the answer. */
export async function sysctlRead(ns: string | null | undefined, keys: string[]): Promise<Record<string, string>> {
  if (!keys.length) return {};
  const { stdout } = await run(inNs(ns, ['sysctl', '-e', ...keys]));
  return parseSysctl(stdout);
}

export function parseSysctl(stdout: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\S+)\s*=\s*(.*)$/.exec(line);
    if (m) values[m[1]!] = m[2]!.trim();
  }
  return values;
}

/** Writes `key=value` settings. */
export async function sysctlWrite(ns: string | null | undefined, settings: string[]): Promise<void> {
  if (settings.length) await run(inNs(ns, ['sysctl', '-q', '-w', ...settings]));
}

/** Names of all named network namespaces (/run/netns). */
export async function listNetns(): Promise<string[]> {
  const list = await ipJson<{ name: string }>(null, ['netns', 'list']);
  return list.map((n) => n.name);
}

export const netnsAdd = (name: string) => run(['ip', 'netns', 'add', name]);

/**
 * Creates namespaces, those that exist already left as they are. One
 * `ip -batch` for all of them: a process per namespace costs ~10 ms here,
 * which for a host's first thousand instances was most of the apply.
 */
export async function netnsAddAll(names: string[]): Promise<void> {
  if (!names.length) return;
  try {
    await run(['ip', '-force', '-batch', '-'], { input: names.map((n) => `netns add ${n}\n`).join('') });
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    // Some line was refused: one by one, so only a namespace that really exists is forgiven.
    for (const n of names)
      await netnsAdd(n).catch((err: unknown) => {
        if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw err;
      });
  }
}

export const netnsDel = (name: string) => run(['ip', 'netns', 'del', name]);
