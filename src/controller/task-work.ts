/**
 * What a long task does, as data: the row of a task holds its spec (JSON), so
 * whichever replica runs it — the one whose action started it, or one that
 * took it over after that one died (task-runner.ts) — makes the same work of
 * it. Every kind's work is safe to run again from the start: it waits for
 * nodes to apply the region's current revision and then settles its
 * resources with conditional updates.
 */
import type { Store } from '../store/store.js';
import { lbWork } from './lb-task.js';
import { natGatewayWork } from './nat-gateway-task.js';
import type { TaskWork } from './tasks.js';

export type TaskSpec =
  /** CreateNatGateway: AVAILABLE once every gateway node has the gateway. */
  | { kind: 'nat-gateway'; account: string; vpcId: string; natId: string }
  /** A clb action: done once every LB node has the change; creating load balancers become normal. */
  | { kind: 'lb'; lbIds: string[] };

export function workOf(store: Store, spec: TaskSpec): TaskWork {
  switch (spec.kind) {
    case 'nat-gateway':
      return natGatewayWork(store, spec);
    case 'lb':
      return lbWork(store, spec);
  }
}

/** A stored spec, or undefined when the text is not one this version knows (the task then fails). */
export function parseTaskSpec(text: string | null): TaskSpec | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as TaskSpec;
    if (v.kind === 'nat-gateway' && typeof v.natId === 'string' && typeof v.vpcId === 'string' && typeof v.account === 'string') return v;
    if (v.kind === 'lb' && Array.isArray(v.lbIds) && v.lbIds.every((i) => typeof i === 'string')) return v;
  } catch {
    // not JSON: not a spec
  }
  return undefined;
}
