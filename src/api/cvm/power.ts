/**
 * Instance power (cvm 2017-03-12): StopInstances, StartInstances, RebootInstances.
 *
 * To the network a stopped instance has no port: the compiler leaves STOPPED
 * instances out of their host's document, so the agent removes the namespace
 * and a route next hop on it drops out of its ECMP group. The instance keeps
 * its host, private IP, MAC, ENI and security groups, so a start brings the
 * same port back on the same host.
 *
 * Each call is one transaction and all-or-nothing: one instance of the batch
 * in the wrong state (or missing, or another account's) and nothing changes.
 * Error codes come from the per-action lists in tencentcloud-sdk-go
 * cvm/v20170312/client.go: UnsupportedOperation.InstanceState<State> names
 * the state that forbids the operation.
 */
import type { Write } from '../../store/store.js';
import { defineAction } from '../action.js';
import { fail } from '../errors.js';
import { bool, obj, opt, str } from '../params.js';
import { checkInstanceIds, idList, markOperation, MAX_BATCH, ownInstances, type Spec } from './instances.js';

const STOP_TYPES = ['SOFT', 'HARD', 'SOFT_FIRST'] as const;
const STOPPED_MODES = ['KEEP_CHARGING', 'STOP_CHARGING'] as const;

/** `PENDING` → `Pending`, `LAUNCH_FAILED` → `LaunchFailed`: the suffix of CVM's state error codes. */
const stateCode = (state: string) =>
  state
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

/** What to do about an instance in `state`, for the error of an action that needs another state. */
const ADVICE: Record<string, string> = {
  PENDING: 'it is launching or starting; wait until DescribeInstances reports it RUNNING',
  RUNNING: 'it is already running',
  STOPPED: 'it is stopped; StartInstances starts it',
};

/**
 * The account's instances among `ids`, all of them in state `required` as
 * DescribeInstances reports it (PENDING reads RUNNING once the host applied
 * the placement); otherwise the error for the first one that is not.
 */
async function instancesIn(w: Write, account: string, ids: readonly string[], required: 'RUNNING' | 'STOPPED', action: string) {
  const rows = await ownInstances(w, account, ids);
  for (const id of ids) {
    const state = rows.find((r) => r.id === id)!.effective_state;
    if (state !== required)
      fail(
        `UnsupportedOperation.InstanceState${stateCode(state)}`,
        `The instance \`${id}\` is ${state}, but ${action} takes ${required} instances only (${ADVICE[state] ?? 'wait for its operation to finish'}); nothing was changed.`,
      );
  }
  return rows;
}

/** ForceStop/ForceReboot are the deprecated form of StopType; Tencent refuses both together. */
function checkStopType(force: boolean | undefined, stopType: string | undefined, forceName: string) {
  if (force !== undefined && stopType !== undefined)
    fail('InvalidParameterCombination', `\`${forceName}\` is deprecated and cannot be given with \`StopType\`; give \`StopType\` alone.`);
}

export const stopInstances = defineAction({
  service: 'cvm',
  name: 'StopInstances',
  params: obj({
    InstanceIds: idList(MAX_BATCH, 1),
    ForceStop: opt(bool()),
    StopType: opt(str({ oneOf: STOP_TYPES })),
    StoppedMode: opt(str({ oneOf: STOPPED_MODES })),
  }),
  async run(ctx, p) {
    checkStopType(p.ForceStop, p.StopType, 'ForceStop');
    const ids = checkInstanceIds(p.InstanceIds, 'InstanceIds');
    const uin = ctx.account.uin;
    // Weft stops at once (there is no guest to shut down, soft or hard): STOPPING is never observable,
    // the instance reads STOPPED as soon as this commits and its port goes with the host's next document.
    return ctx.write(async (w) => {
      const rows = await instancesIn(w, uin, ids, 'RUNNING', 'StopInstances');
      for (const r of rows) {
        // StoppedMode is kept for DescribeInstances' StopChargingMode; Weft bills nothing either way.
        const spec: Spec = { ...(JSON.parse(r.spec) as Spec), StoppedMode: p.StoppedMode ?? 'KEEP_CHARGING' };
        await w.tx.updateTable('instances').set({ state: 'STOPPED', spec: JSON.stringify(spec) }).where('id', '=', r.id).execute();
        w.changed(uin, 'instance', r.id, 'update');
      }
      await markOperation(w, ids, 'StopInstances', ctx.requestId);
      return {};
    });
  },
});

export const startInstances = defineAction({
  service: 'cvm',
  name: 'StartInstances',
  params: obj({ InstanceIds: idList(MAX_BATCH, 1) }),
  async run(ctx, p) {
    const ids = checkInstanceIds(p.InstanceIds, 'InstanceIds');
    const uin = ctx.account.uin;
    return ctx.write(async (w) => {
      const rows = await instancesIn(w, uin, ids, 'STOPPED', 'StartInstances');
      // As after a launch: PENDING (LatestOperationState OPERATING) until the instance's host has applied a
      // document of this revision, which has its port again; RUNNING from then on (effectiveState).
      const revision = await w.revision();
      for (const r of rows) {
        const { StoppedMode: _, ...spec } = JSON.parse(r.spec) as Spec;
        await w.tx
          .updateTable('instances')
          .set({ state: 'PENDING', placed_revision: revision, spec: JSON.stringify(spec) })
          .where('id', '=', r.id)
          .execute();
        w.changed(uin, 'instance', r.id, 'update');
      }
      await markOperation(w, ids, 'StartInstances', ctx.requestId);
      return {};
    });
  },
});

export const rebootInstances = defineAction({
  service: 'cvm',
  name: 'RebootInstances',
  params: obj({ InstanceIds: idList(MAX_BATCH, 1), ForceReboot: opt(bool()), StopType: opt(str({ oneOf: STOP_TYPES })) }),
  async run(ctx, p) {
    checkStopType(p.ForceReboot, p.StopType, 'ForceReboot');
    const ids = checkInstanceIds(p.InstanceIds, 'InstanceIds');
    const uin = ctx.account.uin;
    // A Weft instance is a namespace with no guest to restart: a reboot changes nothing in the network (no
    // change is logged, no document is recompiled) and is done when committed. REBOOTING is never observable.
    return ctx.write(async (w) => {
      await instancesIn(w, uin, ids, 'RUNNING', 'RebootInstances');
      await markOperation(w, ids, 'RebootInstances', ctx.requestId);
      return {};
    });
  },
});

export const powerActions = [stopInstances, startInstances, rebootInstances];
