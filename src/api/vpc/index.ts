/** The vpc service (2017-03-12). */
import type { ActionDef } from '../action.js';
import { vpcActionsList } from './vpcs.js';

export const vpcActions: readonly ActionDef[] = [...vpcActionsList];
