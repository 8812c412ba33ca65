import type { ActionDef } from '../action.js';

export const privateIpActions: readonly ActionDef[] = [];
