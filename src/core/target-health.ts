/**
 * A target's health as the cluster sees it, from what each LB node's health
 * checks last said of it (contract/agent-report.ts LbHealthReport). Pure.
 *
 * Any node finding it Alive makes it Alive: a node that is cut off from the
 * fabric finds every target dead, and must not take them out of the others'
 * tables. Dead only when every node that said something says Dead. Health
 * checks off: Close (Tencent's word), and the target takes traffic.
 */
export type TargetHealthDetail = 'Alive' | 'Dead' | 'Unknown' | 'Close';

export function targetHealth(nodeStatuses: readonly string[], checksOn: boolean): TargetHealthDetail {
  if (!checksOn) return 'Close';
  if (nodeStatuses.includes('Alive')) return 'Alive';
  if (nodeStatuses.length && nodeStatuses.every((s) => s === 'Dead')) return 'Dead';
  return 'Unknown';
}

/** Whether a target in that state takes new flows (weight permitting): only once a check has found it alive. */
export const takesTraffic = (h: TargetHealthDetail) => h === 'Alive' || h === 'Close';
