/**
 * DescribeTaskStatus: the state of a clb task by its TaskId (the RequestId of
 * the action that started it) or DealName (CreateLoadBalancer's answer, the
 * same RequestId). Status 0 success, 1 failed, 2 running.
 */
import { loadBalancersOfTask } from '../../store/load-balancers.js';
import { defineAction } from '../action.js';
import { fail } from '../errors.js';
import { obj, opt, str } from '../params.js';

/** RequestIds are UUIDs (core/ids.ts newRequestId). */
const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATUS = { SUCCESS: 0, FAILED: 1, RUNNING: 2 } as const;

export const describeTaskStatus = defineAction({
  service: 'clb',
  name: 'DescribeTaskStatus',
  params: obj({ TaskId: opt(str()), DealName: opt(str()) }),
  async run(ctx, p) {
    if ((p.TaskId === undefined) === (p.DealName === undefined)) fail('InvalidParameter', 'Give exactly one of `TaskId` and `DealName`.');
    const param = p.TaskId !== undefined ? 'TaskId' : 'DealName';
    const id = (p.TaskId ?? p.DealName)!;
    if (!TASK_ID.test(id)) fail('InvalidParameter', `\`${id}\` (\`${param}\`) is not a task ID; pass the RequestId of the asynchronous call (a UUID).`);
    const task = await ctx.db
      .selectFrom('tasks')
      .select(['status', 'output', 'action'])
      .where('id', '=', id.toLowerCase())
      .where('account', '=', ctx.account.uin)
      .executeTakeFirst();
    // Another account's task answers exactly like a missing one.
    if (!task) return fail('InvalidParameter', `The task \`${id}\` (\`${param}\`) does not exist.`);
    return {
      Status: STATUS[task.status],
      LoadBalancerIds: task.action === 'CreateLoadBalancer' ? await loadBalancersOfTask(ctx.db, ctx.account.uin, id.toLowerCase()) : null,
      Message: task.output ?? '',
    };
  },
});

export const taskActions = [describeTaskStatus];
