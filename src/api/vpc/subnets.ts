import type { ActionDef } from '../action.js';

export const subnetActions: readonly ActionDef[] = [];
