/**
 * Peering connections in the store. A connection is one row seen by two
 * accounts: the requester (`account`, owner of `vpc_id`) and the peer
 * (`peer_account`, owner of `peer_vpc_id`, the same account or another).
 */
import type { Kysely } from 'kysely';
import type { DB, PeeringsTable } from './schema.js';
import type { Tx } from './store.js';

type Reader = Kysely<DB> | Tx;

/** States in which a connection holds its pair of VPCs: no second one between them, and it counts against quotas. */
export const LIVE_STATES = ['PENDING', 'ACTIVE'] as const;

/** The connection if `account` is either side of it. */
export async function findVisiblePeering(db: Reader, account: string, id: string): Promise<PeeringsTable | undefined> {
  return db
    .selectFrom('peerings')
    .selectAll()
    .where('id', '=', id)
    .where((eb) => eb.or([eb('account', '=', account), eb('peer_account', '=', account)]))
    .executeTakeFirst();
}

/** Connections in `states` that have any of `vpcIds` at either end. */
export async function peeringsOf(db: Reader, vpcIds: readonly string[], states: readonly string[]): Promise<PeeringsTable[]> {
  if (!vpcIds.length) return [];
  return db
    .selectFrom('peerings')
    .selectAll()
    .where((eb) => eb.or([eb('vpc_id', 'in', [...vpcIds]), eb('peer_vpc_id', 'in', [...vpcIds])]))
    .where('state', 'in', [...states])
    .orderBy('id')
    .execute();
}

/** The other end of a connection, seen from `vpcId`. */
export const otherEnd = (p: PeeringsTable, vpcId: string) =>
  p.vpc_id === vpcId ? { vpcId: p.peer_vpc_id, account: p.peer_account } : { vpcId: p.vpc_id, account: p.account };

/**
 * Removes the routes through a connection (GatewayType PEERCONNECTION, in any
 * table of either account) and answers the tables they were in, with owners.
 */
export async function deletePeeringRoutes(tx: Tx, peeringId: string): Promise<{ tableId: string; account: string }[]> {
  const tables = await tx
    .selectFrom('routes')
    .innerJoin('route_tables', 'route_tables.id', 'routes.route_table_id')
    .select(['route_tables.id as tableId', 'route_tables.account as account'])
    .distinct()
    .where('routes.gateway_type', '=', 'PEERCONNECTION')
    .where('routes.gateway_id', '=', peeringId)
    .orderBy('route_tables.id')
    .execute();
  if (tables.length) await tx.deleteFrom('routes').where('gateway_type', '=', 'PEERCONNECTION').where('gateway_id', '=', peeringId).execute();
  return tables;
}
