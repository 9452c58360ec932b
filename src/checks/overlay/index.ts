import type { AnyCheck } from '../types.js';
import datapathMtu from './datapath-mtu.js';
import datapathReachable from './datapath-reachable.js';
import encryptionXfrm from './encryption-xfrm.js';
import fdbMissing from './fdb-missing.js';
import ipamCapacity from './ipam-capacity.js';
import ipamDuplicate from './ipam-duplicate.js';
import fdbStale from './fdb-stale.js';
import fdbWrongDst from './fdb-wrong-dst.js';
import mtuConsistent from './mtu-consistent.js';
import neighConsistent from './neigh-consistent.js';
import networkdbViews from './networkdb-views.js';
import peersConsistent from './peers-consistent.js';
import sandboxMissing from './sandbox-missing.js';
import vxlanConfig from './vxlan-config.js';

/** The overlay layer, in report order. */
export const overlayLayer: readonly AnyCheck[] = [
  sandboxMissing,
  vxlanConfig,
  mtuConsistent,
  fdbMissing,
  fdbWrongDst,
  fdbStale,
  neighConsistent,
  peersConsistent,
  datapathReachable,
  datapathMtu,
  encryptionXfrm,
  ipamCapacity,
  networkdbViews,
  ipamDuplicate,
];
