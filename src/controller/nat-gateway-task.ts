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
import { waitForNodes, type TaskWork } from './tasks.js';

const APPLY_TIMEOUT_MS = 120_000;

/** The work of the task (recorded RUNNING with the gateway) that makes NAT gateway `natId` AVAILABLE. */
export function natGatewayWork(store: Store, nat: { account: string; vpcId: string; natId: string }): TaskWork {
  const { account, vpcId, natId } = nat;
  return async () => {
    const pending = await waitForNodes(store, 'gateway', await store.revision(), APPLY_TIMEOUT_MS);
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
  };
}
