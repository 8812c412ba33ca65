/**
 * Route tables (vpc 2017-03-12): CreateRouteTable, DescribeRouteTables,
 * ModifyRouteTableAttribute, DeleteRouteTable, ReplaceRouteTableAssociation.
 * The routes in a table: routes.ts. Semantics: docs/routing.md.
 *
 * Every VPC has one main table (made by CreateVpc, gone with DeleteVpc);
 * every subnet is associated with exactly one table of its VPC.
 */
import type { Route, RouteTable } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../store/schema.js';
import {
  associationsOf,
  deleteRouteTable,
  insertRouteTable,
  routesOf,
  tableCount,
  type RouteRow,
  type RouteTableRow,
} from '../../store/route-tables.js';
import type { Write } from '../../store/store.js';
import { defineAction } from '../action.js';
import { checkIds, deleteTags, loadTags, nameContains, page, saveTags, taggedBy, tagsParam, tencentTime } from '../common.js';
import { ApiError, invalidValue, missingParameter } from '../errors.js';
import { bool, filters, filterValues, obj, opt, paging, str, arr, type Filter } from '../params.js';
import { findRouteTable, findSubnet, findVpc, ID } from './lookup.js';

export const routeTableName = () => str({ min: 1, max: 60 });

/**
 * Records a change of a table's content. The hosts that hold the table (their documents name it) recompile
 * on the 'route_table' change; a host that comes to hold it because one of its instances is now a next hop
 * of the table is named by a 'host_document' change. Not the whole VPC: in a VPC of thousands of routes and
 * hosts, a route change recompiles only the hosts it reaches.
 */
export async function tableChanged(w: Write, account: string, table: Pick<RouteTableRow, 'id' | 'vpc_id'>, op: 'create' | 'update' | 'delete') {
  w.changed(account, 'route_table', table.id, op);
  const hosts = await w.tx
    .selectFrom('routes')
    .innerJoin('instances', (j) => j.onRef('instances.private_ip', '=', 'routes.gateway_id'))
    .select('instances.host_id')
    .distinct()
    .where('routes.route_table_id', '=', table.id)
    .where('routes.gateway_type', '=', 'NORMAL_CVM')
    .where('instances.vpc_id', '=', table.vpc_id)
    .where('instances.host_id', 'is not', null)
    .execute();
  for (const h of hosts) w.changed(account, 'host_document', h.host_id!, 'update');
}

/** A route as the SDK's `Route` model spells it. */
export function toRoute(r: RouteRow): Route {
  return {
    DestinationCidrBlock: r.destination,
    GatewayType: r.gateway_type,
    GatewayId: r.gateway_id,
    RouteId: Number(r.route_id),
    RouteDescription: r.description,
    Enabled: r.enabled === 1,
    RouteType: r.route_type,
    RouteTableId: r.route_table_id,
    DestinationIpv6CidrBlock: '',
    RouteItemId: r.id,
    PublishedToVbc: false,
    CreatedTime: tencentTime(r.created_at),
    CdcId: '',
  };
}

/**
 * Tables as the SDK's `RouteTable` model spells them. `routes: false` leaves
 * RouteSet empty (NeedRouterInfo false); `hopTypes` keeps only routes with
 * those next hop types (the next-hop-type filter).
 */
export async function toRouteTables(
  db: Kysely<DB>,
  rows: readonly RouteTableRow[],
  o: { routes?: boolean; hopTypes?: readonly string[] } = {},
): Promise<RouteTable[]> {
  const ids = rows.map((r) => r.id);
  const [routes, assoc, tags] = await Promise.all([routesOf(db, ids), associationsOf(db, ids), loadTags(db, ids)]);
  return rows.map((t) => {
    const all = routes.get(t.id) ?? [];
    const local = all.find((r) => r.gateway_type === 'LOCAL');
    const shown = o.routes === false ? [] : o.hopTypes ? all.filter((r) => o.hopTypes!.includes(r.gateway_type)) : all;
    return {
      VpcId: t.vpc_id,
      RouteTableId: t.id,
      RouteTableName: t.name,
      AssociationSet: (assoc.get(t.id) ?? []).map((s) => ({ SubnetId: s, RouteTableId: t.id })),
      RouteSet: shown.map(toRoute),
      Main: t.is_main === 1,
      CreatedTime: tencentTime(t.created_at),
      TagSet: tags.get(t.id) ?? [],
      // Weft has no Cloud Connect Network: the local CIDR is never published to one.
      LocalCidrForCcn: local ? [{ Cidr: local.destination, PublishedToVbc: false }] : [],
    };
  });
}

export const createRouteTable = defineAction({
  service: 'vpc',
  name: 'CreateRouteTable',
  params: obj({ VpcId: str(), RouteTableName: routeTableName(), Tags: tagsParam }),
  async run(ctx, p) {
    const account = ctx.account.uin;
    const row = await ctx.write(async (w) => {
      const vpc = await findVpc(w.tx, account, p.VpcId);
      const limit = ctx.account.quotas.routeTablePerVpc;
      const n = await tableCount(w.tx, vpc.id);
      if (n + 1 > limit)
        throw new ApiError(
          'LimitExceeded',
          `The route-tables-per-VPC quota is ${limit}; VPC ${vpc.id} has ${n} (its main table included). Delete unused route tables or ask the operator to raise the quota.`,
        );
      const row = await insertRouteTable(w, { account, vpcId: vpc.id, vpcCidr: vpc.cidr, name: p.RouteTableName, main: false });
      await saveTags(w, account, row.id, p.Tags);
      await tableChanged(w, ctx.account.uin, row, 'create');
      return row;
    });
    return { RouteTable: (await toRouteTables(ctx.db, [row]))[0] };
  },
});

/** Next hop types the next-hop-type filter knows (Tencent's list). */
const HOP_TYPES = ['LOCAL', 'CVM', 'VPN', 'DIRECTCONNECT', 'PEERCONNECTION', 'HAVIP', 'NAT', 'NORMAL_CVM', 'EIP', 'CCN', 'LOCAL_GATEWAY', 'GWLB_ENDPOINT'];

function boolValues(f: Filter, i: number): boolean[] {
  return f.Values.map((v, j) => {
    const l = v.toLowerCase();
    if (l !== 'true' && l !== 'false') throw invalidValue(`Filters.${i}.Values.${j}`, `\`${v}\` is not \`true\` or \`false\``);
    return l === 'true';
  });
}

export const describeRouteTables = defineAction({
  service: 'vpc',
  name: 'DescribeRouteTables',
  params: obj({
    Filters: opt(
      filters(['route-table-id', 'route-table-name', 'vpc-id', 'association.main', 'tag-key', 'visible', 'next-hop-type'], { prefixes: ['tag:'] }),
    ),
    RouteTableIds: opt(arr(str(), { max: 100 })),
    ...paging,
    NeedRouterInfo: opt(bool()),
  }),
  async run(ctx, p) {
    if (p.RouteTableIds?.length && p.Filters?.length)
      throw new ApiError('InvalidParameter.Coexist', 'RouteTableIds and Filters cannot be given together; use the route-table-id filter or RouteTableIds alone.');
    checkIds(p.RouteTableIds, ID.routeTable, 'RouteTableIds', 'rtb-xxxxxxxx');
    const { offset, limit } = page(p);
    const account = ctx.account.uin;
    let q = ctx.db.selectFrom('route_tables').where('account', '=', account);
    if (p.RouteTableIds?.length) q = q.where('id', 'in', p.RouteTableIds);
    const f = p.Filters;
    let nothing = false; // a filter no Weft table can match
    let hopTypes: string[] | undefined;
    for (const [i, x] of (f ?? []).entries()) {
      if (!x.Values.length) throw invalidValue(`Filters.${i}.Values`, 'give at least one value', 'InvalidParameterValue.Empty');
      switch (x.Name) {
        case 'route-table-id':
          q = q.where('id', 'in', x.Values);
          break;
        case 'route-table-name':
          q = q.where((eb) => eb.or(x.Values.map((n) => nameContains('name', n))));
          break;
        case 'vpc-id':
          q = q.where('vpc_id', 'in', x.Values);
          break;
        case 'association.main':
          q = q.where('is_main', 'in', boolValues(x, i).map((b) => (b ? 1 : 0)));
          break;
        case 'visible':
          if (!boolValues(x, i).includes(true)) nothing = true; // every Weft table is visible
          break;
        case 'next-hop-type': {
          // Tencent asks for one table with it: it narrows the table's RouteSet, not the list of tables.
          if (!filterValues(f, 'route-table-id') || !filterValues(f, 'vpc-id'))
            throw new ApiError(
              'InvalidParameter.FilterMissParameter',
              `The filter \`next-hop-type\` (\`Filters.${i}\`) needs the filters \`route-table-id\` and \`vpc-id\` in the same request.`,
            );
          x.Values.forEach((v, j) => {
            if (!HOP_TYPES.includes(v)) throw invalidValue(`Filters.${i}.Values.${j}`, `\`${v}\` is not a next hop type; use one of ${HOP_TYPES.join(', ')}`);
          });
          hopTypes = [...(hopTypes ?? []), ...x.Values];
          break;
        }
      }
    }
    for (const tagged of taggedBy(ctx.db, account, f)) q = q.where('id', 'in', tagged);
    if (nothing) return { TotalCount: 0, RouteTableSet: [] };
    const [rows, total] = await Promise.all([
      q.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute(),
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    ]);
    return { TotalCount: total, RouteTableSet: await toRouteTables(ctx.db, rows, { routes: p.NeedRouterInfo !== false, hopTypes }) };
  },
});

export const modifyRouteTableAttribute = defineAction({
  service: 'vpc',
  name: 'ModifyRouteTableAttribute',
  params: obj({ RouteTableId: str(), RouteTableName: routeTableName() }),
  async run(ctx, p) {
    await ctx.write(async (w) => {
      const table = await findRouteTable(w.tx, ctx.account.uin, p.RouteTableId);
      await w.tx.updateTable('route_tables').set({ name: p.RouteTableName }).where('id', '=', table.id).execute();
      await tableChanged(w, ctx.account.uin, table, 'update'); // a name does not route, but every table change is recorded alike (recompiling an unchanged document is a no-op)
      return {};
    });
    return {};
  },
});

export const deleteRouteTableAction = defineAction({
  service: 'vpc',
  name: 'DeleteRouteTable',
  params: obj({ RouteTableId: str() }),
  async run(ctx, p) {
    await ctx.write(async (w) => {
      const table = await findRouteTable(w.tx, ctx.account.uin, p.RouteTableId);
      if (table.is_main)
        throw new ApiError(
          'UnsupportedOperation.NotSupportDeleteDefaultRouteTable',
          `The route table \`${table.id}\` is the main (default) table of VPC ${table.vpc_id}; it goes with the VPC (DeleteVpc) and cannot be deleted alone.`,
        );
      const subnets = (await associationsOf(w.tx, [table.id])).get(table.id)!;
      if (subnets.length)
        throw new ApiError(
          'UnsupportedOperation.DelRouteWithSubnet',
          `The route table \`${table.id}\` is still associated with subnets ${subnets.slice(0, 5).join(', ')}${subnets.length > 5 ? ', …' : ''}; associate them with another table (ReplaceRouteTableAssociation) first.`,
        );
      await deleteRouteTable(w, table.id);
      await deleteTags(w, table.id);
      await tableChanged(w, ctx.account.uin, table, 'delete');
      return {};
    });
    return {};
  },
});

export const replaceRouteTableAssociation = defineAction({
  service: 'vpc',
  name: 'ReplaceRouteTableAssociation',
  params: obj({ RouteTableId: str(), SubnetId: opt(str()) }),
  async run(ctx, p) {
    // Tencent lets CidrBlock stand for the subnet of classic-network VPCs; Weft subnets always have IDs.
    if (p.SubnetId === undefined) throw missingParameter('SubnetId');
    const subnetId = p.SubnetId;
    await ctx.write(async (w) => {
      const account = ctx.account.uin;
      const table = await findRouteTable(w.tx, account, p.RouteTableId);
      const subnet = await findSubnet(w.tx, account, subnetId);
      if (subnet.vpc_id !== table.vpc_id)
        throw new ApiError(
          'UnsupportedOperation.VpcMismatch',
          `The subnet \`${subnet.id}\` is in VPC ${subnet.vpc_id} and the route table \`${table.id}\` in VPC ${table.vpc_id}; a subnet uses a table of its own VPC.`,
        );
      if (subnet.route_table_id === table.id) return {};
      await w.tx.updateTable('subnets').set({ route_table_id: table.id }).where('id', '=', subnet.id).execute();
      w.changed(account, 'subnet', subnet.id, 'update');
      if (subnet.route_table_id) w.changed(account, 'route_table', subnet.route_table_id, 'update');
      await tableChanged(w, ctx.account.uin, table, 'update');
      return {};
    });
    return {};
  },
});

export const routeTableActions = [createRouteTable, describeRouteTables, modifyRouteTableAttribute, deleteRouteTableAction, replaceRouteTableAssociation];
