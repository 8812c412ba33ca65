/**
 * Security group policies as plain data: parsing and validating one policy as
 * Tencent's SecurityGroupPolicy carries it, and the list edits the policy
 * actions perform (insert at an index, delete, replace, move, reset), with the
 * duplicate and quota checks that guard them. Pure: no I/O; errors are
 * `PolicyError` values carrying the Tencent error code, turned into API errors
 * by the caller.
 *
 * A direction's policies are an ordered list evaluated top to bottom, first
 * match wins; `PolicyIndex` is the 0-based position in that list.
 */
import { isIPv6 } from 'node:net';
import { parseCidr, parseIp } from './cidr.js';

export class PolicyError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}
const fail = (code: string, message: string): never => {
  throw new PolicyError(code, message);
};

export const PROTOCOLS = ['TCP', 'UDP', 'ICMP', 'ICMPV6', 'ALL'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const ACTIONS = ['ACCEPT', 'DROP'] as const;
export type PolicyAction = (typeof ACTIONS)[number];
export type Direction = 'Ingress' | 'Egress';

/** One normalised policy. Unused address fields are ''. `port` is 'ALL' or canonical text. */
export interface Policy {
  protocol: Protocol;
  port: string;
  cidr: string;
  ipv6Cidr: string;
  sgRef: string;
  action: PolicyAction;
  description: string;
}

/** A policy as the request carries it (SecurityGroupPolicy of the SDK model, after schema typing). */
export interface PolicyInput {
  PolicyIndex?: number;
  Protocol?: string;
  Port?: string;
  ServiceTemplate?: { ServiceId?: string; ServiceGroupId?: string };
  CidrBlock?: string;
  Ipv6CidrBlock?: string;
  SecurityGroupId?: string;
  AddressTemplate?: { AddressId?: string; AddressGroupId?: string };
  Action?: string;
  PolicyDescription?: string;
  ModifyTime?: unknown;
  Priority?: unknown;
}

export const MAX_DESCRIPTION_CHARS = 100;
const SG_ID = /^sg-[0-9a-z]{8}$/;
const PORT_NUMBER = /^(0|[1-9]\d{0,4})$/;

const present = (s: string | undefined): s is string => s !== undefined && s !== '';
/** Describe answers empty template objects; echoing them back is not "using" a template. */
const templateUsed = (t: object | undefined) => !!t && Object.values(t).some((v) => typeof v === 'string' && v !== '');

// ---------------------------------------------------------------- fields

export function parseProtocol(text: string, path: string): Protocol {
  const p = text.trim().toUpperCase();
  // Tencent also documents GRE; Weft's data plane does not filter it yet, so say so plainly.
  if (p === 'GRE') fail('UnsupportedOperation', `\`${path}\`: Weft does not support GRE policies yet; use ${PROTOCOLS.join(', ')}.`);
  if (!(PROTOCOLS as readonly string[]).includes(p))
    fail('InvalidParameterValue', `The value of parameter \`${path}\` is invalid: \`${text}\` is not one of ${PROTOCOLS.join(', ')} (case-insensitive).`);
  return p as Protocol;
}

export function parseAction(text: string, path: string): PolicyAction {
  const a = text.trim().toUpperCase();
  if (!(ACTIONS as readonly string[]).includes(a))
    fail('InvalidParameterValue', `The value of parameter \`${path}\` is invalid: \`${text}\` is not ACCEPT or DROP.`);
  return a as PolicyAction;
}

/** What a Port text admits: everything, or inclusive ranges (a single port is a range of one). */
export type PortSpec = 'ALL' | readonly (readonly [number, number])[];

function portNumber(s: string, path: string, whole: string): number {
  if (!PORT_NUMBER.test(s))
    fail(
      'InvalidParameterValue.Malformed',
      `The value of parameter \`${path}\` is invalid: \`${whole}\` is not a port (80), a range (8000-8010), a list (80,443) or ALL.`,
    );
  const n = Number(s);
  if (n < 1 || n > 65535) fail('InvalidParameterValue.Range', `The value of parameter \`${path}\` is invalid: port ${n} is outside 1-65535.`);
  return n;
}

/**
 * Parses a Port text into its canonical form: `ALL` (any case), one port
 * `80`, one range `8000-8010` (low <= high), or a list of single ports
 * `80,443` (no repeats). Spaces around items are dropped.
 */
export function parsePort(text: string, path: string): string {
  const t = text.trim();
  if (t.toUpperCase() === 'ALL') return 'ALL';
  if (t.includes(',')) {
    const items = t.split(',').map((x) => x.trim());
    const seen = new Set<number>();
    for (const item of items) {
      if (item.includes('-'))
        fail('InvalidParameterValue.Malformed', `The value of parameter \`${path}\` is invalid: \`${text}\` mixes a range into a port list; give either a list of ports (80,443) or one range (8000-8010).`);
      const n = portNumber(item, path, text);
      if (seen.has(n)) fail('InvalidParameterValue.Duplicate', `The value of parameter \`${path}\` is invalid: port ${n} appears twice in \`${text}\`.`);
      seen.add(n);
    }
    return items.join(',');
  }
  const range = /^(\S+?)\s*-\s*(\S+)$/.exec(t);
  if (range) {
    const lo = portNumber(range[1]!, path, text);
    const hi = portNumber(range[2]!, path, text);
    if (lo > hi) fail('InvalidParameterValue.Range', `The value of parameter \`${path}\` is invalid: the range \`${text}\` starts above its end; write ${hi}-${lo}.`);
    return `${lo}-${hi}`;
  }
  return String(portNumber(t, path, text));
}

/** The ranges a canonical Port text admits (for the data plane and overlap reasoning). */
export function portSpec(port: string): PortSpec {
  if (port === 'ALL') return 'ALL';
  // `80`, `80-90`, `22,80`, and (network ACLs) lists of ranges `22,80-90`.
  return port.split(',').map((part) => {
    const [lo, hi] = part.split('-');
    return [Number(lo), Number(hi ?? lo)] as const;
  });
}

/** IPv4 address or CIDR. `0.0.0.0/n` means everything and is stored as 0.0.0.0/0, as Tencent does. */
export function parseIpv4Cidr(text: string, path: string): string {
  const t = text.trim();
  if (t === 'MY_PUBLIC_IP')
    fail('UnsupportedOperation', `The value of parameter \`${path}\` is invalid: Weft does not resolve MY_PUBLIC_IP; give the address itself.`);
  if (!t.includes('/')) {
    if (parseIp(t) === undefined)
      fail('InvalidParameterValue.Malformed', `The value of parameter \`${path}\` is invalid: \`${text}\` is not an IPv4 address or CIDR block (10.0.0.0/16).`);
    return t;
  }
  const loose = parseCidr(t, false);
  if (!loose)
    fail('InvalidParameterValue.Malformed', `The value of parameter \`${path}\` is invalid: \`${text}\` is not an IPv4 address or CIDR block (10.0.0.0/16).`);
  if (loose!.base === 0 && t.startsWith('0.0.0.0/')) return '0.0.0.0/0';
  if (!parseCidr(t, true)) {
    const [ip] = t.split('/');
    const base = [loose!.base >>> 24, (loose!.base >>> 16) & 255, (loose!.base >>> 8) & 255, loose!.base & 255].join('.');
    fail(
      'InvalidParameterValue.Malformed',
      `The value of parameter \`${path}\` is invalid: \`${text}\` has host bits set; write the network ${base}/${loose!.prefix}, or the single address ${ip}.`,
    );
  }
  return t;
}

/** IPv6 address or CIDR (syntax and prefix length checked), lower-cased. */
export function parseIpv6Cidr(text: string, path: string): string {
  const t = text.trim();
  if (t === 'MY_PUBLIC_IP')
    fail('UnsupportedOperation', `The value of parameter \`${path}\` is invalid: Weft does not resolve MY_PUBLIC_IP; give the address itself.`);
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(t);
  if (!m || !isIPv6(m[1]!) || (m[2] !== undefined && Number(m[2]) > 128))
    fail('InvalidParameterValue.Malformed', `The value of parameter \`${path}\` is invalid: \`${text}\` is not an IPv6 address or CIDR block (2001:db8::/32).`);
  return t.toLowerCase();
}

// ---------------------------------------------------------------- one policy

/**
 * Validates one policy as a request gives it. `path` names it in messages
 * (`SecurityGroupPolicySet.Ingress.0`). Checks, in order: templates (exclusive
 * with the fields they replace, then unsupported), exactly one address,
 * protocol, action, port, address syntax, ICMP/IPv6 consistency, description.
 */
export function parsePolicy(p: PolicyInput, path: string): Policy {
  const at = (k: string) => `${path}.${k}`;
  const addresses = (
    [
      ['CidrBlock', present(p.CidrBlock)],
      ['Ipv6CidrBlock', present(p.Ipv6CidrBlock)],
      ['SecurityGroupId', present(p.SecurityGroupId)],
      ['AddressTemplate', templateUsed(p.AddressTemplate)],
    ] as const
  )
    .filter(([, used]) => used)
    .map(([k]) => k);
  if (addresses.length > 1)
    fail('InvalidParameter.Coexist', `The parameters ${addresses.map((k) => `\`${at(k)}\``).join(', ')} cannot be given together: a policy has exactly one of CidrBlock, Ipv6CidrBlock, SecurityGroupId, AddressTemplate.`);
  const service = templateUsed(p.ServiceTemplate);
  if (service && (present(p.Protocol) || present(p.Port)))
    fail('InvalidParameter.Coexist', `The parameters \`${at('ServiceTemplate')}\` and \`${at(present(p.Protocol) ? 'Protocol' : 'Port')}\` cannot be given together: use Protocol and Port, or ServiceTemplate.`);
  if (addresses[0] === 'AddressTemplate')
    fail('UnsupportedOperation', `\`${at('AddressTemplate')}\`: Weft has no parameter templates (ipm-/ipmg-); give CidrBlock, Ipv6CidrBlock or SecurityGroupId instead.`);
  if (service)
    fail('UnsupportedOperation', `\`${at('ServiceTemplate')}\`: Weft has no parameter templates (ppm-/ppmg-); give Protocol and Port instead.`);
  if (!addresses.length)
    fail('MissingParameter', `The policy \`${path}\` names no peer: give one of \`CidrBlock\`, \`Ipv6CidrBlock\` or \`SecurityGroupId\`.`);
  if (!present(p.Protocol)) fail('MissingParameter', `The request is missing a required parameter \`${at('Protocol')}\`.`);
  if (!present(p.Action)) fail('MissingParameter', `The request is missing a required parameter \`${at('Action')}\`.`);
  const protocol = parseProtocol(p.Protocol!, at('Protocol'));
  const action = parseAction(p.Action!, at('Action'));

  let port = 'ALL';
  if (present(p.Port)) {
    port = parsePort(p.Port, at('Port'));
    if (port !== 'ALL' && protocol !== 'TCP' && protocol !== 'UDP')
      fail('InvalidParameter.Coexist', `The parameter \`${at('Port')}\` (\`${p.Port}\`) cannot be given with Protocol ${protocol}: ports exist only for TCP and UDP; omit Port or give ALL.`);
  }

  let cidr = '';
  let ipv6Cidr = '';
  let sgRef = '';
  if (addresses[0] === 'CidrBlock') cidr = parseIpv4Cidr(p.CidrBlock!, at('CidrBlock'));
  if (addresses[0] === 'Ipv6CidrBlock') ipv6Cidr = parseIpv6Cidr(p.Ipv6CidrBlock!, at('Ipv6CidrBlock'));
  if (addresses[0] === 'SecurityGroupId') {
    sgRef = p.SecurityGroupId!.trim();
    if (!SG_ID.test(sgRef))
      fail('InvalidParameterValue.Malformed', `\`${p.SecurityGroupId}\` in \`${at('SecurityGroupId')}\` is not a valid ID; expected the form sg-xxxxxxxx.`);
  }
  if (protocol === 'ICMP' && ipv6Cidr)
    fail('InvalidParameter.Coexist', `\`${at('Ipv6CidrBlock')}\` cannot be used with Protocol ICMP; for ICMP over IPv6 give Protocol ICMPV6.`);
  if (protocol === 'ICMPV6' && cidr)
    fail('InvalidParameterValue', `The value of parameter \`${at('Protocol')}\` is invalid: ICMPV6 cannot match the IPv4 \`${at('CidrBlock')}\`; use ICMP, or an Ipv6CidrBlock.`);

  const description = p.PolicyDescription ?? '';
  if ([...description].length > MAX_DESCRIPTION_CHARS)
    fail('InvalidParameterValue.TooLong', `The value of parameter \`${at('PolicyDescription')}\` is invalid: at most ${MAX_DESCRIPTION_CHARS} characters.`);
  return { protocol, port, cidr, ipv6Cidr, sgRef, action, description };
}

// ---------------------------------------------------------------- identity

/** What makes two policies the same rule: everything but the description. */
export function contentKey(p: Policy): string {
  const port = p.port.includes(',')
    ? p.port
        .split(',')
        .map(Number)
        .sort((a, b) => a - b)
        .join(',')
    : p.port;
  return [p.protocol, port, p.cidr, p.ipv6Cidr, p.sgRef, p.action].join('|');
}

export const sameContent = (a: Policy, b: Policy) => contentKey(a) === contentKey(b);

/** A policy in a list being edited; `from` names the request field a new one came from. */
export type Entry<T extends Policy = Policy> = T & { from?: string };

const nameOf = (e: Entry, i: number, dir: Direction) => (e.from ? `\`${e.from}\`` : `the existing ${dir} policy at PolicyIndex ${i}`);

/** The first pair of positions holding the same rule, if any. */
export function findDuplicate(list: readonly Policy[]): [number, number] | undefined {
  const seen = new Map<string, number>();
  for (let i = 0; i < list.length; i++) {
    const k = contentKey(list[i]!);
    const j = seen.get(k);
    if (j !== undefined) return [j, i];
    seen.set(k, i);
  }
  return undefined;
}

/**
 * The checks every edited list must pass: no rule twice
 * (UnsupportedOperation.DuplicatePolicy) and at most `limit` policies
 * (LimitExceeded.SecurityGroupPolicySet).
 */
export function checkList(list: readonly Entry[], dir: Direction, limit: number): void {
  const dup = findDuplicate(list);
  if (dup) {
    // Name a policy of the request first: that is the one to fix.
    const [a, b] = list[dup[1]]!.from || !list[dup[0]]!.from ? [dup[1], dup[0]] : dup;
    fail(
      'UnsupportedOperation.DuplicatePolicy',
      `The ${dir} policy ${nameOf(list[a]!, a, dir)} repeats ${nameOf(list[b]!, b, dir)}: same protocol, port, peer and action.`,
    );
  }
  if (list.length > limit)
    fail(
      'LimitExceeded.SecurityGroupPolicySet',
      `A security group holds at most ${limit} ${dir} policies; this change would leave ${list.length}. Delete some first or ask the operator to raise the quota.`,
    );
}

// ---------------------------------------------------------------- list edits

/**
 * Inserts `items` at `index` (0 = front, undefined = append), in the given
 * order; policies at and after `index` move down.
 */
export function insertAt<T>(list: readonly T[], items: readonly T[], index: number | undefined, dir: Direction): T[] {
  const at = index ?? list.length;
  if (!Number.isInteger(at) || at < 0 || at > list.length)
    fail('InvalidParameterValue.Range', `PolicyIndex ${index} is outside the ${dir} list, which has ${list.length} policies: give 0..${list.length}, or omit it to append.`);
  return [...list.slice(0, at), ...items, ...list.slice(at)];
}

/** The one PolicyIndex all policies of a request share (undefined if none gives one). */
export function sharedIndex(items: readonly { PolicyIndex?: number }[], path: string): number | undefined {
  const first = items[0]?.PolicyIndex;
  const odd = items.findIndex((p) => p.PolicyIndex !== first);
  if (odd >= 0)
    fail(
      'InvalidParameterValue',
      `The value of parameter \`${path}.${odd}.PolicyIndex\` is invalid: all policies of one request go in at the same PolicyIndex; give the same PolicyIndex on every policy, or none to append.`,
    );
  return first;
}

function checkIndex(index: number, length: number, path: string, dir: Direction) {
  if (index >= length)
    fail('ResourceNotFound', `\`${path}\`: there is no ${dir} policy at PolicyIndex ${index}; the list has ${length} (0..${length - 1}).`);
}

function checkDistinct(indices: readonly { index: number; path: string }[]) {
  const seen = new Map<number, string>();
  for (const { index, path } of indices) {
    const before = seen.get(index);
    if (before !== undefined)
      fail('InvalidParameterValue.Duplicate', `The value of parameter \`${path}\` is invalid: PolicyIndex ${index} is also given at \`${before}\`.`);
    seen.set(index, path);
  }
}

/** Removes the policies at the given positions (positions of the list before any removal). */
export function deleteAt<T>(list: readonly T[], indices: readonly { index: number; path: string }[], dir: Direction): T[] {
  checkDistinct(indices);
  for (const { index, path } of indices) checkIndex(index, list.length, path, dir);
  const drop = new Set(indices.map((x) => x.index));
  return list.filter((_, i) => !drop.has(i));
}

/** Removes the policy with exactly the content of each item (description ignored). */
export function deleteMatching<T extends Policy>(list: readonly T[], items: readonly Entry[], dir: Direction): T[] {
  const dup = findDuplicate(items);
  if (dup)
    fail('InvalidParameterValue.Duplicate', `\`${items[dup[1]]!.from}\` repeats \`${items[dup[0]]!.from}\`: name each policy to delete once.`);
  const drop = new Set(
    items.map((item) => {
      const i = list.findIndex((p) => sameContent(p, item));
      if (i < 0) fail('ResourceNotFound', `\`${item.from ?? 'policy'}\`: no ${dir} policy has this protocol, port, peer and action.`);
      return i;
    }),
  );
  return list.filter((_, i) => !drop.has(i));
}

/** Puts each item at its position, replacing what was there. */
export function replaceAt<T>(list: readonly T[], items: readonly { index: number; path: string; item: T }[], dir: Direction): T[] {
  checkDistinct(items);
  for (const { index, path } of items) checkIndex(index, list.length, path, dir);
  const out = [...list];
  for (const { index, item } of items) out[index] = item;
  return out;
}

/**
 * Moves policies: each `from` position ends up at its `to` position; the
 * policies not moved keep their relative order in the remaining slots.
 * `replace` optionally gives new content for a moved policy.
 */
export function moveTo<T>(
  list: readonly T[],
  moves: readonly { from: number; to: number; path: string; replace?: T }[],
  dir: Direction,
): T[] {
  checkDistinct(moves.map((m) => ({ index: m.from, path: m.path })));
  checkDistinct(moves.map((m) => ({ index: m.to, path: m.path })));
  for (const m of moves) {
    checkIndex(m.from, list.length, m.path, dir);
    checkIndex(m.to, list.length, m.path, dir);
  }
  const moving = new Set(moves.map((m) => m.from));
  const rest = list.filter((_, i) => !moving.has(i));
  const out: T[] = new Array(list.length);
  const taken = new Set<number>();
  for (const m of moves) {
    out[m.to] = m.replace ?? list[m.from]!;
    taken.add(m.to);
  }
  let r = 0;
  for (let i = 0; i < out.length; i++) if (!taken.has(i)) out[i] = rest[r++]!;
  return out;
}

// ---------------------------------------------------------------- version

/**
 * The optimistic lock of a policy set: absent skips the check, otherwise it
 * must equal the group's current version.
 */
export function checkVersion(given: string | undefined, current: number, path = 'SecurityGroupPolicySet.Version'): void {
  if (given === undefined || given === '') return;
  if (!/^\d+$/.test(given.trim()))
    fail('InvalidParameterValue.Malformed', `The value of parameter \`${path}\` is invalid: \`${given}\` is not a version number.`);
  if (Number(given) !== current)
    fail(
      'UnsupportedOperation.VersionMismatch',
      `\`${path}\` is ${given} but the security group's policies are at version ${current}: they changed since you read them. Describe them again and retry.`,
    );
}
