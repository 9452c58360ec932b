import type { AnyCheck } from '../types.js';
import swarmActive from './swarm-active.js';

/** The cluster layer, in report order. */
export const clusterLayer: readonly AnyCheck[] = [swarmActive];
