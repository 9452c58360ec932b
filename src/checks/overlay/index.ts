import type { AnyCheck } from '../types.js';
import datapathMtu from './datapath-mtu.js';
import datapathReachable from './datapath-reachable.js';
import encryptionPolicyPort from './encryption-policy-port.js';
import encryptionSaEndpoints from './encryption-sa-endpoints.js';
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
import fdbLearned from './fdb-learned.js';
import vxlanSource from './vxlan-source.js';
import vxlanStray from './vxlan-stray.js';

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
  encryptionSaEndpoints,
  encryptionPolicyPort,
  ipamCapacity,
  fdbLearned,
  vxlanSource,
  vxlanStray,
  networkdbViews,
  ipamDuplicate,
];
