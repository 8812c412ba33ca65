/** Reading a security group's policy lists from the store, in PolicyIndex order. */
import type { Kysely } from 'kysely';
import type { Direction, Policy, PolicyAction, Protocol } from '../core/sg-policy.js';
import type { DB } from './schema.js';

/** A policy as stored: the normalised policy and when it last changed. */
export interface StoredPolicy extends Policy {
  modifiedAt: string;
}

export async function loadPolicyLists(db: Kysely<DB>, sgId: string): Promise<Record<Direction, StoredPolicy[]>> {
  const rows = await db.selectFrom('sg_policies').selectAll().where('sg_id', '=', sgId).orderBy('direction').orderBy('position').execute();
  const lists: Record<Direction, StoredPolicy[]> = { Ingress: [], Egress: [] };
  for (const r of rows)
    lists[r.direction === 'ingress' ? 'Ingress' : 'Egress'].push({
      protocol: r.protocol as Protocol,
      port: r.port,
      cidr: r.cidr,
      ipv6Cidr: r.ipv6_cidr,
      sgRef: r.ref_sg_id,
      action: r.action as PolicyAction,
      description: r.description,
      modifiedAt: r.modified_at,
    });
  return lists;
}
