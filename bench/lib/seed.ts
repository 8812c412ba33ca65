/**
 * Seeds VPCs straight into the store, bypassing the API, while no server is
 * running. 100,000 CreateVpc calls would take minutes and measure the write
 * path again; the Describe benches need only the rows. What the API would have
 * written for each VPC is written here too: the `vpcs` row, and the account's
 * `usage` row for kind 'vpc' (its quota count and the O(1) TotalCount of an
 * unfiltered DescribeVpcs) kept equal to the number of rows, and a VNI for each
 * taken from the region's counter (meta.next_vni) as CreateVpc takes it. Not
 * written: the change log (no data plane follows it in this bench) and tags.
 */
import { sql } from 'kysely';
import type { VpcsTable } from '../../src/store/schema.js';
import { openStore } from '../../src/store/store.js';

/** Rows per INSERT (9 columns: well under SQLite's and PostgreSQL's bound-parameter limits). */
const ROWS_PER_INSERT = 1000;
/** Rows per transaction. */
const ROWS_PER_TX = 20_000;

/** The name of the i-th seeded VPC; fixed width, so a vpc-name filter on one matches only it. */
export const seededVpcName = (i: number) => `bench-vpc-${String(i).padStart(6, '0')}`;

/**
 * The ID of the i-th seeded VPC: `vpc-z` and the index in base 36 — Tencent's form, unique by construction (random IDs
 * collide by the birthday bound long before 1,000,000: 8 characters of 36 give ~2.8e12).
 */
export const seededVpcId = (i: number) => `vpc-z${i.toString(36).padStart(7, '0')}`;

/** Adds VPCs to account `uin` until it has `target`; returns seconds spent. */
export async function seedVpcs(storeUrl: string, uin: string, target: number): Promise<number> {
  const t0 = performance.now();
  const store = await openStore(storeUrl);
  try {
    const have = Number(
      (await store.db.selectFrom('vpcs').select((eb) => eb.fn.countAll().as('n')).where('account', '=', uin).executeTakeFirstOrThrow()).n,
    );
    // Creation times one millisecond apart, continuing after any existing rows, as a stream of CreateVpc calls would leave them.
    const base = Date.parse('2024-01-01T00:00:00.000Z');
    for (let from = have; from < target; from += ROWS_PER_TX) {
      const to = Math.min(target, from + ROWS_PER_TX);
      await store.db.transaction().execute(async (tx) => {
        const meta = await tx.selectFrom('meta').select('next_vni').where('id', '=', 1).executeTakeFirstOrThrow();
        let vni = meta.next_vni;
        for (let i = from; i < to; i += ROWS_PER_INSERT) {
          const rows: VpcsTable[] = [];
          for (let j = i; j < Math.min(to, i + ROWS_PER_INSERT); j++)
            rows.push({
              id: seededVpcId(j),
              vni: vni++,
              account: uin,
              name: seededVpcName(j),
              cidr: `10.${(j >> 8) & 255}.${j & 255}.0/24`,
              is_default: 0,
              enable_multicast: 0,
              dns_servers: '["183.60.83.19","183.60.82.98"]',
              domain_name: '',
              created_at: new Date(base + j).toISOString(),
            });
          await tx.insertInto('vpcs').values(rows).execute();
        }
        await tx.updateTable('meta').set({ next_vni: vni }).where('id', '=', 1).execute();
        const count = to;
        const usage = await tx.selectFrom('usage').select('count').where('account', '=', uin).where('kind', '=', 'vpc').executeTakeFirst();
        if (usage) await tx.updateTable('usage').set({ count }).where('account', '=', uin).where('kind', '=', 'vpc').execute();
        else await tx.insertInto('usage').values({ account: uin, kind: 'vpc', count }).execute();
      });
    }
    // Fresh planner statistics after a bulk load, as autovacuum would gather them soon after.
    if (store.engine === 'postgres') await sql`ANALYZE vpcs`.execute(store.db);
  } finally {
    await store.close();
  }
  return (performance.now() - t0) / 1000;
}
