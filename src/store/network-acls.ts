/** Network ACL entries and associations in the store: reading them in order, replacing a direction. */
import type { Kysely } from 'kysely';
import type { AclDirection, AclEntry, AclProtocol } from '../core/acl-entry.js';
import type { AclEntriesTable, DB } from './schema.js';
import type { Tx } from './store.js';

/** An entry as stored: the normalised entry and when it last changed. */
export interface StoredAclEntry extends AclEntry {
  modifiedAt: string;
}
export type AclEntryLists = Record<AclDirection, StoredAclEntry[]>;

const stored = (d: AclDirection): AclEntriesTable['direction'] => (d === 'Ingress' ? 'ingress' : 'egress');

/** The entry lists of each ACL in `ids`, in evaluation order (one query for the page). */
export async function loadAclEntries(db: Kysely<DB>, ids: readonly string[]): Promise<Map<string, AclEntryLists>> {
  const out = new Map<string, AclEntryLists>(ids.map((id) => [id, { Ingress: [], Egress: [] }]));
  if (!ids.length) return out;
  const rows = await db.selectFrom('acl_entries').selectAll().where('acl_id', 'in', [...ids]).orderBy('acl_id').orderBy('direction').orderBy('position').execute();
  for (const r of rows)
    out.get(r.acl_id)![r.direction === 'ingress' ? 'Ingress' : 'Egress'].push({
      protocol: r.protocol as AclProtocol,
      port: r.port,
      cidr: r.cidr,
      ipv6Cidr: r.ipv6_cidr,
      action: r.action as AclEntry['action'],
      description: r.description,
      modifiedAt: r.modified_at,
    });
  return out;
}

/** Replaces one direction's entries with `entries` (positions 0…n-1), leaving the other direction alone. */
export async function replaceAclDirection(tx: Tx, aclId: string, direction: AclDirection, entries: readonly AclEntry[], now: string): Promise<void> {
  await tx.deleteFrom('acl_entries').where('acl_id', '=', aclId).where('direction', '=', stored(direction)).execute();
  if (!entries.length) return;
  await tx
    .insertInto('acl_entries')
    .values(
      entries.map((e, position) => ({
        acl_id: aclId,
        direction: stored(direction),
        position,
        protocol: e.protocol,
        port: e.port,
        cidr: e.cidr,
        ipv6_cidr: e.ipv6Cidr,
        action: e.action,
        description: e.description,
        modified_at: now,
      })),
    )
    .execute();
}

/** Subnets bound to each ACL in `ids`, ordered by ID. */
export async function aclSubnets(db: Kysely<DB>, ids: readonly string[]) {
  if (!ids.length) return [];
  return db.selectFrom('subnets').selectAll().where('network_acl_id', 'in', [...ids]).orderBy('id').execute();
}
