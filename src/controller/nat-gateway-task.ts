/**
 * The task CreateNatGateway starts: the gateway is PENDING until the task
 * finds it applied, then AVAILABLE. What "applied" means is one function,
 * `natGatewayApplied`; today no gateway node programs NAT yet, so it holds as
 * soon as the runner picks the task up. The data-plane step will make it
 * "every gateway node has applied the revision that created it".
 */
import { settlePendingNat } from '../store/nat-gateways.js';
import type { Store } from '../store/store.js';
import { runTask, type StartedTask } from './tasks.js';

/** Whether the gateway is in effect wherever it must be (today: always; no data plane programs NAT yet). */
export async function natGatewayApplied(_store: Store, _natId: string): Promise<boolean> {
  return true;
}

const POLL_MS = 200;

/** Runs the task `taskId` (recorded RUNNING with the gateway) that makes NAT gateway `natId` AVAILABLE. */
export function runNatGatewayTask(store: Store, nat: { account: string; vpcId: string; natId: string; taskId: string }): StartedTask {
  const { account, vpcId, natId, taskId } = nat;
  return runTask(store, taskId, async () => {
    while (!(await natGatewayApplied(store, natId))) await new Promise((ok) => setTimeout(ok, POLL_MS));
    const settled = await store.write(async (w) => {
      const ok = await settlePendingNat(w.tx, natId, 'AVAILABLE');
      if (ok) {
        w.changed(account, 'nat_gateway', natId, 'update');
        w.changed(account, 'vpc', vpcId, 'update');
      }
      return ok;
    });
    // Deleted while PENDING: the task is done, there is nothing left to make available.
    return settled ? `${natId} AVAILABLE` : `${natId} was deleted before it became available`;
  });
}
