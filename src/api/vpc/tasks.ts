/** DescribeVpcTaskResult: the state of an asynchronous call, by its RequestId (controller/tasks.ts runs them). */
import { defineAction } from '../action.js';
import { ApiError, invalidValue } from '../errors.js';
import { obj, str } from '../params.js';

/** RequestIds are UUIDs (core/ids.ts newRequestId). */
const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const describeVpcTaskResult = defineAction({
  service: 'vpc',
  name: 'DescribeVpcTaskResult',
  params: obj({ TaskId: str() }),
  async run(ctx, p) {
    // Plain InvalidParameterValue: .Malformed is not among the codes documented for this action.
    if (!TASK_ID.test(p.TaskId))
      throw invalidValue('TaskId', `\`${p.TaskId}\` is not a task ID; pass the RequestId of the asynchronous call (a UUID)`);
    const task = await ctx.db
      .selectFrom('tasks')
      .select(['status', 'output'])
      .where('id', '=', p.TaskId.toLowerCase())
      .where('account', '=', ctx.account.uin)
      .executeTakeFirst();
    // Another account's task answers exactly like a missing one.
    if (!task) throw new ApiError('ResourceNotFound', `The task \`${p.TaskId}\` (\`TaskId\`) does not exist.`);
    return { Status: task.status, Output: task.output ?? '', Result: [] };
  },
});

export const taskActions = [describeVpcTaskResult];
