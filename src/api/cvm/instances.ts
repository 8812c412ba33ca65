import type { ActionDef } from '../action.js';

export const instanceActions: readonly ActionDef[] = [];
