import type { AnyCheck } from '../types.js';
import networkEncrypted from './network-encrypted.js';
import networkExisting from './network-existing.js';
import networkExternal from './network-external.js';
import networkMtu from './network-mtu.js';
import networkSize from './network-size.js';
import networkSubnet from './network-subnet.js';
import placementFeasible from './placement-feasible.js';
import portsConflict from './ports-conflict.js';
import portsMesh from './ports-mesh.js';

/** The stack layer (gate only), in report order. */
export const stackLayer: readonly AnyCheck[] = [
  placementFeasible,
  networkExternal,
  networkExisting,
  networkSubnet,
  networkSize,
  networkMtu,
  networkEncrypted,
  portsConflict,
  portsMesh,
];
