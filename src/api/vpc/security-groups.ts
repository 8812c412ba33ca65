/**
 * Security groups and their policies (vpc 2017-03-12): CreateSecurityGroup,
 * CreateSecurityGroupWithPolicies, DescribeSecurityGroups,
 * ModifySecurityGroupAttribute, DeleteSecurityGroup, CreateSecurityGroupPolicies,
 * DescribeSecurityGroupPolicies, DeleteSecurityGroupPolicies,
 * ReplaceSecurityGroupPolicies, ReplaceSecurityGroupPolicy,
 * ModifySecurityGroupPolicies.
 *
 * Policy parsing and list edits live in the pure core (core/sg-policy.ts),
 * the queries in store/security-groups.ts; this module is the API's rules: it
 * loads a group's lists, applies an edit inside one transaction, checks
 * references, stores the changed directions and bumps the group's Version.
 * Semantics decisions: docs/security-groups.md.
 */
import type {
  SecurityGroup,
  SecurityGroupPolicy,
  SecurityGroupPolicySet,
} from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { newId } from '../../core/ids.js';
import { editPolicyLists, type PolicyActionName, type PolicyRequest } from '../../core/sg-edits.js';
import {
  checkList,
  insertAt,
  parsePolicy,
  PolicyError,
  sharedIndex,
  type Direction,
  type Entry,
  type PolicyInput,
} from '../../core/sg-policy.js';
import type { SecurityGroupsTable } from '../../store/schema.js';
import {
  deleteGroup,
  groupPage,
  groupUsers,
  groupWithPolicies,
  insertGroup,
  loadPolicyLists,
  ownGroups,
  savePolicyEdit,
  updateGroup,
  type GroupRow,
  type StoredPolicy,
} from '../../store/security-groups.js';
import type { Write } from '../../store/store.js';
import { defineAction, type Ctx } from '../action.js';
import { checkIds, deleteTags, page, requestTags, release, reserve, saveTags, taggedBy, tagsParam, tencentTime, usage } from '../common.js';
import { ApiError, invalidValue } from '../errors.js';
import { any, arr, bool, filters, filterValues, int, obj, opt, paging, str, type Filter } from '../params.js';
import { findSecurityGroup, ID, malformed } from './lookup.js';

const DIRECTIONS: readonly Direction[] = ['Ingress', 'Egress'];
const SET = 'SecurityGroupPolicySet';

type Stored = StoredPolicy;
type Lists = Record<Direction, Entry<Stored>[]>;

/** Runs pure-core code, turning its error values into API errors. */
function core<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PolicyError) throw new ApiError(e.code, e.message);
    throw e;
  }
}

// ---------------------------------------------------------------- schemas

const policySchema = obj({
  PolicyIndex: opt(int({ min: 0 })),
  Protocol: opt(str()),
  Port: opt(str()),
  ServiceTemplate: opt(obj({ ServiceId: opt(str()), ServiceGroupId: opt(str()) })),
  CidrBlock: opt(str()),
  Ipv6CidrBlock: opt(str()),
  SecurityGroupId: opt(str()),
  AddressTemplate: opt(obj({ AddressId: opt(str()), AddressGroupId: opt(str()) })),
  Action: opt(str()),
  PolicyDescription: opt(str()),
  // Output fields a client may echo back from Describe: accepted, ignored.
  ModifyTime: opt(any()),
  Priority: opt(any()),
});
export const policySetSchema = obj({
  Version: opt(str()),
  Egress: opt(arr(policySchema)),
  Ingress: opt(arr(policySchema)),
  PolicyStatistics: opt(any()),
});
type PolicySetInput = { Version?: string; Egress?: PolicyInput[]; Ingress?: PolicyInput[] };

const MAX_NAME_CHARS = 60;
const MAX_DESC_CHARS = 100;
const chars = (s: string) => [...s].length;

function checkName(name: string, param: string) {
  if (!name.trim()) throw invalidValue(param, 'must not be empty');
  if (chars(name) > MAX_NAME_CHARS) throw invalidValue(param, `must be at most ${MAX_NAME_CHARS} characters`, 'InvalidParameterValue.TooLong');
}
function checkDesc(desc: string, param: string) {
  if (chars(desc) > MAX_DESC_CHARS) throw invalidValue(param, `must be at most ${MAX_DESC_CHARS} characters`, 'InvalidParameterValue.TooLong');
}

// ---------------------------------------------------------------- storage

// ---------------------------------------------------------------- rules

/** Referenced groups must be the account's own (a group may reference itself). */
async function checkReferences(w: Write, account: string, self: string | undefined, entries: readonly Entry[]) {
  const refs = entries.filter((e) => e.sgRef && e.sgRef !== self);
  if (!refs.length) return;
  const found = await ownGroups(w.tx, account, [...new Set(refs.map((e) => e.sgRef))]);
  const missing = refs.find((e) => !found.has(e.sgRef));
  if (missing)
    throw new ApiError('ResourceNotFound', `The security group \`${missing.sgRef}\` (\`${missing.from}.SecurityGroupId\`) does not exist.`);
}

/** Parses a direction's policies of the request, stamped as new. */
function parseList(items: readonly PolicyInput[] | undefined, dir: Direction, now: string, path = SET): Entry<Stored>[] {
  return core(() => (items ?? []).map((p, i) => ({ ...parsePolicy(p, `${path}.${dir}.${i}`), modifiedAt: now, from: `${path}.${dir}.${i}` })));
}

/**
 * One policy action on an existing group, in one transaction: the edit itself
 * (src/core/sg-edits.ts: request shape, Version, duplicates, quota — the same
 * function the what-if preview runs), references, write-back, Version + 1 and
 * a change-log entry. Policies kept keep their ModifyTime; new ones get now.
 */
async function editPolicies(ctx: Ctx, action: PolicyActionName, req: PolicyRequest): Promise<void> {
  const account = ctx.account.uin;
  const id = req.SecurityGroupId;
  if (!ID.sg.test(id)) malformed('SecurityGroupId', id, 'sg-xxxxxxxx');
  await ctx.write(async (w) => {
    const { group, lists: current } = await groupWithPolicies(w.tx, account, id);
    if (!group) throw notFound(id);
    const next = core(() => editPolicyLists(action, req, current, { version: group.version, limit: ctx.account.quotas.policyPerDirection }));
    const changed = DIRECTIONS.filter((d) => next[d] !== undefined);
    await checkReferences(w, account, group.id, changed.flatMap((d) => next[d]!.filter((e) => e.from)));
    await savePolicyEdit(
      w,
      group,
      changed.map((d) => ({ direction: d, old: current[d], list: next[d]!.map((e) => ({ ...e, modifiedAt: (e as Partial<Stored>).modifiedAt ?? w.now })) })),
    );
    w.changed(account, 'security_group', group.id, 'update');
    return {};
  });
}

// ---------------------------------------------------------------- responses

const notFound = (id: string) => new ApiError('ResourceNotFound', `The security group \`${id}\` (\`SecurityGroupId\`) does not exist.`);

function toSecurityGroupsTagged(rows: readonly GroupRow[], tags: ReadonlyMap<string, { Key: string; Value: string }[]>): SecurityGroup[] {
  return rows.map((r) => ({
    SecurityGroupId: r.id,
    SecurityGroupName: r.name,
    SecurityGroupDesc: r.description,
    ProjectId: r.project_id,
    IsDefault: r.is_default === 1,
    CreatedTime: tencentTime(r.created_at),
    TagSet: tags.get(r.id) ?? [],
    UpdateTime: tencentTime(r.updated_at),
  }));
}

function toPolicy(p: Stored, index: number): SecurityGroupPolicy {
  return {
    PolicyIndex: index,
    Protocol: p.protocol,
    Port: p.port,
    ServiceTemplate: { ServiceId: '', ServiceGroupId: '' },
    CidrBlock: p.cidr,
    Ipv6CidrBlock: p.ipv6Cidr,
    SecurityGroupId: p.sgRef,
    AddressTemplate: { AddressId: '', AddressGroupId: '' },
    Action: p.action,
    PolicyDescription: p.description,
    ModifyTime: tencentTime(p.modifiedAt),
  };
}

// ---------------------------------------------------------------- groups

const groupParams = {
  GroupName: str(),
  GroupDescription: str(),
  ProjectId: opt(str()),
  Tags: tagsParam,
};

function checkGroupParams(p: { GroupName: string; GroupDescription: string; ProjectId?: string }) {
  checkName(p.GroupName, 'GroupName');
  checkDesc(p.GroupDescription, 'GroupDescription');
  if (p.ProjectId !== undefined && !/^\d+$/.test(p.ProjectId)) throw invalidValue('ProjectId', `\`${p.ProjectId}\` is not a project ID (a number, 0 by default)`);
}

async function createGroup(
  ctx: Ctx,
  p: { GroupName: string; GroupDescription: string; ProjectId?: string; Tags?: { Key: string; Value?: string }[] },
  policies?: PolicySetInput,
): Promise<SecurityGroup> {
  checkGroupParams(p);
  const id = newId('sg');
  const account = ctx.account.uin;
  const row = await ctx.write(async (w) => {
    const quotas = await ctx.quotas();
    const lists: Lists = { Ingress: [], Egress: [] };
    for (const d of DIRECTIONS) {
      const items = policies?.[d] ?? [];
      const parsed = parseList(items, d, w.now);
      lists[d] = core(() => insertAt([], parsed, sharedIndex(items, `${SET}.${d}`), d));
      core(() => checkList(lists[d], d, quotas.policyPerDirection));
    }
    await reserve(w, account, 'security_group', 1, quotas.securityGroup, 'security group');
    await checkReferences(w, account, undefined, [...lists.Ingress, ...lists.Egress]);
    const row: SecurityGroupsTable = {
      id,
      account,
      name: p.GroupName,
      description: p.GroupDescription,
      project_id: p.ProjectId ?? '0',
      is_default: 0,
      // A group created with policies has had one policy change already.
      version: lists.Ingress.length || lists.Egress.length ? 1 : 0,
      created_at: w.now,
      updated_at: w.now,
    };
    await Promise.all([insertGroup(w, row, lists), saveTags(w, account, id, p.Tags)]);
    w.changed(account, 'security_group', id, 'create');
    return row;
  });
  // Its tags are the request's: no need to read them back.
  return toSecurityGroupsTagged([row], new Map([[id, requestTags(p.Tags)]]))[0]!;
}

export const createSecurityGroup = defineAction({
  service: 'vpc',
  name: 'CreateSecurityGroup',
  params: obj(groupParams),
  async run(ctx, p) {
    return { SecurityGroup: await createGroup(ctx, p) };
  },
});

export const createSecurityGroupWithPolicies = defineAction({
  service: 'vpc',
  name: 'CreateSecurityGroupWithPolicies',
  params: obj({ ...groupParams, SecurityGroupPolicySet: opt(policySetSchema) }),
  async run(ctx, p) {
    return { SecurityGroup: await createGroup(ctx, p, p.SecurityGroupPolicySet) };
  },
});

export const describeSecurityGroups = defineAction({
  service: 'vpc',
  name: 'DescribeSecurityGroups',
  params: obj({
    SecurityGroupIds: opt(arr(str(), { max: 100 })),
    Filters: opt(filters(['security-group-id', 'project-id', 'security-group-name', 'tag-key'], { prefixes: ['tag:'] })),
    ...paging,
    OrderField: opt(str({ oneOf: ['CreatedTime', 'UpdateTime'] })),
    OrderDirection: opt(str({ oneOf: ['ASC', 'DESC'] })),
  }),
  async run(ctx, p) {
    if (p.SecurityGroupIds?.length && p.Filters?.length)
      throw new ApiError('InvalidParameter.Coexist', 'SecurityGroupIds and Filters cannot be given together; use the security-group-id filter or SecurityGroupIds alone.');
    checkIds(p.SecurityGroupIds, ID.sg, 'SecurityGroupIds', 'sg-xxxxxxxx');
    const { offset, limit } = page(p);
    const f: Filter[] | undefined = p.Filters;
    const account = ctx.account.uin;
    const filtered = !!(p.SecurityGroupIds?.length || f?.length);
    const { rows, total, tags } = await groupPage(
      ctx.db,
      {
        account,
        // The IDs given and those of the security-group-id filter (never both: Coexist above).
        ids: p.SecurityGroupIds?.length ? p.SecurityGroupIds : filterValues(f, 'security-group-id'),
        projects: filterValues(f, 'project-id'),
        names: filterValues(f, 'security-group-name'),
        within: taggedBy(ctx.db, account, f),
        order: p.OrderField === 'UpdateTime' ? 'updated_at' : 'created_at',
        direction: p.OrderDirection === 'DESC' ? 'desc' : 'asc',
        offset,
        limit,
      },
      // Unfiltered, the count is the usage row: O(1).
      filtered ? undefined : usage(ctx.db, account, 'security_group'),
    );
    return { TotalCount: total, SecurityGroupSet: toSecurityGroupsTagged(rows, tags) };
  },
});

export const modifySecurityGroupAttribute = defineAction({
  service: 'vpc',
  name: 'ModifySecurityGroupAttribute',
  params: obj({ SecurityGroupId: str(), GroupName: opt(str()), GroupDescription: opt(str()) }),
  async run(ctx, p) {
    if (p.GroupName !== undefined) checkName(p.GroupName, 'GroupName');
    if (p.GroupDescription !== undefined) checkDesc(p.GroupDescription, 'GroupDescription');
    await ctx.write(async (w) => {
      await findSecurityGroup(w.tx, ctx.account.uin, p.SecurityGroupId);
      await updateGroup(w, p.SecurityGroupId, {
        ...(p.GroupName !== undefined ? { name: p.GroupName } : {}),
        ...(p.GroupDescription !== undefined ? { description: p.GroupDescription } : {}),
      });
      w.changed(ctx.account.uin, 'security_group', p.SecurityGroupId, 'update');
      return {};
    });
    return {};
  },
});

const listIds = (ids: readonly string[], more: boolean) => ids.map((x) => `\`${x}\``).join(', ') + (more ? ', …' : '');

export const deleteSecurityGroup = defineAction({
  service: 'vpc',
  name: 'DeleteSecurityGroup',
  params: obj({ SecurityGroupId: str() }),
  async run(ctx, p) {
    const id = p.SecurityGroupId;
    await ctx.write(async (w) => {
      const group = await findSecurityGroup(w.tx, ctx.account.uin, id);
      if (group.is_default) throw new ApiError('UnsupportedOperation', `The security group \`${id}\` is the default security group, which cannot be deleted.`);
      const { instances, holders } = await groupUsers(w.tx, id, 6);
      if (instances.length)
        throw new ApiError(
          'ResourceInUse',
          `The security group \`${id}\` is bound to instance(s) ${listIds(instances.slice(0, 5), instances.length > 5)}; disassociate it first.`,
        );
      if (holders.length)
        throw new ApiError(
          'ResourceInUse',
          `The security group \`${id}\` is referenced by policies of security group(s) ${listIds(holders.slice(0, 5), holders.length > 5)}; change those policies first.`,
        );
      await Promise.all([deleteGroup(w, id), deleteTags(w, id), release(w, ctx.account.uin, 'security_group')]);
      w.changed(ctx.account.uin, 'security_group', id, 'delete');
      return {};
    });
    return {};
  },
});

// ---------------------------------------------------------------- policies

export const createSecurityGroupPolicies = defineAction({
  service: 'vpc',
  name: 'CreateSecurityGroupPolicies',
  params: obj({ SecurityGroupId: str(), SecurityGroupPolicySet: policySetSchema }),
  run: async (ctx, p) => (await editPolicies(ctx, 'CreateSecurityGroupPolicies', p), {}),
});

export const deleteSecurityGroupPolicies = defineAction({
  service: 'vpc',
  name: 'DeleteSecurityGroupPolicies',
  params: obj({ SecurityGroupId: str(), SecurityGroupPolicySet: policySetSchema }),
  run: async (ctx, p) => (await editPolicies(ctx, 'DeleteSecurityGroupPolicies', p), {}),
});

export const replaceSecurityGroupPolicy = defineAction({
  service: 'vpc',
  name: 'ReplaceSecurityGroupPolicy',
  params: obj({ SecurityGroupId: str(), SecurityGroupPolicySet: policySetSchema, OriginalSecurityGroupPolicySet: opt(policySetSchema) }),
  run: async (ctx, p) => (await editPolicies(ctx, 'ReplaceSecurityGroupPolicy', p), {}),
});

export const replaceSecurityGroupPolicies = defineAction({
  service: 'vpc',
  name: 'ReplaceSecurityGroupPolicies',
  params: obj({
    SecurityGroupId: str(),
    SecurityGroupPolicySet: policySetSchema,
    OriginalSecurityGroupPolicySet: opt(policySetSchema),
    UpdateType: opt(str({ oneOf: ['Policy', 'Priority', 'Both'] })),
  }),
  run: async (ctx, p) => (await editPolicies(ctx, 'ReplaceSecurityGroupPolicies', p), {}),
});

export const modifySecurityGroupPolicies = defineAction({
  service: 'vpc',
  name: 'ModifySecurityGroupPolicies',
  params: obj({ SecurityGroupId: str(), SecurityGroupPolicySet: policySetSchema, SortPolicys: opt(bool()) }),
  run: async (ctx, p) => (await editPolicies(ctx, 'ModifySecurityGroupPolicies', p), {}),
});

// ---------------------------------------------------------------- describe policies

const POLICY_FILTERS = ['security-group-id', 'ip', 'address-module', 'service-module', 'protocol-type', 'port', 'poly', 'direction', 'description'];

/** Whether a policy passes every filter (values of one filter: any of them). */
function matches(p: Stored, dir: Direction, fs: readonly Filter[]): boolean {
  const lower = (s: string) => s.toLowerCase();
  return fs.every((f) =>
    f.Values.some((raw) => {
      const v = raw.trim();
      switch (f.Name) {
        case 'security-group-id':
          return p.sgRef === v;
        case 'ip':
          return (!!p.cidr && p.cidr.includes(v)) || (!!p.ipv6Cidr && p.ipv6Cidr.includes(lower(v)));
        case 'address-module':
        case 'service-module':
          return false; // Weft has no parameter templates, so no policy uses one
        case 'protocol-type':
          return p.protocol === v.toUpperCase();
        case 'port':
          return v.toUpperCase() === 'ALL' || p.port.includes(v);
        case 'poly':
          return v.toUpperCase() === 'ALL' || p.action === v.toUpperCase();
        case 'direction':
          return v.toUpperCase() === 'ALL' || (v.toUpperCase() === 'INBOUND') === (dir === 'Ingress');
        case 'description':
          return lower(p.description).includes(lower(v));
        default:
          return false;
      }
    }),
  );
}

export const describeSecurityGroupPolicies = defineAction({
  service: 'vpc',
  name: 'DescribeSecurityGroupPolicies',
  params: obj({ SecurityGroupId: str(), Filters: opt(filters(POLICY_FILTERS)) }),
  async run(ctx, p) {
    const group = await findSecurityGroup(ctx.db, ctx.account.uin, p.SecurityGroupId);
    for (const [i, f] of (p.Filters ?? []).entries()) {
      const allowed = f.Name === 'poly' ? ['ALL', 'ACCEPT', 'DROP'] : f.Name === 'direction' ? ['ALL', 'INBOUND', 'OUTBOUND'] : undefined;
      const bad = allowed && f.Values.find((v) => !allowed.includes(v.trim().toUpperCase()));
      if (bad !== undefined) throw invalidValue(`Filters.${i}.Values`, `\`${bad}\` is not one of ${allowed!.join(', ')}`);
    }
    const lists = await loadPolicyLists(ctx.db, group.id);
    // PolicyIndex stays the policy's position in the whole list, so filtered results can be acted on.
    const out = (d: Direction) =>
      lists[d].map((x, i) => [x, i] as const).filter(([x]) => matches(x, d, p.Filters ?? [])).map(([x, i]) => toPolicy(x, i));
    const count = (d: Direction, v6: boolean) => lists[d].filter((x) => !!x.ipv6Cidr === v6).length;
    const set: SecurityGroupPolicySet = {
      Version: String(group.version),
      Egress: out('Egress'),
      Ingress: out('Ingress'),
      PolicyStatistics: {
        IngressIPv4TotalCount: count('Ingress', false),
        IngressIPv6TotalCount: count('Ingress', true),
        EgressIPv4TotalCount: count('Egress', false),
        EgressIPv6TotalCount: count('Egress', true),
      },
    };
    return { SecurityGroupPolicySet: set };
  },
});

export const securityGroupActions = [
  createSecurityGroup,
  createSecurityGroupWithPolicies,
  describeSecurityGroups,
  modifySecurityGroupAttribute,
  deleteSecurityGroup,
  createSecurityGroupPolicies,
  describeSecurityGroupPolicies,
  deleteSecurityGroupPolicies,
  replaceSecurityGroupPolicies,
  replaceSecurityGroupPolicy,
  modifySecurityGroupPolicies,
];
