import type { ActionDef } from '../action.js';

export const taskActions: readonly ActionDef[] = [];
