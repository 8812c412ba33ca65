/**
 * One target's health as one LB node's checks see it: the state machine the
 * health probe (agent/health-probe.ts) steps with each probe's outcome. Pure.
 *
 * Unknown until the first verdict: the first success makes it Alive at once
 * (a new target need not wait for `rise` successes), `fall` consecutive
 * failures make it Dead. Alive → Dead after `fall` consecutive failures; Dead
 * → Alive after `rise` consecutive successes. The counts are of the current
 * run of equal outcomes: an outcome of the other kind starts a new run.
 */
export type HealthStatus = 'Unknown' | 'Alive' | 'Dead';

export interface HealthState {
  status: HealthStatus;
  /** Consecutive successes (0 after a failure). */
  successes: number;
  /** Consecutive failures (0 after a success). */
  failures: number;
}

export const UNKNOWN_HEALTH: HealthState = Object.freeze({ status: 'Unknown', successes: 0, failures: 0 });

/** The state after one probe; `rise`, `fall` ≥ 1 (smaller counts as 1). */
export function healthStep(state: HealthState, ok: boolean, limits: { rise: number; fall: number }): HealthState {
  const successes = ok ? state.successes + 1 : 0;
  const failures = ok ? 0 : state.failures + 1;
  let status = state.status;
  if (ok && (status === 'Unknown' || (status === 'Dead' && successes >= Math.max(1, limits.rise)))) status = 'Alive';
  else if (!ok && status !== 'Dead' && failures >= Math.max(1, limits.fall)) status = 'Dead';
  return { status, successes, failures };
}
