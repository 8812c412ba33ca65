/**
 * Tasks finished within the request that started them. Tencent answers some
 * actions with a TaskId to poll (AllocateAddresses, AssociateAddress …);
 * where Weft's work is done once the transaction commits, the task is
 * recorded as SUCCESS in that same transaction, so DescribeVpcTaskResult
 * answers it at once. Tasks that outlive their request: controller/tasks.ts.
 */
import type { Write } from './store.js';

/** Records task `requestId` (the TaskId to answer) as done. */
export async function recordDoneTask(w: Write, account: string, action: string, requestId: string): Promise<string> {
  await w.tx.insertInto('tasks').values({ id: requestId, account, action, status: 'SUCCESS', output: '', created_at: w.now }).execute();
  return requestId;
}

/**
 * Records task `requestId` as RUNNING in the action's own transaction, so the
 * resource it will finish and the task commit together; controller/tasks.ts
 * runTask runs its work once the action has answered.
 */
export async function recordRunningTask(w: Write, account: string, action: string, requestId: string): Promise<string> {
  await w.tx.insertInto('tasks').values({ id: requestId, account, action, status: 'RUNNING', output: null, created_at: w.now }).execute();
  return requestId;
}
