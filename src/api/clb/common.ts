/**
 * What the clb actions share: ID forms, the account's load balancers and
 * listeners (another account's answer as missing), the busy rule, change
 * records and tasks. Error codes: docs/load-balancers.md "API".
 */
import { listenersOf, loadBalancersOf, runningTasks, startOperation, type ListenerRow, type LoadBalancerRow } from '../../store/load-balancers.js';
import { recordRunningTask } from '../../store/tasks.js';
import type { Write } from '../../store/store.js';
import type { Ctx } from '../action.js';
import { fail } from '../errors.js';
import { arr, idOf, int, obj, opt, str, type Schema } from '../params.js';

export const LB_ID = idOf('lb');
export const LISTENER_ID = idOf('lbl');

/** A malformed ID: clb's code for it is InvalidParameter.FormatError. */
export function checkId(id: string, pattern: RegExp, param: string, example: string): string {
  if (!pattern.test(id)) fail('InvalidParameter.FormatError', `\`${id}\` (\`${param}\`) is not a valid ID; expected the form ${example}.`);
  return id;
}
export const checkLbId = (id: string, param = 'LoadBalancerId') => checkId(id, LB_ID, param, 'lb-xxxxxxxx');
export const checkListenerId = (id: string, param = 'ListenerId') => checkId(id, LISTENER_ID, param, 'lbl-xxxxxxxx');

/** A list of IDs of at most `max`, each well formed, none twice. */
export function checkIdList(ids: readonly string[] | undefined, pattern: RegExp, param: string, example: string, max: number) {
  if (!ids) return;
  if (ids.length > max) fail('InvalidParameterValue.Length', `\`${param}\` takes at most ${max} IDs; ${ids.length} were given.`);
  ids.forEach((id, i) => checkId(id, pattern, `${param}.${i}`, example));
}

/** A name of 1 to 80 characters (load balancers and listeners). */
export const nameParam: Schema<string> = {
  describe: 'String',
  parse(v, path) {
    const s = str().parse(v, path);
    const n = [...s].length;
    if (n < 1 || n > 80) fail('InvalidParameterValue.Length', `\`${path}\` is ${n} characters long; give 1 to 80.`);
    if (/[\u{10000}-\u{10FFFF}]/u.test(s)) fail('InvalidParameterValue', `\`${path}\` holds a Unicode supplementary character (emoji …), which names may not.`);
    return s;
  },
};

/** clb's Target (RegisterTargets, DeregisterTargets, ModifyTargetWeight). */
export const targetParam = obj({
  Port: int(),
  Type: opt(str()),
  InstanceId: opt(str()),
  Weight: opt(int()),
  EniIp: opt(str()),
  Tag: opt(str()),
});

/** clb's TagInfo is {TagKey, TagValue}, not vpc's {Key, Value}. */
export const clbTagsParam = opt(arr(obj({ TagKey: str({ min: 1, max: 127 }), TagValue: str({ max: 255 }) }), { max: 20 }));

/** The account's load balancers `ids`, locked for the transaction; a missing or foreign one: InvalidParameter.LBIdNotFound. */
export async function ownLoadBalancers(w: Write, ctx: Ctx, ids: readonly string[], param = 'LoadBalancerIds'): Promise<LoadBalancerRow[]> {
  return foundLoadBalancers(await loadBalancersOf(w.tx, ctx.account.uin, [...new Set(ids)], ctx.store.engine), ids, param);
}

/** The account's load balancers `ids` (well formed), read outside a transaction (Describe actions). */
export async function readLoadBalancers(ctx: Ctx, ids: readonly string[], param: string): Promise<LoadBalancerRow[]> {
  return foundLoadBalancers(await loadBalancersOf(ctx.db, ctx.account.uin, [...new Set(ids)]), ids, param);
}

export async function readLoadBalancer(ctx: Ctx, id: string, param = 'LoadBalancerId'): Promise<LoadBalancerRow> {
  checkLbId(id, param);
  return (await readLoadBalancers(ctx, [id], param))[0]!;
}

function foundLoadBalancers(rows: LoadBalancerRow[], ids: readonly string[], param: string): LoadBalancerRow[] {
  const unique = [...new Set(ids)];
  const found = new Set(rows.map((r) => r.id));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) fail('InvalidParameter.LBIdNotFound', `The load balancer(s) ${missing.map((m) => `\`${m}\``).join(', ')} (\`${param}\`) do(es) not exist.`);
  return rows;
}

export async function ownLoadBalancer(w: Write, ctx: Ctx, id: string, param = 'LoadBalancerId'): Promise<LoadBalancerRow> {
  checkLbId(id, param);
  return (await ownLoadBalancers(w, ctx, [id], param))[0]!;
}

/** A listener of the load balancer; one of another load balancer (or none): InvalidParameter.ListenerIdNotFound. */
export async function listenerOf(db: Ctx['db'], lb: LoadBalancerRow, id: string, param = 'ListenerId'): Promise<ListenerRow> {
  checkListenerId(id, param);
  const [l] = await listenersOf(db, [lb.id], { ids: [id] });
  return l ?? fail('InvalidParameter.ListenerIdNotFound', `The load balancer \`${lb.id}\` has no listener \`${id}\` (\`${param}\`).`);
}

/** Tencent refuses a change while the load balancer is being created or another task on it runs. */
export async function refuseBusy(w: Write, lbs: readonly LoadBalancerRow[]) {
  const running = await runningTasks(w.tx, lbs.map((l) => l.operation_id));
  const busy = lbs.filter((l) => running.has(l.operation_id));
  if (busy.length)
    fail(
      'FailedOperation.ResourceInOperating',
      `The load balancer(s) ${busy.map((b) => `\`${b.id}\``).join(', ')} ${busy.length > 1 ? 'are' : 'is'} ${busy.some((b) => b.status === 0) ? 'being created or ' : ''}busy with task ${busy.map((b) => b.operation_id).join(', ')}; wait until DescribeTaskStatus says it is done (Status 0), then try again.`,
    );
}

/** Records a change of the load balancer and of its VPC, whose hosts route its VIP and return traffic. */
export function lbChanged(w: Write, lb: Pick<LoadBalancerRow, 'id' | 'account' | 'vpc_id'>, op: 'create' | 'update' | 'delete') {
  w.changed(lb.account, 'load_balancer', lb.id, op);
  w.changed(lb.account, 'vpc', lb.vpc_id, 'update');
}

/** Records the action's task (its RequestId) RUNNING, as the operation of the load balancers. */
export async function beginTask(w: Write, ctx: Ctx, action: string, lbIds: readonly string[]) {
  await recordRunningTask(w, ctx.account.uin, action, ctx.requestId);
  await startOperation(w.tx, lbIds, ctx.requestId);
}

/**
 * One transaction changing one load balancer as a task: locks it, refuses if
 * busy, runs `fn`, records the change and the task, then (committed) runs the
 * task. Answers what `fn` answers.
 */
export async function lbTask<T extends object>(ctx: Ctx, action: string, lbId: string, fn: (w: Write, lb: LoadBalancerRow) => Promise<T>): Promise<T> {
  checkLbId(lbId);
  const result = await ctx.write(async (w) => {
    const lb = await ownLoadBalancer(w, ctx, lbId);
    await refuseBusy(w, [lb]);
    const out = await fn(w, lb);
    await beginTask(w, ctx, action, [lb.id]);
    lbChanged(w, lb, 'update');
    return out;
  });
  ctx.tasks.run(ctx.requestId, { kind: 'lb', lbIds: [lbId] });
  return result;
}
