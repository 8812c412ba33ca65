/**
 * The tasks of the clb actions (docs/load-balancers.md "API"): CreateLoadBalancer,
 * DeleteLoadBalancer and every listener or target change answer at once and
 * run a task under their RequestId (DescribeTaskStatus). The task succeeds
 * once every LB node has applied a document at least as new as the region's
 * revision when it began (the one that holds the change); a creating load
 * balancer (Status 0) becomes normal (Status 1) then. A node that has not done
 * so within APPLY_TIMEOUT_MS (its agent is down) fails the task; a creating
 * load balancer then stays creating until a later task on it succeeds (or it
 * is deleted). A region without LB nodes has nothing to wait for.
 *
 * While its task runs, the load balancer is busy: the actions refuse other
 * changes of it (FailedOperation.ResourceInOperating), as Tencent's do.
 */
import { settleCreating } from '../store/load-balancers.js';
import type { Store } from '../store/store.js';
import { runTask, waitForNodes, type StartedTask, type TaskWork } from './tasks.js';

const APPLY_TIMEOUT_MS = 120_000;

/** Runs task `taskId` (recorded RUNNING by the action) over the load balancers `lbIds`, in this process only (tests). */
export function runLbTask(store: Store, task: { taskId: string; lbIds: readonly string[]; timeoutMs?: number }): StartedTask {
  return runTask(store, task.taskId, lbWork(store, task));
}

/** The work of a task over the load balancers `lbIds`. */
export function lbWork(store: Store, task: { lbIds: readonly string[]; timeoutMs?: number }): TaskWork {
  const { lbIds } = task;
  const timeout = task.timeoutMs ?? APPLY_TIMEOUT_MS;
  return async () => {
    const pending = await waitForNodes(store, 'lb', await store.revision(), timeout);
    if (pending.length) {
      // Said to the user as an API error would be (tasks.ts failureOutput): what failed, and what to check.
      const e = new Error(`LB node(s) ${pending.join(', ')} did not apply the change within ${timeout / 1000} s (is their agent running?)`);
      throw Object.assign(e, { name: 'ApiError', code: 'FailedOperation' });
    }
    const creating = lbIds.length ? await store.db.selectFrom('load_balancers').select('id').where('id', 'in', [...lbIds]).where('status', '=', 0).execute() : [];
    // Most tasks change a normal load balancer: then no write, and the region's revision stays.
    if (creating.length)
      await store.write(async (w) => {
        for (const lb of await settleCreating(w.tx, lbIds)) {
          w.changed(lb.account, 'load_balancer', lb.id, 'update');
          w.changed(lb.account, 'vpc', lb.vpc_id, 'update');
        }
      });
    return '';
  };
}
