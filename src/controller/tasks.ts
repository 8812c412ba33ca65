/**
 * Persisted asynchronous tasks. An action that answers before its work is done
 * starts a task under its RequestId (Tencent's TaskId); the row says RUNNING
 * until the work settles, then SUCCESS or FAILED with an output text that
 * DescribeVpcTaskResult reports.
 *
 * This module runs a task's work in this process and records how it ended.
 * Which replica runs which task, and the resumption of tasks whose replica
 * died, is task-runner.ts's: there a task's work is data (task-work.ts), so
 * another replica can make the same work of it.
 */
import { currentRequestId, logger, withRequestId } from '../core/log.js';
import type { TasksTable } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { recordRunningTask } from '../store/tasks.js';

export type TaskStatus = TasksTable['status'];

/** The work of a task; what it resolves to becomes the task's output. */
export type TaskWork = () => Promise<string | void>;

export interface StartedTask {
  id: string;
  /**
   * Settles (never rejects) once the end of the work is stored, with the
   * status the task has then (RUNNING only if it could not be stored).
   */
  done: Promise<TaskStatus>;
}

const log = logger('task');

export const RESTARTED_OUTPUT = 'controller restarted before the task finished';

/**
 * Records a RUNNING task `requestId` for `account`, then runs `work` after the
 * caller has its answer, and records how it ended.
 */
export async function startTask(store: Store, account: string, action: string, requestId: string, work: TaskWork): Promise<StartedTask> {
  await store.write(async (w) => {
    await recordRunningTask(w, account, action, requestId);
  });
  return runTask(store, requestId, work);
}

/**
 * Runs `work` for a task already recorded RUNNING (store/tasks.ts
 * recordRunningTask, in the transaction of the action that created the
 * resource), after the caller has its answer, and records how it ended.
 */
export function runTask(store: Store, requestId: string, work: TaskWork, owner?: string): StartedTask {
  // The task's request ID is its TaskId: its logs and store writes carry it (also when recovered after a restart).
  const done = withRequestId(requestId, async (): Promise<TaskStatus> => {
    await new Promise((ok) => setImmediate(ok));
    log.info('task started');
    let status: TaskStatus;
    let output: string;
    try {
      output = (await work()) ?? '';
      status = 'SUCCESS';
    } catch (e) {
      status = 'FAILED';
      output = failureOutput(e);
    }
    log.info({ status, ...(output ? { output } : {}) }, `task ${status === 'SUCCESS' ? 'succeeded' : 'failed'}`);
    try {
      return await finishTask(store, requestId, status, output, owner);
    } catch (e) {
      // The store is gone (shutdown); the next start's recoverTasks fails the task.
      log.error({ err: e, status }, 'could not record how the task ended');
      return 'RUNNING';
    }
  });
  return { id: requestId, done };
}

/** Errors with a Tencent code are shown as such; anything else is internal and not leaked. */
function failureOutput(e: unknown): string {
  // An ApiError (named so, carrying a Tencent code) is said as the API would; the controller does not import the API plane.
  if (e instanceof Error && e.name === 'ApiError') return `${(e as Error & { code: string }).code}: ${e.message}`;
  log.error({ err: e }, 'task failed unexpectedly');
  return `InternalError: the task failed unexpectedly; report TaskId ${currentRequestId()}.`;
}

/** Records how a task ended (if `owner` is given, only while that replica owns it); answers the status the row has afterwards. */
export async function finishTask(store: Store, id: string, status: TaskStatus, output: string, owner?: string): Promise<TaskStatus> {
  return store.write(async (w) => {
    // Only a RUNNING task moves: one already failed stays failed; one taken over by another replica is that one's to end.
    let q = w.tx.updateTable('tasks').set({ status, output }).where('id', '=', id).where('status', '=', 'RUNNING');
    if (owner !== undefined) q = q.where('owner', '=', owner);
    const r = await q.executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return status;
    const now = await w.tx.selectFrom('tasks').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    return now.status;
  });
}

/**
 * Waits until every node of `role` ('gateway', 'lb') has applied `revision`
 * or `timeoutMs` passes; answers the nodes still behind, by name (none: the
 * change is in effect everywhere it must be). A node whose agent never
 * reported has not joined its cluster and is not waited for.
 */
export async function waitForNodes(store: Store, role: 'gateway' | 'lb', revision: number, timeoutMs: number, pollMs = 200): Promise<string[]> {
  const pending = async () =>
    (await store.db.selectFrom('hosts').select('id').where('role', '=', role).where('reported_at', 'is not', null).where('applied_revision', '<', revision).execute())
      .map((r) => r.id)
      .sort();
  const deadline = Date.now() + timeoutMs;
  let behind = await pending();
  while (behind.length && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, pollMs));
    behind = await pending();
  }
  return behind;
}
