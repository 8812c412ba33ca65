/**
 * Request parameter schemas as data. Each schema parses an untrusted JSON value
 * into a typed one or throws the Tencent error a user would get for it:
 * MissingParameter, UnknownParameter, InvalidParameter (wrong type or shape) and
 * InvalidParameterValue (right type, value out of range). Paths are spelled the
 * way Tencent spells them in messages: `Filters.0.Name`.
 */
import { ApiError, invalidParameter, invalidValue, missingParameter, unknownParameter } from './errors.js';

export interface Schema<T> {
  parse(value: unknown, path: string): T;
  readonly optional?: boolean;
  readonly describe: string;
}
export interface Optional<T> extends Schema<T | undefined> {
  readonly optional: true;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;
type Shape = Record<string, Schema<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
};

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const wrongType = (path: string, want: string, got: unknown) =>
  invalidParameter(path, `expected ${want}, got ${typeName(got)}`);

export interface StrOptions {
  min?: number;
  max?: number;
  oneOf?: readonly string[];
  pattern?: RegExp;
  patternHint?: string;
}
export function str(o: StrOptions = {}): Schema<string> {
  return {
    describe: o.oneOf ? o.oneOf.join('|') : 'String',
    parse(v, path) {
      if (typeof v !== 'string') throw wrongType(path, 'a string', v);
      const len = Buffer.byteLength(v);
      if (o.min !== undefined && len < o.min) throw invalidValue(path, `must be at least ${o.min} bytes long`);
      if (o.max !== undefined && len > o.max) throw invalidValue(path, `must be at most ${o.max} bytes long`);
      if (o.oneOf && !o.oneOf.includes(v))
        throw invalidValue(path, `\`${v}\` is not one of ${o.oneOf.map((x) => `\`${x}\``).join(', ')}`);
      if (o.pattern && !o.pattern.test(v))
        throw invalidValue(path, `\`${v}\` is malformed${o.patternHint ? `, expected ${o.patternHint}` : ''}`, 'InvalidParameterValue.Malformed');
      return v;
    },
  };
}

export function int(o: { min?: number; max?: number } = {}): Schema<number> {
  return {
    describe: 'Integer',
    parse(v, path) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(path, 'an integer', v);
      // 1e308 is an integer to JavaScript but no store can bind it (SQLite failed with an InternalError).
      if (!Number.isSafeInteger(v)) throw invalidValue(path, `must be between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`, 'InvalidParameterValue.Range');
      if (o.min !== undefined && v < o.min) throw invalidValue(path, `must be at least ${o.min}`, 'InvalidParameterValue.Range');
      if (o.max !== undefined && v > o.max) throw invalidValue(path, `must be at most ${o.max}`, 'InvalidParameterValue.Range');
      return v;
    },
  };
}

export function bool(): Schema<boolean> {
  return {
    describe: 'Boolean',
    parse(v, path) {
      if (typeof v !== 'boolean') throw wrongType(path, 'a boolean', v);
      return v;
    },
  };
}

/** Tencent passes some flags as the strings "true"/"false" (e.g. EnableMulticast). */
export function boolString(): Schema<boolean> {
  return {
    describe: '"true"|"false"',
    parse(v, path) {
      if (v === 'true' || v === true) return true;
      if (v === 'false' || v === false) return false;
      throw invalidValue(path, 'must be "true" or "false"');
    },
  };
}

export function arr<T>(item: Schema<T>, o: { min?: number; max?: number } = {}): Schema<T[]> {
  return {
    describe: `Array of ${item.describe}`,
    parse(v, path) {
      if (!Array.isArray(v)) throw wrongType(path, 'an array', v);
      if (o.min !== undefined && v.length < o.min) throw invalidValue(path, `must have at least ${o.min} element(s)`);
      if (o.max !== undefined && v.length > o.max)
        throw new ApiError('LimitExceeded', `The parameter \`${path}\` takes at most ${o.max} element(s); ${v.length} were given.`);
      return v.map((x, i) => item.parse(x, `${path}.${i}`));
    },
  };
}

export function obj<S extends Shape>(shape: S): Schema<ObjectOf<S>> & { shape: S } {
  return {
    shape,
    describe: 'Object',
    parse(v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(path || 'body', 'an object', v);
      const input = v as Record<string, unknown>;
      const at = (k: string) => (path ? `${path}.${k}` : k);
      // Own keys only: `constructor` or `__proto__` in a body must not pass as known parameters.
      for (const k of Object.keys(input)) if (!Object.hasOwn(shape, k)) throw unknownParameter(at(k));
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(shape)) {
        const x = input[k];
        // The official SDKs drop null fields before sending; treat an explicit null the same way.
        if (x === undefined || x === null) {
          if (!s.optional) throw missingParameter(at(k));
          continue;
        }
        out[k] = s.parse(x, at(k));
      }
      return out as ObjectOf<S>;
    },
  };
}

export function opt<T>(s: Schema<T>): Optional<T> {
  return { describe: s.describe, optional: true, parse: (v, p) => s.parse(v, p) };
}

/** Any JSON value, accepted and ignored (parameters Weft accepts for compatibility but has no use for). */
export function any(): Schema<unknown> {
  return { describe: 'Any', parse: (v) => v };
}

/** Tencent's Filters: [{Name, Values}], with the names an action supports. */
export interface Filter {
  Name: string;
  Values: string[];
}
/** The codes of Filters faults; actions whose documented codes differ (DescribeAddresses) name their own. */
export interface FilterCodes {
  unknownName: string;
  tooManyFilters: string;
  tooManyValues: string;
}
const FILTER_CODES: FilterCodes = { unknownName: 'InvalidParameter.FilterInvalidKey', tooManyFilters: 'LimitExceeded', tooManyValues: 'LimitExceeded' };
const MAX_FILTERS = 10;
const MAX_FILTER_VALUES = 100;

export function filters(names: readonly string[], o: { prefixes?: readonly string[]; codes?: Partial<FilterCodes> } = {}): Schema<Filter[]> {
  const codes = { ...FILTER_CODES, ...o.codes };
  const one = obj({ Name: str(), Values: arr(str()) });
  const tooMany = (code: string, path: string, max: number, n: number) =>
    new ApiError(code, `The parameter \`${path}\` takes at most ${max} element(s); ${n} were given.`);
  return {
    describe: `Array of Filter (${names.join(', ')})`,
    parse(v, path) {
      if (Array.isArray(v) && v.length > MAX_FILTERS) throw tooMany(codes.tooManyFilters, path, MAX_FILTERS, v.length);
      const list = arr(one).parse(v, path);
      list.forEach((f, i) => {
        if (f.Values.length > MAX_FILTER_VALUES) throw tooMany(codes.tooManyValues, `${path}.${i}.Values`, MAX_FILTER_VALUES, f.Values.length);
        if (!names.includes(f.Name) && !(o.prefixes ?? []).some((p) => f.Name.startsWith(p)))
          throw new ApiError(codes.unknownName, `The filter name \`${f.Name}\` at \`${path}.${i}.Name\` is not supported; supported: ${names.join(', ')}.`);
      });
      return list;
    },
  };
}

/** Values of one named filter, or undefined when the filter is absent. */
export function filterValues(fs: readonly Filter[] | undefined, name: string): string[] | undefined {
  const hits = (fs ?? []).filter((f) => f.Name === name);
  return hits.length ? hits.flatMap((f) => f.Values) : undefined;
}

export const idOf = (prefix: string) => new RegExp(`^${prefix}-[0-9a-z]{8}$`);

/**
 * An integer that the official models type as a string in some actions
 * (DescribeVpcs' Offset and Limit) and as a number in others: both accepted.
 */
export function intish(o: { min?: number; max?: number } = {}): Schema<number> {
  const n = int(o);
  return {
    describe: 'Integer',
    parse(v, path) {
      if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return n.parse(Number(v), path);
      return n.parse(v, path);
    },
  };
}

/** Offset/Limit as most Describe actions take them (Limit default 20, max 100). */
export const paging = { Offset: opt(intish({ min: 0 })), Limit: opt(intish({ min: 0, max: 100 })) };
