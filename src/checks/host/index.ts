import type { AnyCheck } from '../types.js';
import dockerdRunning from './dockerd-running.js';
import gwbridgeEgress from './gwbridge-egress.js';
import kernelModules from './kernel-modules.js';
import mountnsSeparate from './mountns-separate.js';
import nodeReachable from './node-reachable.js';

/** The host layer, in report order. */
export const hostLayer: readonly AnyCheck[] = [
  dockerdRunning,
  nodeReachable,
  mountnsSeparate,
  kernelModules,
  // sysctls, iptables backend, firewall, listen, offload, clock: still in ../host.ts while it is split.
  gwbridgeEgress,
];
