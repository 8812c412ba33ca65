/** The clb 2018-03-17 actions Weft serves: layer-4 load balancers (docs/load-balancers.md "API"). */
import type { ActionDef } from '../action.js';
import { listenerActions } from './listeners.js';
import { loadBalancerActions } from './load-balancers.js';
import { targetActions } from './targets.js';
import { taskActions } from './tasks.js';

export const clbActions: readonly ActionDef[] = [...loadBalancerActions, ...listenerActions, ...targetActions, ...taskActions];
