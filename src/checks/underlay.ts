import type { Check } from './types.js';

export const underlayChecks: readonly Check[] = [];
