/**
 * What each security-group policy action does to a group's two policy lists,
 * as one pure function of the request body: the same edits, checks and error
 * codes as the actions in src/api/vpc/security-groups.ts (semantics:
 * docs/security-groups.md), without the store. The what-if of the packet
 * tracer uses it to apply a proposed change in memory.
 *
 * Not checked here (they need the store): that the group and the groups
 * policies reference belong to the caller.
 */
import {
  checkList,
  checkVersion,
  deleteAt,
  deleteMatching,
  insertAt,
  moveTo,
  parsePolicy,
  PolicyError,
  replaceAt,
  sharedIndex,
  type Direction,
  type Entry,
  type Policy,
  type PolicyInput,
} from './sg-policy.js';

export const DIRECTIONS: readonly Direction[] = ['Ingress', 'Egress'];
export type PolicyLists = Record<Direction, Policy[]>;

export const POLICY_ACTIONS = [
  'CreateSecurityGroupPolicies',
  'DeleteSecurityGroupPolicies',
  'ReplaceSecurityGroupPolicy',
  'ReplaceSecurityGroupPolicies',
  'ModifySecurityGroupPolicies',
] as const;
export type PolicyActionName = (typeof POLICY_ACTIONS)[number];

export interface PolicySetInput {
  Version?: string;
  Ingress?: PolicyInput[];
  Egress?: PolicyInput[];
}

/** The body of one of the policy actions (fields as the SDK models name them). */
export interface PolicyRequest {
  SecurityGroupId: string;
  SecurityGroupPolicySet: PolicySetInput;
  OriginalSecurityGroupPolicySet?: PolicySetInput;
  UpdateType?: string;
  SortPolicys?: boolean;
}

const SET = 'SecurityGroupPolicySet';
const fail = (code: string, message: string): never => {
  throw new PolicyError(code, message);
};

function oneDirection(set: PolicySetInput): Direction {
  const given = DIRECTIONS.filter((d) => set[d]?.length);
  if (given.length > 1)
    fail('InvalidParameter.Coexist', `\`${SET}.Ingress\` and \`${SET}.Egress\` cannot be given together: one request acts on one direction.`);
  if (!given.length) fail('InvalidParameterValue.Empty', `\`${SET}\` carries no policy: give \`${SET}.Ingress\` or \`${SET}.Egress\`.`);
  return given[0]!;
}

const parseList = (items: readonly PolicyInput[] | undefined, dir: Direction, path = SET): Entry[] =>
  (items ?? []).map((p, i) => ({ ...parsePolicy(p, `${path}.${dir}.${i}`), from: `${path}.${dir}.${i}` }));

function requireIndexes(items: readonly PolicyInput[], path: string) {
  const i = items.findIndex((x) => x.PolicyIndex === undefined);
  if (i >= 0) fail('MissingParameter', `The request is missing a required parameter \`${path}.${i}.PolicyIndex\`.`);
}

/**
 * The lists after `action` with body `req`, for the directions it changes
 * (a direction it leaves alone is absent). `version` is the group's current
 * Version (checked when the request carries one and the action checks it);
 * `limit` the account's policies-per-direction quota. Throws PolicyError.
 */
export function editPolicyLists(
  action: PolicyActionName,
  req: PolicyRequest,
  lists: PolicyLists,
  o: { version?: number; limit?: number } = {},
): Partial<Record<Direction, Entry[]>> {
  const set = req.SecurityGroupPolicySet;
  const checkVersionOf = (s: PolicySetInput) => {
    if (o.version !== undefined) checkVersion(s.Version, o.version);
    else if (s.Version !== undefined && s.Version !== '' && !/^\d+$/.test(s.Version.trim()))
      fail('InvalidParameterValue.Malformed', `The value of parameter \`${SET}.Version\` is invalid: \`${s.Version}\` is not a version number.`);
  };
  let next: Partial<Record<Direction, Entry[]>>;
  switch (action) {
    case 'CreateSecurityGroupPolicies': {
      const dir = oneDirection(set);
      const index = sharedIndex(set[dir]!, `${SET}.${dir}`);
      checkVersionOf(set);
      next = { [dir]: insertAt(lists[dir], parseList(set[dir], dir), index, dir) };
      break;
    }
    case 'DeleteSecurityGroupPolicies': {
      const dir = oneDirection(set);
      const items = set[dir]!;
      const byIndex = items.filter((x) => x.PolicyIndex !== undefined).length;
      if (byIndex && byIndex !== items.length)
        fail('InvalidParameter.Coexist', `\`${SET}.${dir}\` mixes deletion by PolicyIndex with deletion by content; use one way per request.`);
      const contents = byIndex ? [] : parseList(items, dir);
      checkVersionOf(set);
      next = {
        [dir]: byIndex
          ? deleteAt(lists[dir], items.map((x, i) => ({ index: x.PolicyIndex!, path: `${SET}.${dir}.${i}.PolicyIndex` })), dir)
          : deleteMatching(lists[dir], contents, dir),
      };
      break;
    }
    case 'ReplaceSecurityGroupPolicy': {
      const dir = oneDirection(set);
      const items = set[dir]!;
      if (items.length > 1)
        fail('InvalidParameter', `\`${SET}.${dir}\` has ${items.length} policies; ReplaceSecurityGroupPolicy replaces one (use ReplaceSecurityGroupPolicies for several).`);
      requireIndexes(items, `${SET}.${dir}`);
      checkVersionOf(set);
      next = { [dir]: replaceAt(lists[dir], [{ index: items[0]!.PolicyIndex!, path: `${SET}.${dir}.0.PolicyIndex`, item: parseList(items, dir)[0]! }], dir) };
      break;
    }
    case 'ReplaceSecurityGroupPolicies': {
      const dir = oneDirection(set);
      const items = set[dir]!;
      const path = `${SET}.${dir}`;
      requireIndexes(items, path);
      const type = req.UpdateType ?? 'Policy';
      if (!['Policy', 'Priority', 'Both'].includes(type))
        fail('InvalidParameterValue', `The value of parameter \`UpdateType\` is invalid: \`${type}\` is not one of \`Policy\`, \`Priority\`, \`Both\`.`);
      if (type === 'Policy') {
        checkVersionOf(set);
        const parsed = parseList(items, dir);
        next = { [dir]: replaceAt(lists[dir], items.map((x, i) => ({ index: x.PolicyIndex!, path: `${path}.${i}.PolicyIndex`, item: parsed[i]! })), dir) };
        break;
      }
      const original = req.OriginalSecurityGroupPolicySet?.[dir];
      if (!original) return fail('MissingParameter', `The request is missing a required parameter \`OriginalSecurityGroupPolicySet.${dir}\`.`);
      if (original.length !== items.length)
        fail(
          'InvalidParameterValue',
          `The value of parameter \`OriginalSecurityGroupPolicySet.${dir}\` is invalid: must list as many policies as \`${path}\` (${items.length}), in the same order.`,
        );
      requireIndexes(original, `OriginalSecurityGroupPolicySet.${dir}`);
      checkVersionOf(set);
      const parsed = type === 'Both' ? parseList(items, dir) : undefined;
      const moves = items.map((x, i) => ({ from: original[i]!.PolicyIndex!, to: x.PolicyIndex!, path: `${path}.${i}.PolicyIndex`, replace: parsed?.[i] }));
      next = { [dir]: moveTo<Policy>(lists[dir], moves, dir) };
      break;
    }
    case 'ModifySecurityGroupPolicies': {
      // Version "0" clears both directions; any other Version is not checked.
      if (set.Version !== undefined && set.Version !== '' && !/^\d+$/.test(set.Version.trim()))
        fail('InvalidParameterValue.Malformed', `The value of parameter \`${SET}.Version\` is invalid: \`${set.Version}\` is not a version number.`);
      if (set.Version !== undefined && set.Version.trim() === '0') return { Ingress: [], Egress: [] };
      if (!DIRECTIONS.some((d) => set[d]?.length))
        fail('InvalidParameterValue.Empty', `\`${SET}\` carries no policy; give Ingress and/or Egress, or Version "0" to clear all policies.`);
      for (const d of DIRECTIONS) {
        const i = (set[d] ?? []).findIndex((x) => x.PolicyIndex !== undefined);
        if (i >= 0)
          fail('UnsupportedOperation', `\`${SET}.${d}.${i}.PolicyIndex\`: ModifySecurityGroupPolicies takes no PolicyIndex; the order of the list is the order of the policies.`);
      }
      next = {};
      for (const d of DIRECTIONS) if (set[d] !== undefined) next[d] = parseList(set[d], d);
      break;
    }
    default:
      return fail('InvalidParameterValue', `\`${String(action)}\` is not a security group policy action; expected one of ${POLICY_ACTIONS.join(', ')}.`);
  }
  for (const d of DIRECTIONS) if (next[d]) checkList(next[d] as Entry[], d, o.limit ?? Number.MAX_SAFE_INTEGER);
  return next;
}
