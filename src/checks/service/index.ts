import type { AnyCheck } from '../types.js';

/** The service layer, in report order. */
export const serviceLayer: readonly AnyCheck[] = [];
