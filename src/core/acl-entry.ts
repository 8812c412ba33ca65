/**
 * Network ACL entries as plain data: validating one entry as Tencent's
 * NetworkAclEntry (the triple form) carries it, and a direction's list as
 * ModifyNetworkAclEntries replaces it. Pure: errors are `PolicyError` values
 * with the Tencent code, turned into API errors by the caller.
 *
 * A direction's entries are evaluated in order (Priority 1, 2, …), the first
 * that matches decides, and a packet no entry matches is dropped: a new ACL
 * with no entries denies everything in both directions (Tencent's
 * CreateNetworkAcl doc: "新建的网络ACL的入站和出站规则默认都是全部拒绝").
 *
 * Field syntax follows the security group policy parsers, except where the
 * ACL documentation is narrower: no ICMPV6 or GRE protocol, and Port is ALL,
 * one port or one range — no lists.
 */
import { parseAction, parseIpv4Cidr, parseIpv6Cidr, parsePort, PolicyError } from './sg-policy.js';

export const ACL_PROTOCOLS = ['TCP', 'UDP', 'ICMP', 'ALL'] as const;
export type AclProtocol = (typeof ACL_PROTOCOLS)[number];
export type AclDirection = 'Ingress' | 'Egress';

/** One normalised entry; the unused address field is ''. `port` is 'ALL', `80` or `8000-8010`. */
export interface AclEntry {
  protocol: AclProtocol;
  port: string;
  cidr: string;
  ipv6Cidr: string;
  action: 'ACCEPT' | 'DROP';
  description: string;
}

/** An entry as the request carries it (the SDK's NetworkAclEntry); output-only fields are accepted and ignored. */
export interface AclEntryInput {
  Protocol?: string;
  Port?: string;
  CidrBlock?: string;
  Ipv6CidrBlock?: string;
  Action?: string;
  Description?: string;
  ModifyTime?: unknown;
  Priority?: unknown;
  NetworkAclIpv4EntryId?: unknown;
  NetworkAclIpv6EntryId?: unknown;
}

export const MAX_ACL_DESCRIPTION_CHARS = 100;

const fail = (code: string, message: string): never => {
  throw new PolicyError(code, message);
};
const present = (s: string | undefined): s is string => s !== undefined && s !== '';

export function parseAclProtocol(text: string, path: string): AclProtocol {
  const p = text.trim().toUpperCase();
  if (!(ACL_PROTOCOLS as readonly string[]).includes(p))
    fail('InvalidParameterValue', `The value of parameter \`${path}\` is invalid: \`${text}\` is not one of ${ACL_PROTOCOLS.join(', ')} (case-insensitive).`);
  return p as AclProtocol;
}

/**
 * Validates one entry. `path` names it in messages
 * (`NetworkAclEntrySet.Ingress.0`). Required: Protocol, Action, and exactly
 * one of CidrBlock / Ipv6CidrBlock. Port only with TCP or UDP (absent: every
 * port); with ICMP or ALL it must be absent or ALL, as Tencent documents.
 */
export function parseAclEntry(input: AclEntryInput, path: string): AclEntry {
  const at = (k: string) => `${path}.${k}`;
  if (!present(input.Protocol)) fail('MissingParameter', `The entry \`${path}\` is missing \`Protocol\` (TCP, UDP, ICMP or ALL).`);
  if (!present(input.Action)) fail('MissingParameter', `The entry \`${path}\` is missing \`Action\` (ACCEPT or DROP).`);
  const protocol = parseAclProtocol(input.Protocol!, at('Protocol'));
  const action = parseAction(input.Action!, at('Action'));

  const v4 = present(input.CidrBlock);
  const v6 = present(input.Ipv6CidrBlock);
  if (v4 && v6)
    fail('InvalidParameter.Coexist', `The parameters \`${at('CidrBlock')}\` and \`${at('Ipv6CidrBlock')}\` cannot be given together: an entry matches one address family; give two entries.`);
  if (!v4 && !v6) fail('MissingParameter', `The entry \`${path}\` names no peer: give \`CidrBlock\` or \`Ipv6CidrBlock\`.`);
  const cidr = v4 ? parseIpv4Cidr(input.CidrBlock!, at('CidrBlock')) : '';
  const ipv6Cidr = v6 ? parseIpv6Cidr(input.Ipv6CidrBlock!, at('Ipv6CidrBlock')) : '';

  let port = 'ALL';
  if (present(input.Port)) {
    port = parsePort(input.Port, at('Port'));
    if (port.includes(','))
      fail('InvalidParameterValue.Malformed', `The value of parameter \`${at('Port')}\` is invalid: \`${input.Port}\` is a list; an ACL entry takes ALL, one port (80) or one range (8000-8010). Give one entry per port.`);
    if ((protocol === 'ICMP' || protocol === 'ALL') && port !== 'ALL')
      fail('InvalidParameterValue', `The value of parameter \`${at('Port')}\` is invalid: Protocol ${protocol} has no ports; omit Port or use TCP/UDP.`);
  }

  const description = input.Description ?? '';
  if ([...description].length > MAX_ACL_DESCRIPTION_CHARS)
    fail('InvalidParameterValue.TooLong', `The value of parameter \`${at('Description')}\` is invalid: at most ${MAX_ACL_DESCRIPTION_CHARS} characters, ${[...description].length} given.`);
  return { protocol, port, cidr, ipv6Cidr, action, description };
}

/**
 * The new entry list of one direction: the given entries, all validated, in
 * order, within the quota. Any bad entry rejects the whole list.
 */
export function parseAclDirection(inputs: readonly AclEntryInput[], direction: AclDirection, limit: number): AclEntry[] {
  const path = `NetworkAclEntrySet.${direction}`;
  if (inputs.length > limit)
    fail(
      'LimitExceeded',
      `\`${path}\` has ${inputs.length} entries; an ACL holds at most ${limit} ${direction === 'Ingress' ? 'inbound' : 'outbound'} entries. Merge entries or ask the operator to raise the quota.`,
    );
  return inputs.map((e, i) => parseAclEntry(e, `${path}.${i}`));
}
