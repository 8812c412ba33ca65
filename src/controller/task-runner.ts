/**
 * Which replica runs which task. An action records its task RUNNING in its own
 * transaction (store/tasks.ts), then asks this replica's runner to run it: the
 * runner claims the row (owner = this replica, work = the spec) and runs the
 * work (tasks.ts runTask). Every beat of the replica's lease (replicas.ts) it
 * adopts what nobody runs any more:
 * - tasks of a replica whose lease ran out (it died, or lost the store), and
 *   those of this replica's own earlier process (same ID, not running here):
 *   resumed from their spec, the same work from the start (task-work.ts);
 * - tasks with no owner for longer than CLAIM_GRACE_MS (their action
 *   committed, then its process died before the claim) or whose spec this
 *   version cannot read: nothing can resume them; they fail with
 *   RESTARTED_OUTPUT, and a NAT gateway they left PENDING becomes PENDFAILURE.
 * A claim is one conditional update (owner as read), so two replicas adopting
 * together run a task once. A replica cut off from the store while its lease
 * runs out may still be running a task another has adopted: both do the same
 * idempotent work, and only the owner's ending is recorded.
 */
import { logger } from '../core/log.js';
import { failOrphanedNatGateways } from '../store/nat-gateways.js';
import type { Store } from '../store/store.js';
import { liveReplicaIds } from './replicas.js';
import { parseTaskSpec, workOf, type TaskSpec } from './task-work.js';
import { finishTask, RESTARTED_OUTPUT, runTask, type StartedTask } from './tasks.js';

const CLAIM_GRACE_MS = 30_000;
const log = logger('task');

export interface TaskRunner {
  /** Claims task `taskId` (recorded RUNNING by the action, now committed) and runs the work `spec` describes. */
  run(taskId: string, spec: TaskSpec): StartedTask;
}

/** The runner of replica `owner`. */
export function createTaskRunner(store: Store, owner: string) {
  /** Tasks this process runs now. */
  const running = new Map<string, Promise<unknown>>();

  async function claim(taskId: string, from: string | null, spec: TaskSpec | undefined): Promise<boolean> {
    let q = store.db
      .updateTable('tasks')
      .set({ owner, ...(spec ? { work: JSON.stringify(spec) } : {}) })
      .where('id', '=', taskId)
      .where('status', '=', 'RUNNING');
    q = from === null ? q.where('owner', 'is', null) : q.where('owner', '=', from);
    return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
  }

  /** Runs `spec`'s work for `taskId` once `claimed` says this replica owns it. */
  function start(taskId: string, spec: TaskSpec, claimed: Promise<boolean>): StartedTask {
    const work = workOf(store, spec);
    const t = runTask(
      store,
      taskId,
      async () => {
        if (!(await claimed)) throw new Error(`task ${taskId} was claimed by another replica`);
        return work();
      },
      owner,
    );
    running.set(taskId, t.done);
    void t.done.finally(() => running.delete(taskId));
    return t;
  }

  const runner: TaskRunner = { run: (taskId, spec) => start(taskId, spec, claim(taskId, null, spec)) };

  /** Adopts the tasks nobody runs; answers how many it resumed and how many it failed. */
  async function adopt(): Promise<{ resumed: number; failed: number }> {
    const rows = await store.db.selectFrom('tasks').select(['id', 'owner', 'work', 'created_at']).where('status', '=', 'RUNNING').execute();
    if (!rows.length) return { resumed: 0, failed: 0 };
    const live = await liveReplicaIds(store);
    let resumed = 0;
    let failed = 0;
    for (const r of rows) {
      if (running.has(r.id)) continue;
      const orphaned = r.owner === null ? Date.parse(r.created_at) < Date.now() - CLAIM_GRACE_MS : r.owner === owner || !live.has(r.owner);
      if (!orphaned || !(await claim(r.id, r.owner, undefined))) continue;
      const spec = parseTaskSpec(r.work);
      if (spec) {
        log.info({ task: r.id, from: r.owner }, 'resuming a task whose replica is gone');
        start(r.id, spec, Promise.resolve(true));
        resumed++;
      } else {
        await finishTask(store, r.id, 'FAILED', RESTARTED_OUTPUT, owner);
        failed++;
      }
    }
    if (failed) await failOrphanedNatGateways(store);
    return { resumed, failed };
  }

  return { ...runner, adopt, running: () => new Set(running.keys()) };
}
