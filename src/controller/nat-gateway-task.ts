/**
 * The task CreateNatGateway starts: the gateway is PENDING until every
 * gateway node has applied a document at least as new as the region's
 * revision when the task began (the one that holds the gateway), then
 * AVAILABLE. A node that has not done so within APPLY_TIMEOUT_MS (its agent
 * is down) fails the task, and the gateway is PENDFAILURE. A region without
 * gateway nodes (the sim data plane with none) has nothing to wait for.
 */
import { settlePendingNat } from '../store/nat-gateways.js';
import type { Store } from '../store/store.js';
import { runTask, type StartedTask } from './tasks.js';

/**
 * Gateway nodes that have not yet applied `revision`, by name (none: the
 * gateway is in effect everywhere it must be). A node whose agent never
 * reported has not joined the cluster and is not waited for.
 */
export async function natGatewayPending(store: Store, revision: number): Promise<string[]> {
  const rows = await store.db
    .selectFrom('hosts')
    .select('id')
    .where('role', '=', 'gateway')
    .where('reported_at', 'is not', null)
    .where('applied_revision', '<', revision)
    .execute();
  return rows.map((r) => r.id).sort();
}

const APPLY_TIMEOUT_MS = 120_000;
const POLL_MS = 200;

/** Runs the task `taskId` (recorded RUNNING with the gateway) that makes NAT gateway `natId` AVAILABLE. */
export function runNatGatewayTask(store: Store, nat: { account: string; vpcId: string; natId: string; taskId: string }): StartedTask {
  const { account, vpcId, natId, taskId } = nat;
  return runTask(store, taskId, async () => {
    const { revision } = await store.db.selectFrom('meta').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
    const deadline = Date.now() + APPLY_TIMEOUT_MS;
    let pending = await natGatewayPending(store, revision);
    while (pending.length && Date.now() < deadline) {
      await new Promise((ok) => setTimeout(ok, POLL_MS));
      pending = await natGatewayPending(store, revision);
    }
    const state = pending.length ? 'PENDFAILURE' : 'AVAILABLE';
    const settled = await store.write(async (w) => {
      const ok = await settlePendingNat(w.tx, natId, state);
      if (ok) {
        w.changed(account, 'nat_gateway', natId, 'update');
        w.changed(account, 'vpc', vpcId, 'update');
      }
      return ok;
    });
    if (pending.length) {
      // Said to the user as an API error would be (tasks.ts failureOutput): what failed, and what to check.
      const e = new Error(`gateway node(s) ${pending.join(', ')} did not apply ${natId} within ${APPLY_TIMEOUT_MS / 1000} s (is their agent running?); delete it and create it again`);
      throw Object.assign(e, { name: 'ApiError', code: 'FailedOperation' });
    }
    // Deleted while PENDING: the task is done, there is nothing left to make available.
    return settled ? `${natId} AVAILABLE` : `${natId} was deleted before it became available`;
  });
}
