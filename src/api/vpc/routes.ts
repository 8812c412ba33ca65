/**
 * The routes of a route table (vpc 2017-03-12): CreateRoutes, DeleteRoutes,
 * ReplaceRoutes, ResetRoutes, EnableRoutes, DisableRoutes,
 * DescribeRouteConflicts. Semantics: docs/routing.md.
 *
 * Each action builds the table's user routes as they would be after it,
 * checks them with the pure rules (core/route-set.ts) and the next hops with
 * their kind's check (core/next-hops.ts), and only then writes: a request
 * with one bad item changes nothing. The LOCAL route (the VPC's CIDR) is the
 * system's: no action changes it.
 */
import type { RouteConflict } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { formatCidr, overlaps, parseCidr } from '../../core/cidr.js';
import { maxPerDestination, nextHopKind, type NextHopEnv, type NextHopKind } from '../../core/next-hops.js';
import { checkRouteSet, parseDestination, RouteError, type PlannedRoute } from '../../core/route-set.js';
import { activePeering, insertRoutes, instanceAt, natGatewayState, routesOf, type RouteRow, type RouteTableRow } from '../../store/route-tables.js';
import type { Kysely } from 'kysely';
import type { DB, RoutesTable } from '../../store/schema.js';
import { defineAction, type Ctx } from '../action.js';
import { ApiError, invalidValue, missingParameter } from '../errors.js';
import { any, arr, bool, int, obj, opt, str, type Infer } from '../params.js';
import { findRouteTable, findVpc, ID } from './lookup.js';
import { routeTableName, tableChanged, toRoute, toRouteTables } from './route-tables.js';

/** Runs code of the pure route cores, turning their error values into API errors. */
async function core<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RouteError) throw new ApiError(e.code, e.message);
    throw e;
  }
}

/** The most routes one request may name (as Tencent caps EnableRoutes/DisableRoutes). */
const MAX_PER_REQUEST = 100;

// ---------------------------------------------------------------- schemas

/**
 * A Route as requests carry it. Fields the model has for answers (RouteType,
 * CreatedTime …) are accepted and ignored, so a route read back can be sent
 * back.
 */
const routeFields = {
  RouteId: opt(int({ min: 0 })),
  RouteItemId: opt(str()),
  RouteDescription: opt(str({ max: 100 })),
  DestinationIpv6CidrBlock: opt(str()),
  CdcId: opt(str()),
  Enabled: opt(bool()),
  RouteType: opt(any()),
  RouteTableId: opt(any()),
  PublishedToVbc: opt(any()),
  CreatedTime: opt(any()),
};
const newRoute = obj({ DestinationCidrBlock: str(), GatewayType: str(), GatewayId: str(), ...routeFields });
const routeRef = obj({ DestinationCidrBlock: opt(str()), GatewayType: opt(str()), GatewayId: opt(str()), ...routeFields });

type NewRouteInput = Infer<typeof newRoute>;

// ---------------------------------------------------------------- the table and its VPC

interface Loaded {
  table: RouteTableRow;
  vpc: { id: string; cidr: string };
  /** All routes of the table, the LOCAL one included, in RouteId order. */
  routes: RouteRow[];
}

async function loadTable(ctx: Ctx, tx: Kysely<DB>, id: string): Promise<Loaded> {
  const table = await findRouteTable(tx, ctx.account.uin, id);
  const vpc = await findVpc(tx, ctx.account.uin, table.vpc_id);
  const routes = (await routesOf(tx, [table.id])).get(table.id)!;
  return { table, vpc, routes };
}

const isSystem = (r: RouteRow) => r.route_type !== 'USER';

const planned = (r: RouteRow, param?: string): PlannedRoute => ({
  destination: r.destination,
  gatewayType: r.gateway_type,
  gatewayId: r.gateway_id,
  enabled: r.enabled === 1,
  param,
  stored: { routeItemId: r.id, routeId: Number(r.route_id) },
});

function envOf(tx: Kysely<DB>, vpcId: string): NextHopEnv {
  return {
    vpcId,
    instanceAt: (ip) => instanceAt(tx, vpcId, ip),
    activePeering: (id) => activePeering(tx, id, vpcId),
    natGatewayState: (id) => natGatewayState(tx, vpcId, id),
  };
}

// ---------------------------------------------------------------- new route content

interface RouteContent {
  destination: string;
  gatewayType: string;
  gatewayId: string;
  /** As given: absent means "as it was" (ReplaceRoutes) or the default (new routes: '' and enabled). */
  description: string | undefined;
  enabled: boolean | undefined;
}

/** Checks that need no state; the next hop's own check comes later, with the table's VPC. */
function parseNewRoute(r: NewRouteInput, param: string): { destination: ReturnType<typeof parseDestination>; type: string; kind: NextHopKind; r: NewRouteInput } {
  if (r.DestinationIpv6CidrBlock)
    throw new ApiError('UnsupportedOperation', `\`${param}.DestinationIpv6CidrBlock\`: Weft routes IPv4 only; give DestinationCidrBlock.`);
  if (r.CdcId) throw new ApiError('UnsupportedOperation', `\`${param}.CdcId\`: Weft has no dedicated clusters (CDC); omit CdcId.`);
  const destination = parseDestination(r.DestinationCidrBlock, `${param}.DestinationCidrBlock`);
  const { type, kind } = nextHopKind(r.GatewayType, param);
  return { destination, type, kind, r };
}

/** Parses and checks new routes against the VPC, all before anything is written. */
async function resolveNewRoutes(items: readonly NewRouteInput[], env: NextHopEnv, params: readonly string[]): Promise<RouteContent[]> {
  const parsed = items.map((r, i) => parseNewRoute(r, params[i]!));
  const out: RouteContent[] = [];
  for (const [i, x] of parsed.entries())
    out.push({
      destination: formatCidr(x.destination),
      gatewayType: x.type,
      gatewayId: await x.kind.check(x.r.GatewayId.trim(), x.destination, env, params[i]!),
      description: x.r.RouteDescription,
      enabled: x.r.Enabled,
    });
  return out;
}

/** A new route's content with the defaults of what the request left out. */
const asNew = (c: RouteContent) => ({ ...c, description: c.description ?? '', enabled: c.enabled ?? true });

function checkQuota(ctx: Ctx, table: RouteTableRow, userRoutes: number) {
  const limit = ctx.account.quotas.routePerTable;
  if (userRoutes > limit)
    throw new ApiError(
      'LimitExceeded',
      `The routes-per-table quota is ${limit}; route table ${table.id} would have ${userRoutes}. Delete unused routes or ask the operator to raise the quota.`,
    );
}

// ---------------------------------------------------------------- naming stored routes

/**
 * The stored user route a request item names by RouteId or RouteItemId (Tencent's two IDs for one route).
 * `seen` catches a route named twice in one request.
 */
function pickRoute(l: Loaded, ref: { RouteId?: number; RouteItemId?: string }, param: string, seen: Map<string, string>): RouteRow {
  if (ref.RouteId === undefined && !ref.RouteItemId)
    throw new ApiError('MissingParameter', `\`${param}\` names no route; give its RouteId or RouteItemId (DescribeRouteTables lists them).`);
  if (ref.RouteItemId && !ID.routeItem.test(ref.RouteItemId))
    throw new ApiError('InvalidParameterValue.Malformed', `\`${ref.RouteItemId}\` in \`${param}.RouteItemId\` is not a valid ID; expected the form rti-xxxxxxxx.`);
  const byItem = ref.RouteItemId ? l.routes.find((r) => r.id === ref.RouteItemId) : undefined;
  const byId = ref.RouteId !== undefined ? l.routes.find((r) => Number(r.route_id) === ref.RouteId) : undefined;
  if (ref.RouteItemId && !byItem) throw new ApiError('ResourceNotFound', `\`${param}.RouteItemId\`: route table ${l.table.id} has no route ${ref.RouteItemId}.`);
  if (ref.RouteId !== undefined && !byId) throw new ApiError('ResourceNotFound', `\`${param}.RouteId\`: route table ${l.table.id} has no route with RouteId ${ref.RouteId}.`);
  if (byItem && byId && byItem !== byId)
    throw invalidValue(param, `RouteId ${ref.RouteId} and RouteItemId ${ref.RouteItemId} name two different routes; give one of them`);
  const route = (byItem ?? byId)!;
  if (isSystem(route))
    throw new ApiError(
      'UnsupportedOperation.SystemRoute',
      `\`${param}\` names the ${route.gateway_type} route ${route.id} (${route.destination}), which the system keeps; only USER routes can be changed.`,
    );
  const earlier = seen.get(route.id);
  if (earlier) throw new ApiError('InvalidParameterValue.Duplicate', `\`${param}\` names route ${route.id} (RouteId ${route.route_id}) again, as \`${earlier}\` does.`);
  seen.set(route.id, param);
  return route;
}

// ---------------------------------------------------------------- actions

export const createRoutes = defineAction({
  service: 'vpc',
  name: 'CreateRoutes',
  params: obj({ RouteTableId: str(), Routes: arr(newRoute, { min: 1, max: MAX_PER_REQUEST }) }),
  async run(ctx, p) {
    const table = await ctx.write((w) =>
      core(async () => {
        const l = await loadTable(ctx, w.tx, p.RouteTableId);
        const params = p.Routes.map((_, i) => `Routes.${i}`);
        const fresh = await resolveNewRoutes(p.Routes, envOf(w.tx, l.vpc.id), params);
        const kept = l.routes.filter((r) => !isSystem(r)).map((r) => planned(r));
        const added = fresh.map(asNew);
        checkRouteSet(parseCidr(l.vpc.cidr)!, [...kept, ...added.map((c, i): PlannedRoute => ({ ...c, param: params[i] }))], maxPerDestination);
        checkQuota(ctx, l.table, kept.length + added.length);
        await insertRoutes(w, l.table.id, added);
        await tableChanged(w, ctx.account.uin, l.table, 'update');
        return l.table;
      }),
    );
    return { TotalCount: p.Routes.length, RouteTableSet: await toRouteTables(ctx.db, [table]) };
  },
});

export const deleteRoutes = defineAction({
  service: 'vpc',
  name: 'DeleteRoutes',
  params: obj({ RouteTableId: str(), Routes: opt(arr(routeRef, { min: 1, max: MAX_PER_REQUEST })) }),
  async run(ctx, p) {
    if (!p.Routes) throw missingParameter('Routes');
    const routes = p.Routes;
    const deleted = await ctx.write(async (w) => {
      const l = await loadTable(ctx, w.tx, p.RouteTableId);
      const seen = new Map<string, string>();
      const gone = routes.map((ref, i) => pickRoute(l, ref, `Routes.${i}`, seen));
      await w.tx.deleteFrom('routes').where('id', 'in', gone.map((r) => r.id)).execute();
      await tableChanged(w, ctx.account.uin, l.table, 'update');
      return gone;
    });
    return { RouteSet: deleted.map(toRoute) };
  },
});

export const replaceRoutes = defineAction({
  service: 'vpc',
  name: 'ReplaceRoutes',
  params: obj({ RouteTableId: str(), Routes: arr(newRoute, { min: 1, max: MAX_PER_REQUEST }) }),
  async run(ctx, p) {
    const { before, after } = await ctx.write((w) =>
      core(async () => {
        const l = await loadTable(ctx, w.tx, p.RouteTableId);
        const params = p.Routes.map((_, i) => `Routes.${i}`);
        const seen = new Map<string, string>();
        const targets = p.Routes.map((ref, i) => pickRoute(l, ref, params[i]!, seen));
        const content = await resolveNewRoutes(p.Routes, envOf(w.tx, l.vpc.id), params);
        const replaced = new Set(targets.map((t) => t.id));
        const kept = l.routes.filter((r) => !isSystem(r) && !replaced.has(r.id)).map((r) => planned(r));
        // A replaced route keeps its IDs and creation time; an absent RouteDescription or Enabled keeps the old value.
        const after: RouteRow[] = targets.map((t, i) => ({
          ...t,
          destination: content[i]!.destination,
          gateway_type: content[i]!.gatewayType,
          gateway_id: content[i]!.gatewayId,
          description: content[i]!.description ?? t.description,
          enabled: content[i]!.enabled === undefined ? t.enabled : content[i]!.enabled ? 1 : 0,
        }));
        checkRouteSet(parseCidr(l.vpc.cidr)!, [...kept, ...after.map((r, i) => planned(r, params[i]))], maxPerDestination);
        for (const r of after) {
          const set: Partial<RoutesTable> = {
            destination: r.destination,
            gateway_type: r.gateway_type,
            gateway_id: r.gateway_id,
            description: r.description,
            enabled: r.enabled,
          };
          await w.tx.updateTable('routes').set(set).where('id', '=', r.id).execute();
        }
        await tableChanged(w, ctx.account.uin, l.table, 'update');
        return { before: targets, after };
      }),
    );
    return { OldRouteSet: before.map(toRoute), NewRouteSet: after.map(toRoute) };
  },
});

export const resetRoutes = defineAction({
  service: 'vpc',
  name: 'ResetRoutes',
  params: obj({ RouteTableId: str(), RouteTableName: routeTableName(), Routes: arr(newRoute, { max: MAX_PER_REQUEST }) }),
  async run(ctx, p) {
    await ctx.write((w) =>
      core(async () => {
        const l = await loadTable(ctx, w.tx, p.RouteTableId);
        const params = p.Routes.map((_, i) => `Routes.${i}`);
        const fresh = await resolveNewRoutes(p.Routes, envOf(w.tx, l.vpc.id), params);
        const added = fresh.map(asNew);
        checkRouteSet(parseCidr(l.vpc.cidr)!, added.map((c, i): PlannedRoute => ({ ...c, param: params[i] })), maxPerDestination);
        checkQuota(ctx, l.table, added.length);
        await w.tx.deleteFrom('routes').where('route_table_id', '=', l.table.id).where('route_type', '=', 'USER').execute();
        await insertRoutes(w, l.table.id, added);
        await w.tx.updateTable('route_tables').set({ name: p.RouteTableName }).where('id', '=', l.table.id).execute();
        await tableChanged(w, ctx.account.uin, l.table, 'update');
        return {};
      }),
    );
    return {};
  },
});

/** EnableRoutes and DisableRoutes: the routes named by exactly one of RouteIds and RouteItemIds. */
function toggleRoutes(name: 'EnableRoutes' | 'DisableRoutes', enable: boolean) {
  return defineAction({
    service: 'vpc',
    name,
    params: obj({ RouteTableId: str(), RouteIds: opt(arr(int({ min: 0 }))), RouteItemIds: opt(arr(str())) }),
    async run(ctx, p) {
      if (p.RouteIds?.length && p.RouteItemIds?.length)
        throw new ApiError('InvalidParameter.Coexist', 'RouteIds and RouteItemIds cannot be given together; name the routes by one of them.');
      const refs: { ref: { RouteId?: number; RouteItemId?: string }; param: string }[] = p.RouteIds?.length
        ? p.RouteIds.map((id, i) => ({ ref: { RouteId: id }, param: `RouteIds.${i}` }))
        : (p.RouteItemIds ?? []).map((id, i) => ({ ref: { RouteItemId: id }, param: `RouteItemIds.${i}` }));
      if (!refs.length) throw new ApiError('MissingParameter', `${name} needs the routes to change: give RouteIds or RouteItemIds.`);
      if (refs.length > MAX_PER_REQUEST)
        throw new ApiError('InvalidParameterValue.LimitExceeded', `${name} takes at most ${MAX_PER_REQUEST} routes per request; ${refs.length} were given.`);
      await ctx.write((w) =>
        core(async () => {
          const l = await loadTable(ctx, w.tx, p.RouteTableId);
          const seen = new Map<string, string>();
          const targets = new Map(refs.map((x) => [pickRoute(l, x.ref, x.param, seen).id, x.param]));
          const changing = l.routes.filter((r) => targets.has(r.id) && (r.enabled === 1) !== enable);
          if (enable) {
            // An enabled route must agree with the table's other enabled routes again (Tencent: disable the conflicting one first).
            const all = l.routes.filter((r) => !isSystem(r)).map((r) => {
              const param = targets.get(r.id);
              return param ? { ...planned(r, param), enabled: true } : planned(r);
            });
            checkRouteSet(parseCidr(l.vpc.cidr)!, all, maxPerDestination);
          }
          if (!changing.length) return {};
          await w.tx
            .updateTable('routes')
            .set({ enabled: enable ? 1 : 0 })
            .where('id', 'in', changing.map((r) => r.id))
            .execute();
          await tableChanged(w, ctx.account.uin, l.table, 'update');
          return {};
        }),
      );
      return {};
    },
  });
}
export const enableRoutes = toggleRoutes('EnableRoutes', true);
export const disableRoutes = toggleRoutes('DisableRoutes', false);

/**
 * For each destination, the routes of the table a route to it would meet:
 * those to the same destination and, when it overlaps the VPC's CIDR, the
 * LOCAL route. Destinations that meet none are left out, as in Tencent's
 * example. (Tencent checks against Cloud Connect routes; Weft has none, so
 * the table's own routes are what can conflict.)
 */
export const describeRouteConflicts = defineAction({
  service: 'vpc',
  name: 'DescribeRouteConflicts',
  params: obj({ RouteTableId: str(), DestinationCidrBlocks: arr(str(), { min: 1, max: MAX_PER_REQUEST }) }),
  async run(ctx, p) {
    const blocks = await core(async () => p.DestinationCidrBlocks.map((d, i) => parseDestination(d, `DestinationCidrBlocks.${i}`)));
    const l = await loadTable(ctx, ctx.db, p.RouteTableId);
    const vpcCidr = parseCidr(l.vpc.cidr)!;
    const set: RouteConflict[] = blocks.flatMap((b) => {
      const dest = formatCidr(b);
      const conflicts = l.routes.filter((r) => (isSystem(r) ? overlaps(b, vpcCidr) : r.destination === dest));
      return conflicts.length ? [{ RouteTableId: l.table.id, DestinationCidrBlock: dest, ConflictSet: conflicts.map(toRoute) }] : [];
    });
    return { RouteConflictSet: set };
  },
});

export const routeActions = [createRoutes, deleteRoutes, replaceRoutes, resetRoutes, enableRoutes, disableRoutes, describeRouteConflicts];
