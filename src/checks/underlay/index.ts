import type { AnyCheck } from '../types.js';

/** The underlay layer, in report order. */
export const underlayLayer: readonly AnyCheck[] = [];
