/** The cvm service (2017-03-12). */
import type { ActionDef } from '../action.js';

export const cvmActions: readonly ActionDef[] = [];
