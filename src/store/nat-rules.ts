/**
 * SNAT and DNAT rules of NAT gateways in the store: the SQL the rule actions,
 * the NAT gateway actions and the deletion of what a rule names share.
 */
import type { Kysely, Selectable } from 'kysely';
import type { DB, NatDnatRulesTable, NatSnatRulesTable } from './schema.js';
import type { Tx } from './store.js';

type Reader = Kysely<DB>;
export type SnatRow = Selectable<NatSnatRulesTable>;
export type DnatRow = Selectable<NatDnatRulesTable>;

export const publicIpsOf = (r: SnatRow): string[] => JSON.parse(r.public_ips) as string[];

export async function snatRulesOf(db: Reader, natIds: readonly string[]): Promise<SnatRow[]> {
  if (!natIds.length) return [];
  return db.selectFrom('nat_snat_rules').selectAll().where('nat_gateway_id', 'in', [...natIds]).orderBy('created_at').orderBy('id').execute();
}

export async function dnatRulesOf(db: Reader, natIds: readonly string[]): Promise<DnatRow[]> {
  if (!natIds.length) return [];
  return db
    .selectFrom('nat_dnat_rules')
    .selectAll()
    .where('nat_gateway_id', 'in', [...natIds])
    .orderBy('created_at')
    .orderBy('public_ip')
    .orderBy('public_port')
    .orderBy('protocol')
    .execute();
}

/**
 * Takes public addresses out of a gateway's SNAT rules (they leave the
 * gateway): a rule left with none is deleted, as Tencent does. Answers how
 * many rules it deleted.
 */
export async function dropIpsFromSnatRules(tx: Tx, natId: string, ips: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const r of await snatRulesOf(tx, [natId])) {
    const kept = publicIpsOf(r).filter((ip) => !ips.includes(ip));
    if (kept.length === publicIpsOf(r).length) continue;
    if (kept.length) await tx.updateTable('nat_snat_rules').set({ public_ips: JSON.stringify(kept) }).where('id', '=', r.id).execute();
    else {
      await tx.deleteFrom('nat_snat_rules').where('id', '=', r.id).execute();
      deleted++;
    }
  }
  return deleted;
}

/** Deletes every rule of a gateway (it is being deleted). */
export async function deleteRulesOfNat(tx: Tx, natId: string): Promise<void> {
  await tx.deleteFrom('nat_snat_rules').where('nat_gateway_id', '=', natId).execute();
  await tx.deleteFrom('nat_dnat_rules').where('nat_gateway_id', '=', natId).execute();
}

/**
 * Deletes the SNAT rules naming these subnets or network interfaces (they are
 * being deleted; Tencent deletes the rule with its subnet or its last CVM).
 * Answers the gateways whose rules changed, with their accounts and VPCs.
 */
export async function deleteSnatRulesOf(tx: Tx, resourceIds: readonly string[]) {
  if (!resourceIds.length) return [];
  const rows = await tx
    .selectFrom('nat_snat_rules')
    .innerJoin('nat_gateways', 'nat_gateways.id', 'nat_snat_rules.nat_gateway_id')
    .select(['nat_gateways.id', 'nat_gateways.account', 'nat_gateways.vpc_id'])
    .where('nat_snat_rules.resource_id', 'in', [...resourceIds])
    .distinct()
    .execute();
  if (rows.length) await tx.deleteFrom('nat_snat_rules').where('resource_id', 'in', [...resourceIds]).execute();
  return rows;
}
