/**
 * tccli-style parameters: `--Name value`, where a value that parses as JSON
 * (numbers, booleans, arrays, objects) is taken as JSON and anything else as
 * a string; `--Name.0 a --Name.1 b` and `--A.B x` build arrays and objects.
 * `--data-dir`, `--endpoint` and `--region` are the client's own options.
 *
 * A bare number or boolean is only a guess (`--VpcName 2024` means the string):
 * `preferStrings` turns guesses back into the text typed wherever the action's
 * schema rejects them. Pure.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A value typed as text that was read as a JSON number, boolean or null. */
export interface Guess {
  path: string[];
  raw: string;
}

/** A value that looks like JSON (starts with `{` or `[`) but does not parse: kept as text, with the parser's complaint. */
export interface NotJson {
  path: string[];
  raw: string;
  error: string;
}

export interface ParsedArgs {
  params: Record<string, unknown>;
  guesses: Guess[];
  /** Taken as strings; an error wherever the action wants an object or a list (`notJsonError`). */
  notJson: NotJson[];
  dataDir?: string;
  endpoint?: string;
  region?: string;
  help: boolean;
}

const OPTIONS = { 'data-dir': 'dataDir', endpoint: 'endpoint', region: 'region' } as const;
/** Keys that would reach Object.prototype instead of a parameter. */
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

export function parseActionArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { params: {}, guesses: [], notJson: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') {
      out.help = true;
      continue;
    }
    if (!flag.startsWith('--') || flag.length === 2) throw new UsageError(`expected --Param value, got \`${flag}\``);
    const eq = flag.indexOf('=');
    const name = eq > 0 ? flag.slice(2, eq) : flag.slice(2);
    const raw = eq > 0 ? flag.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    if (name in OPTIONS) {
      out[OPTIONS[name as keyof typeof OPTIONS]] = raw;
      continue;
    }
    const path = name.split('.');
    if (path.some((k) => k === '' || FORBIDDEN.has(k))) throw new UsageError(`--${name} is not a parameter name`);
    const value = parseValue(raw);
    const error = value === raw ? jsonError(raw) : undefined;
    if (error !== undefined) out.notJson.push({ path, raw, error });
    if (value !== raw && (value === null || typeof value !== 'object')) out.guesses.push({ path, raw });
    setPath(out.params, path, value, name);
  }
  checkNoHoles(out.params, '');
  return out;
}

function parseValue(raw: string): unknown {
  const t = raw.trim();
  if (/^[[{]/.test(t) || /^(true|false|null|-?\d+(\.\d+)?)$/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      /* not JSON after all: a string */
    }
  }
  return raw;
}

/** Why a value starting with `{` or `[` is not JSON; undefined for any other value. */
function jsonError(raw: string): string | undefined {
  if (!/^\s*[[{]/.test(raw)) return undefined;
  try {
    JSON.parse(raw);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * The usage error for the first value that looks like JSON but is not, where
 * `structured` says the parameter at its path takes an object or a list
 * (a string parameter may well start with `[`).
 */
export function notJsonError(notJson: readonly NotJson[], structured: (path: readonly string[]) => boolean): UsageError | undefined {
  const bad = notJson.find((n) => structured(n.path));
  return bad && new UsageError(`\`--${bad.path.join('.')}\` is not valid JSON: ${bad.error} (got ${bad.raw})`);
}

type Node = Record<string, unknown> | unknown[];
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null;

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown, flag: string) {
  let node: Node = target;
  path.forEach((key, i) => {
    const container = node as Record<string, unknown>;
    if (Array.isArray(node) && !/^\d+$/.test(key))
      throw new UsageError(`--${flag}: \`${path.slice(0, i).join('.')}\` is a list, so \`${key}\` must be an index (0, 1, …)`);
    if (i === path.length - 1) {
      if (container[key] !== undefined) throw new UsageError(`--${flag} sets \`${path.join('.')}\` a second time`);
      container[key] = value;
      return;
    }
    const next = container[key];
    if (next === undefined) container[key] = /^\d+$/.test(path[i + 1]!) ? [] : {};
    else if (!isNode(next))
      throw new UsageError(`--${flag}: \`${path.slice(0, i + 1).join('.')}\` already has the value ${JSON.stringify(next)}, it cannot also have members`);
    node = container[key] as Node;
  });
}

/** `--A.0 x --A.2 y` leaves A.1 empty: say so instead of sending a null. */
function checkNoHoles(v: unknown, at: string) {
  if (!isNode(v)) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw new UsageError(`\`${at}.${i}\` is missing: list elements are numbered from 0 without gaps`);
      checkNoHoles(v[i], `${at}.${i}`);
    }
  } else for (const [k, x] of Object.entries(v)) checkNoHoles(x, at ? `${at}.${k}` : k);
}

/**
 * Turns guessed numbers and booleans back into the text typed where the action
 * rejects them. `problem` validates the parameters as the server would and
 * returns the error message (which names the offending parameter in
 * backquotes, e.g. `VpcName`), or undefined when they are acceptable.
 */
export function preferStrings(
  params: Record<string, unknown>,
  guesses: readonly Guess[],
  problem: (params: Record<string, unknown>) => string | undefined,
): Record<string, unknown> {
  const out = structuredClone(params);
  const left = [...guesses];
  for (;;) {
    const message = problem(out);
    if (message === undefined) return out;
    const i = left.findIndex((g) => message.includes(`\`${g.path.join('.')}\``));
    if (i < 0) return out;
    const [g] = left.splice(i, 1);
    let node = out as Record<string, unknown>;
    for (const k of g!.path.slice(0, -1)) node = node[k] as Record<string, unknown>;
    node[g!.path.at(-1)!] = g!.raw;
  }
}
