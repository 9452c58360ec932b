import type { AnyCheck } from '../types.js';
import advertiseAddress from './advertise-address.js';
import datapathPort from './datapath-port.js';
import engineSkew from './engine-skew.js';
import managersQuorum from './managers-quorum.js';
import nodesState from './nodes-state.js';
import subnetsOverlap from './subnets-overlap.js';
import swarmActive from './swarm-active.js';
import tasksPending from './tasks-pending.js';

/** The cluster layer, in report order. */
export const clusterLayer: readonly AnyCheck[] = [
  swarmActive,
  managersQuorum,
  nodesState,
  advertiseAddress,
  engineSkew,
  subnetsOverlap,
  datapathPort,
  tasksPending,
];
