import type { AnyCheck } from '../types.js';
import datapathUdp from './datapath-udp.js';
import espReachable from './esp-reachable.js';
import gossipTcp7946 from './gossip-tcp-7946.js';
import gossipUdp7946 from './gossip-udp-7946.js';
import managerTcp2377 from './manager-tcp-2377.js';
import mtuPath from './mtu-path.js';

/** The underlay layer, in report order. */
export const underlayLayer: readonly AnyCheck[] = [managerTcp2377, gossipTcp7946, gossipUdp7946, datapathUdp, espReachable, mtuPath];
