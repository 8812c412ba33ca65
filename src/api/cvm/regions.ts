import type { ActionDef } from '../action.js';

export const regionActions: readonly ActionDef[] = [];
