import type { Check } from './types.js';

export const overlayChecks: readonly Check[] = [];
