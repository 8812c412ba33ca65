/** Every action the endpoint serves. Action names do not collide across services. */
import type { ActionDef } from './action.js';
import { clbActions } from './clb/index.js';
import { cvmActions } from './cvm/index.js';
import { vpcActions } from './vpc/index.js';
import { netDetectActions } from './vpc/net-detects.js';

export const ACTIONS: readonly ActionDef[] = [...vpcActions, ...cvmActions, ...clbActions, ...netDetectActions];
