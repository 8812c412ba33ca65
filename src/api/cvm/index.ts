/** The cvm service (2017-03-12). */
import type { ActionDef } from '../action.js';
import { instanceActions } from './instances.js';
import { powerActions } from './power.js';
import { regionActions } from './regions.js';

export const cvmActions: readonly ActionDef[] = [...regionActions, ...instanceActions, ...powerActions];
