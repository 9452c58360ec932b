import type { AnyCheck } from '../types.js';
import encryptionXfrm from './encryption-xfrm.js';

/** The overlay layer, in report order. */
export const overlayLayer: readonly AnyCheck[] = [encryptionXfrm];
