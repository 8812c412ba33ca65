/**
 * Network ACLs (triple form): CreateNetworkAcl, DescribeNetworkAcls,
 * ModifyNetworkAclAttribute, ModifyNetworkAclEntries, DeleteNetworkAcl,
 * AssociateNetworkAclSubnets, DisassociateNetworkAclSubnets.
 *
 * An ACL belongs to one VPC and filters, statelessly, the traffic crossing the
 * boundary of each subnet bound to it: entries in order, the first match
 * decides, no match drops (so a new ACL denies everything). Traffic between
 * instances of the same subnet does not cross that boundary. A subnet has at
 * most one ACL; binding another replaces it (docs/research/acl-peering.md).
 *
 * The quintuple form (NetworkAclType QUINTUPLE and the *QuintupleEntries
 * actions) is not offered: it needs per-entry IDs and source/destination
 * pairs the schema does not hold.
 */
import type { NetworkAcl, NetworkAclEntry } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { sql, type Kysely } from 'kysely';
import { parseAclDirection, type AclDirection, type AclEntry } from '../../core/acl-entry.js';
import { newId } from '../../core/ids.js';
import { PolicyError } from '../../core/sg-policy.js';
import { aclSubnets, loadAclEntries, replaceAclDirection, type StoredAclEntry } from '../../store/network-acls.js';
import type { DB, NetworkAclsTable } from '../../store/schema.js';
import type { Tx, Write } from '../../store/store.js';
import { defineAction } from '../action.js';
import { checkIds, deleteTags, loadTags, nameContains, page, saveTags, tagsParam, tencentTime } from '../common.js';
import { ApiError, invalidValue } from '../errors.js';
import { any, arr, bool, filters, filterValues, idOf, obj, opt, paging, str } from '../params.js';
import { findVpc } from './lookup.js';
import { subnetModels } from './subnet-view.js';

export const ACL_ID = idOf('acl');
const SUBNET_ID = idOf('subnet');

const aclName = () => str({ min: 1, max: 60 });

/** Pure validation errors become API errors with the same code. */
function validated<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PolicyError) throw new ApiError(e.code, e.message);
    throw e;
  }
}

/** The account's ACL by ID; a foreign ID answers as a missing one. */
export async function findNetworkAcl(db: Kysely<DB> | Tx, account: string, id: string, param = 'NetworkAclId'): Promise<NetworkAclsTable> {
  if (!ACL_ID.test(id)) throw new ApiError('InvalidParameterValue.Malformed', `\`${id}\` in \`${param}\` is not a valid ID; expected the form acl-xxxxxxxx.`);
  const row = await db.selectFrom('network_acls').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
  if (!row) throw new ApiError('ResourceNotFound', `The network ACL \`${id}\` (\`${param}\`) does not exist.`);
  return row;
}

const entryModel = (e: StoredAclEntry, i: number): NetworkAclEntry => ({
  Protocol: e.protocol,
  Port: e.port,
  CidrBlock: e.cidr,
  Ipv6CidrBlock: e.ipv6Cidr,
  Action: e.action,
  Description: e.description,
  ModifyTime: tencentTime(e.modifiedAt),
  Priority: i + 1,
  // Entries are positions in a list here, with no identity of their own (see the module comment).
  NetworkAclIpv4EntryId: '',
  NetworkAclIpv6EntryId: '',
});

async function toNetworkAcls(db: Kysely<DB>, rows: readonly NetworkAclsTable[]): Promise<NetworkAcl[]> {
  const ids = rows.map((r) => r.id);
  const [entries, tags, subnetRows] = await Promise.all([loadAclEntries(db, ids), loadTags(db, ids), aclSubnets(db, ids)]);
  const subnets = await subnetModels(db, subnetRows);
  return rows.map((r) => {
    const lists = entries.get(r.id)!;
    return {
      VpcId: r.vpc_id,
      NetworkAclId: r.id,
      NetworkAclName: r.name,
      CreatedTime: tencentTime(r.created_at),
      SubnetSet: subnets.filter((s) => s.NetworkAclId === r.id),
      IngressEntries: lists.Ingress.map(entryModel),
      EgressEntries: lists.Egress.map(entryModel),
      NetworkAclType: 'TRIPLE',
      TagSet: tags.get(r.id) ?? [],
    };
  });
}

export const createNetworkAcl = defineAction({
  service: 'vpc',
  name: 'CreateNetworkAcl',
  params: obj({ VpcId: str(), NetworkAclName: aclName(), NetworkAclType: opt(str({ oneOf: ['TRIPLE', 'QUINTUPLE'] })), Tags: tagsParam }),
  async run(ctx, p) {
    if (p.NetworkAclType === 'QUINTUPLE')
      throw new ApiError('UnsupportedOperation', '`NetworkAclType` QUINTUPLE: Weft offers triple network ACLs only; omit NetworkAclType or give TRIPLE.');
    const account = ctx.account.uin;
    const row = await ctx.write(async (w) => {
      const vpc = await findVpc(w.tx, account, p.VpcId);
      const { n } = await w.tx
        .selectFrom('network_acls')
        .select(sql<number>`count(*)`.as('n'))
        .where('vpc_id', '=', vpc.id)
        .executeTakeFirstOrThrow();
      const limit = ctx.account.quotas.networkAclPerVpc;
      if (Number(n) >= limit)
        throw new ApiError('LimitExceeded', `The network-ACLs-per-VPC quota is ${limit}; VPC ${vpc.id} has ${Number(n)}. Delete unused ACLs or ask the operator to raise the quota.`);
      const row: NetworkAclsTable = { id: newId('acl'), account, vpc_id: vpc.id, name: p.NetworkAclName, created_at: w.now };
      await w.tx.insertInto('network_acls').values(row).execute();
      await saveTags(w, account, row.id, p.Tags);
      // No subnet is bound yet, so no host's document changes.
      w.changed(account, 'network_acl', row.id, 'create');
      return row;
    });
    return { NetworkAcl: (await toNetworkAcls(ctx.db, [row]))[0] };
  },
});

const ORDER_FIELDS = ['NetworkAclId', 'NetworkAclName', 'CreatedTime', 'ModifyTime'] as const;

export const describeNetworkAcls = defineAction({
  service: 'vpc',
  name: 'DescribeNetworkAcls',
  params: obj({
    Filters: opt(filters(['vpc-id', 'network-acl-id', 'network-acl-name'])),
    NetworkAclIds: opt(arr(str(), { max: 100 })),
    ...paging,
    OrderField: opt(str({ oneOf: ORDER_FIELDS })),
    OrderDirection: opt(str({ oneOf: ['ASC', 'DESC'] })),
  }),
  async run(ctx, p) {
    if (p.NetworkAclIds?.length && p.Filters?.length)
      throw new ApiError('InvalidParameter.Coexist', 'NetworkAclIds and Filters cannot be given together; use the network-acl-id filter or NetworkAclIds alone.');
    checkIds(p.NetworkAclIds, ACL_ID, 'NetworkAclIds', 'acl-xxxxxxxx');
    (p.Filters ?? []).forEach((f, i) => {
      if (!f.Values.length) throw invalidValue(`Filters.${i}.Values`, 'give at least one value', 'InvalidParameterValue.Empty');
    });
    const { offset, limit } = page(p);
    let q = ctx.db.selectFrom('network_acls').where('account', '=', ctx.account.uin);
    if (p.NetworkAclIds?.length) q = q.where('id', 'in', p.NetworkAclIds);
    const vpcs = filterValues(p.Filters, 'vpc-id');
    if (vpcs) q = q.where('vpc_id', 'in', vpcs);
    const ids = filterValues(p.Filters, 'network-acl-id');
    if (ids) q = q.where('id', 'in', ids);
    const names = filterValues(p.Filters, 'network-acl-name');
    if (names) q = q.where((eb) => eb.or(names.map((n) => nameContains('name', n))));

    const dir = p.OrderDirection === 'DESC' ? 'desc' : 'asc';
    // An ACL's ModifyTime is its latest entry change (its creation while it has none).
    const modified = sql<string>`coalesce((select max(e.modified_at) from acl_entries e where e.acl_id = network_acls.id), network_acls.created_at)`;
    let ordered = q.selectAll();
    switch (p.OrderField) {
      case 'NetworkAclId':
        ordered = ordered.orderBy('id', dir);
        break;
      case 'NetworkAclName':
        ordered = ordered.orderBy('name', dir).orderBy('id', dir);
        break;
      case 'ModifyTime':
        ordered = ordered.orderBy(modified, dir).orderBy('id', dir);
        break;
      default:
        ordered = ordered.orderBy('created_at', dir).orderBy('id', dir);
    }
    const [rows, total] = await Promise.all([
      ordered.limit(limit).offset(offset).execute(),
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    ]);
    return { TotalCount: total, NetworkAclSet: await toNetworkAcls(ctx.db, rows) };
  },
});

export const modifyNetworkAclAttribute = defineAction({
  service: 'vpc',
  name: 'ModifyNetworkAclAttribute',
  params: obj({ NetworkAclId: str(), NetworkAclName: aclName() }),
  async run(ctx, p) {
    await ctx.write(async (w) => {
      await findNetworkAcl(w.tx, ctx.account.uin, p.NetworkAclId);
      await w.tx.updateTable('network_acls').set({ name: p.NetworkAclName }).where('id', '=', p.NetworkAclId).execute();
      w.changed(ctx.account.uin, 'network_acl', p.NetworkAclId, 'update');
      return {};
    });
    return {};
  },
});

/** NetworkAclEntry as a request carries it; output-only fields (ModifyTime, Priority, entry IDs) are accepted and ignored. */
const entryParam = obj({
  Protocol: opt(str()),
  Port: opt(str()),
  CidrBlock: opt(str()),
  Ipv6CidrBlock: opt(str()),
  Action: opt(str()),
  Description: opt(str()),
  ModifyTime: opt(any()),
  Priority: opt(any()),
  NetworkAclIpv4EntryId: opt(any()),
  NetworkAclIpv6EntryId: opt(any()),
});

export const modifyNetworkAclEntries = defineAction({
  service: 'vpc',
  name: 'ModifyNetworkAclEntries',
  params: obj({
    NetworkAclId: str(),
    NetworkAclEntrySet: opt(obj({ Ingress: opt(arr(entryParam)), Egress: opt(arr(entryParam)) })),
    NetworkAclQuintupleSet: opt(any()),
    EnableUpdateAclEntries: opt(bool()),
  }),
  async run(ctx, p) {
    if (p.NetworkAclEntrySet && p.NetworkAclQuintupleSet !== undefined)
      throw new ApiError('InvalidParameter.Coexist', 'NetworkAclEntrySet and NetworkAclQuintupleSet cannot be given together; a triple ACL takes NetworkAclEntrySet.');
    if (p.NetworkAclQuintupleSet !== undefined)
      throw new ApiError('InvalidParameter.AclTypeMismatch', `\`NetworkAclQuintupleSet\` is for QUINTUPLE ACLs; \`${p.NetworkAclId}\` is a TRIPLE ACL: give NetworkAclEntrySet.`);
    if (p.EnableUpdateAclEntries)
      throw new ApiError(
        'UnsupportedOperation',
        '`EnableUpdateAclEntries` true (incremental update by entry ID) is not supported; omit it and give the complete entry list of each direction you change.',
      );
    const set = p.NetworkAclEntrySet;
    if (!set || (set.Ingress === undefined && set.Egress === undefined))
      throw new ApiError('MissingParameter', 'Give `NetworkAclEntrySet.Ingress`, `NetworkAclEntrySet.Egress` or both: each given list replaces that direction\'s entries.');
    // Per direction, as Tencent documents: a given list (even empty) replaces that direction; an absent one is kept.
    const limit = ctx.account.quotas.aclEntryPerDirection;
    const changes: [AclDirection, AclEntry[]][] = validated(() => [
      ...(set.Ingress !== undefined ? [['Ingress', parseAclDirection(set.Ingress, 'Ingress', limit)] as [AclDirection, AclEntry[]]] : []),
      ...(set.Egress !== undefined ? [['Egress', parseAclDirection(set.Egress, 'Egress', limit)] as [AclDirection, AclEntry[]]] : []),
    ]);
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const acl = await findNetworkAcl(w.tx, account, p.NetworkAclId);
      for (const [direction, entries] of changes) await replaceAclDirection(w.tx, acl.id, direction, entries, w.now);
      w.changed(account, 'network_acl', acl.id, 'update');
      w.changed(account, 'vpc', acl.vpc_id, 'update');
      return {};
    });
    return {};
  },
});

export const deleteNetworkAcl = defineAction({
  service: 'vpc',
  name: 'DeleteNetworkAcl',
  params: obj({ NetworkAclId: str() }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const acl = await findNetworkAcl(w.tx, account, p.NetworkAclId);
      const bound = await w.tx.selectFrom('subnets').select('id').where('network_acl_id', '=', acl.id).orderBy('id').limit(6).execute();
      if (bound.length)
        throw new ApiError(
          'ResourceInUse',
          `The network ACL \`${acl.id}\` is still associated with subnets (${bound.slice(0, 5).map((s) => s.id).join(', ')}${bound.length > 5 ? ', …' : ''}); disassociate them first (DisassociateNetworkAclSubnets).`,
        );
      await w.tx.deleteFrom('acl_entries').where('acl_id', '=', acl.id).execute();
      await w.tx.deleteFrom('network_acls').where('id', '=', acl.id).execute();
      await deleteTags(w, acl.id);
      w.changed(account, 'network_acl', acl.id, 'delete');
      return {};
    });
    return {};
  },
});

const subnetIdsParam = arr(str(), { min: 1, max: 100 });

/** The ACL and the named subnets, all the account's and in the ACL's VPC, or the error that says which is not. */
async function aclAndSubnets(w: Write, account: string, aclId: string, subnetIds: readonly string[]) {
  checkIds(subnetIds, SUBNET_ID, 'SubnetIds', 'subnet-xxxxxxxx');
  const seen = new Set<string>();
  subnetIds.forEach((id, i) => {
    if (seen.has(id)) throw new ApiError('InvalidParameterValue.Duplicate', `The subnet \`${id}\` is given more than once (\`SubnetIds.${i}\`).`);
    seen.add(id);
  });
  const acl = await findNetworkAcl(w.tx, account, aclId);
  const rows = await w.tx.selectFrom('subnets').selectAll().where('account', '=', account).where('id', 'in', [...subnetIds]).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = subnetIds.filter((id) => !byId.has(id));
  if (missing.length) throw new ApiError('ResourceNotFound', `The subnet(s) ${missing.map((m) => `\`${m}\``).join(', ')} (\`SubnetIds\`) do(es) not exist.`);
  const elsewhere = rows.find((s) => s.vpc_id !== acl.vpc_id);
  if (elsewhere)
    throw new ApiError(
      'UnsupportedOperation.VpcMismatch',
      `The subnet \`${elsewhere.id}\` is in VPC ${elsewhere.vpc_id}, but the network ACL \`${acl.id}\` belongs to VPC ${acl.vpc_id}; an ACL binds subnets of its own VPC only.`,
    );
  return { acl, subnets: subnetIds.map((id) => byId.get(id)!) };
}

export const associateNetworkAclSubnets = defineAction({
  service: 'vpc',
  name: 'AssociateNetworkAclSubnets',
  params: obj({ NetworkAclId: str(), SubnetIds: subnetIdsParam }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const { acl, subnets } = await aclAndSubnets(w, account, p.NetworkAclId, p.SubnetIds);
      // A subnet has one ACL: binding this one replaces whatever it had, whose SubnetSet changes too.
      const replaced = [...new Set(subnets.map((s) => s.network_acl_id).filter((id) => id !== '' && id !== acl.id))].sort();
      await w.tx.updateTable('subnets').set({ network_acl_id: acl.id }).where('id', 'in', p.SubnetIds).execute();
      w.changed(account, 'network_acl', acl.id, 'update');
      for (const id of replaced) w.changed(account, 'network_acl', id, 'update');
      for (const s of subnets) w.changed(account, 'subnet', s.id, 'update');
      w.changed(account, 'vpc', acl.vpc_id, 'update');
      return {};
    });
    return {};
  },
});

export const disassociateNetworkAclSubnets = defineAction({
  service: 'vpc',
  name: 'DisassociateNetworkAclSubnets',
  params: obj({ NetworkAclId: str(), SubnetIds: subnetIdsParam }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    await ctx.write(async (w) => {
      const { acl, subnets } = await aclAndSubnets(w, account, p.NetworkAclId, p.SubnetIds);
      const unbound = subnets.find((s) => s.network_acl_id !== acl.id);
      if (unbound)
        throw new ApiError(
          'ResourceNotFound',
          `The subnet \`${unbound.id}\` is not associated with the network ACL \`${acl.id}\`${unbound.network_acl_id ? ` (it is bound to ${unbound.network_acl_id})` : ''}; nothing was changed.`,
        );
      await w.tx.updateTable('subnets').set({ network_acl_id: '' }).where('id', 'in', p.SubnetIds).execute();
      w.changed(account, 'network_acl', acl.id, 'update');
      for (const s of subnets) w.changed(account, 'subnet', s.id, 'update');
      w.changed(account, 'vpc', acl.vpc_id, 'update');
      return {};
    });
    return {};
  },
});

export const networkAclActions = [
  createNetworkAcl,
  describeNetworkAcls,
  modifyNetworkAclAttribute,
  modifyNetworkAclEntries,
  deleteNetworkAcl,
  associateNetworkAclSubnets,
  disassociateNetworkAclSubnets,
];
