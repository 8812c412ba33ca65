/**
 * What GetMonitorData reads: the resources an account may ask about, and
 * their stored figures per bucket (instances: 10 s buckets of
 * monitor_samples; NAT gateways: the flow monitor's minutes, summed over the
 * gateway's private addresses and nodes).
 */
import { sql, type Kysely } from 'kysely';
import type { BucketField, MetricDef, NatField } from '../core/monitor-metrics.js';
import type { DB } from './schema.js';

/**
 * The dimension values among `values` that name the account's resources, with
 * the ID their figures are kept under: instances and NAT gateways by their ID,
 * EIPs by address (kept under the address's ID, so figures of an address
 * another account held before are not this one's).
 */
export async function ownedResources(db: Kysely<DB>, source: MetricDef['source'], account: string, values: readonly string[]): Promise<Map<string, string>> {
  if (!values.length) return new Map();
  if (source === 'eip') {
    const rows = await db.selectFrom('addresses').select(['id', 'ip']).where('ip', 'in', [...values]).where('account', '=', account).execute();
    return new Map(rows.map((r) => [r.ip, r.id]));
  }
  const table = source === 'instance' ? 'instances' : 'nat_gateways';
  const rows = await db.selectFrom(table).select('id').where('id', 'in', [...values]).where('account', '=', account).execute();
  return new Map(rows.map((r) => [r.id, r.id]));
}

export interface StoredBucket {
  id: string;
  /** Bucket start, Unix seconds. */
  at: number;
  value: number;
}

/** Figures of `field` for `ids` in buckets starting from `from` to `to` (Unix seconds). */
export async function storedBuckets(db: Kysely<DB>, def: Pick<MetricDef, 'source' | 'field'>, ids: readonly string[], from: number, to: number): Promise<StoredBucket[]> {
  if (def.source !== 'nat') {
    const field = def.field as BucketField;
    const rows = await db
      .selectFrom('monitor_samples')
      .select(['resource_id', 'at', field])
      .where('resource_id', 'in', [...ids])
      .where('at', '>=', from)
      .where('at', '<=', to)
      .orderBy('at')
      .execute();
    return rows.map((r) => ({ id: r.resource_id, at: Number(r.at), value: Number(r[field]) }));
  }
  const field = def.field as NatField;
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const rows = await db
    .selectFrom('gateway_flow_minutes')
    .select(['gateway_id', 'minute', sql<number>`sum(${sql.ref(field)})`.as('value')])
    .where('gateway_id', 'in', [...ids])
    .where('minute', '>=', iso(from))
    .where('minute', '<=', iso(to))
    .groupBy(['gateway_id', 'minute'])
    .orderBy('minute')
    .execute();
  return rows.map((r) => ({ id: r.gateway_id, at: Date.parse(r.minute) / 1000, value: Number(r.value) }));
}
