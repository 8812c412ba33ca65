/**
 * tccli-style parameters: `--Name value`, where a value that parses as JSON
 * (numbers, booleans, arrays, objects) is taken as JSON and anything else as
 * a string; `--Name.0 a --Name.1 b` and `--A.B x` build arrays and objects.
 * Pure.
 */
export interface ParsedArgs {
  params: Record<string, unknown>;
  dataDir?: string;
}

export function parseActionArgs(argv: readonly string[]): ParsedArgs {
  const params: Record<string, unknown> = {};
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (!flag.startsWith('--')) throw new Error(`expected --Param value, got \`${flag}\``);
    const eq = flag.indexOf('=');
    const name = eq > 0 ? flag.slice(2, eq) : flag.slice(2);
    const raw = eq > 0 ? flag.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new Error(`--${name} needs a value`);
    if (name === 'data-dir') {
      dataDir = raw;
      continue;
    }
    setPath(params, name.split('.'), parseValue(raw));
  }
  return { params, dataDir };
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

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  let node: Record<string, unknown> | unknown[] = target;
  path.forEach((key, i) => {
    const last = i === path.length - 1;
    const isIndex = /^\d+$/.test(path[i + 1] ?? '');
    const k = Array.isArray(node) ? Number(key) : key;
    const container = node as Record<string | number, unknown>;
    if (last) container[k] = value;
    else {
      container[k] ??= isIndex ? [] : {};
      node = container[k] as Record<string, unknown>;
    }
  });
}
