import type { ActionDef } from '../action.js';

export const securityGroupActions: readonly ActionDef[] = [];
