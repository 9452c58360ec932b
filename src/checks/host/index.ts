import type { AnyCheck } from '../types.js';
import dockerdRunning from './dockerd-running.js';

/** The host layer, in report order. */
export const hostLayer: readonly AnyCheck[] = [dockerdRunning];
