/**
 * The rules a route table's set of user routes keeps, as pure functions:
 * destinations are normalised IPv4 CIDRs outside the VPC's own block, no
 * route is there twice, and the enabled routes to one destination agree on
 * their kind of next hop — several of them only where that kind load-shares
 * (NORMAL_CVM: an ECMP group). The route actions (src/api/vpc/routes.ts)
 * build the table as it would be after a request and check it here, so a
 * request that would break a rule changes nothing. Semantics: docs/routing.md.
 *
 * Errors are `RouteError` values carrying the Tencent error code; the API
 * turns them into API errors.
 */
import { containsCidr, formatCidr, parseCidr, type Cidr } from './cidr.js';

export class RouteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RouteError';
  }
}
export const routeFail = (code: string, message: string): never => {
  throw new RouteError(code, message);
};

/** A route as a table would hold it after the request being checked. */
export interface PlannedRoute {
  /** Normalised IPv4 CIDR. */
  destination: string;
  gatewayType: string;
  /** Normalised (an instance's address, a pcx- ID). */
  gatewayId: string;
  enabled: boolean;
  /** Where the request gave or touched it (`Routes.2`, `RouteIds.0`); absent for a stored route the request leaves alone. */
  param?: string;
  /** IDs of a stored route (a replaced route keeps its IDs). */
  stored?: { routeItemId: string; routeId: number };
}

/**
 * A destination as given: `a.b.c.d/n` with no host bits set. The message of
 * a block with host bits names its network address, the block the user meant.
 */
export function parseDestination(text: string, param: string): Cidr {
  const cidr = parseCidr(text);
  if (cidr) return cidr;
  const loose = parseCidr(text, false);
  return routeFail(
    'InvalidParameterValue.Malformed',
    loose
      ? `The value of parameter \`${param}\` is invalid: \`${text}\` has host bits set; the destination starts at its network address, \`${formatCidr(loose)}\`.`
      : `The value of parameter \`${param}\` is invalid: \`${text}\` is not an IPv4 CIDR block in the form 192.168.100.0/24.`,
  );
}

/** How a route is named in messages: by the request item that gave it, or by its IDs. */
export function routeName(r: PlannedRoute): string {
  const what = `${r.destination} via ${r.gatewayType} ${r.gatewayId}`;
  if (r.param) return `\`${r.param}\` (${what})`;
  return `route ${r.stored?.routeItemId ?? '?'} (RouteId ${r.stored?.routeId ?? '?'}, ${what})`;
}

/**
 * Checks every route the request gave or touched (those with `param`) against
 * the VPC's block and against every other route of the table; throws the
 * first violation in request order. A pair of two request items is reported
 * at the later one. Stored routes the request leaves alone are not checked
 * against each other: every earlier request kept them consistent.
 *
 * A destination may not lie inside the VPC's CIDR (nor equal it): the VPC's
 * addresses are the LOCAL route's. One that contains it (0.0.0.0/0 through
 * an instance) is fine: the LOCAL route is longer and wins for the VPC's own
 * addresses (src/contract/host-document.ts).
 */
export function checkRouteSet(vpcCidr: Cidr, routes: readonly PlannedRoute[], maxPerDestination: (gatewayType: string) => number): void {
  const parsed = routes.map((r) => parseCidr(r.destination)!);
  routes.forEach((r, i) => {
    if (!r.param) return;
    if (containsCidr(vpcCidr, parsed[i]!))
      routeFail(
        'InvalidParameterValue.VpcCidrConflict',
        `${routeName(r)}: the destination lies within the VPC's CIDR block ${formatCidr(vpcCidr)}, which the LOCAL route serves; route only destinations outside it (one that contains it, such as 0.0.0.0/0, is fine).`,
      );
    // Enabled routes to r's destination so far, r included: counted over the stored routes and the request's
    // earlier items, so the item that overflows a group is the one named.
    let group = 1;
    routes.forEach((o, j) => {
      if (j === i || (o.param && j > i) || o.destination !== r.destination) return;
      if (o.gatewayType === r.gatewayType && o.gatewayId === r.gatewayId)
        routeFail('InvalidParameterValue.Duplicate', `${routeName(r)} is the same route as ${routeName(o)}.`);
      if (!r.enabled || !o.enabled) return; // a disabled route takes no part until EnableRoutes checks it again
      if (o.gatewayType !== r.gatewayType)
        routeFail(
          'UnsupportedOperation.EcmpWithUserRoute',
          `${routeName(r)} and ${routeName(o)} send ${r.destination} to next hops of different types; one destination has one type of next hop (disable or delete the other route first).`,
        );
      const max = maxPerDestination(r.gatewayType);
      if (max === 1)
        routeFail(
          'UnsupportedOperation.Ecmp',
          `${routeName(r)} and ${routeName(o)} send ${r.destination} to different ${r.gatewayType} next hops; ${r.gatewayType} routes do not share a destination (only NORMAL_CVM routes form ECMP groups).`,
        );
      if (++group > max)
        routeFail(
          'UnsupportedOperation.Ecmp',
          `${routeName(r)} would be next hop ${group} of ${r.destination}; an ECMP group of ${r.gatewayType} routes has at most ${max}.`,
        );
    });
  });
}
