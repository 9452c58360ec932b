import type { AnyCheck } from '../types.js';
import encryptionXfrm from './encryption-xfrm.js';
import ipamCapacity from './ipam-capacity.js';

/** The overlay layer, in report order. */
export const overlayLayer: readonly AnyCheck[] = [encryptionXfrm, ipamCapacity];
