import type { AnyCheck } from '../types.js';
import clockSkew from './clock-skew.js';
import dockerdRunning from './dockerd-running.js';
import gwbridgeEgress from './gwbridge-egress.js';
import kernelModules from './kernel-modules.js';
import mountnsSeparate from './mountns-separate.js';
import nodeReachable from './node-reachable.js';
import firewallPorts from './firewall-ports.js';
import firewallForward from './firewall-forward.js';
import iptablesBackendMixed from './iptables-backend-mixed.js';
import listenPorts from './listen-ports.js';
import offloadVxlanChecksum from './offload-vxlan-checksum.js';
import sysctlBridgeNf from './sysctl-bridge-nf.js';
import sysctlIpForward from './sysctl-ip-forward.js';
import sysctlRpFilter from './sysctl-rp-filter.js';
import tablesNeighbours from './tables-neighbours.js';
import tablesConntrack from './tables-conntrack.js';
import dnsNameservers from './dns-nameservers.js';
import daemonUserns from './daemon-userns.js';
import daemonLiveRestore from './daemon-live-restore.js';
import underlayIpv4 from './underlay-ipv4.js';
import kernelXtU32 from './kernel-xt-u32.js';
import networkmanagerDevices from './networkmanager-devices.js';

/** The host layer, in report order. */
export const hostLayer: readonly AnyCheck[] = [
  dockerdRunning,
  nodeReachable,
  mountnsSeparate,
  kernelModules,
  sysctlIpForward,
  sysctlBridgeNf,
  sysctlRpFilter,
  iptablesBackendMixed,
  firewallPorts,
  firewallForward,
  listenPorts,
  offloadVxlanChecksum,
  clockSkew,
  gwbridgeEgress,
  kernelXtU32,
  tablesNeighbours,
  tablesConntrack,
  dnsNameservers,
  daemonUserns,
  daemonLiveRestore,
  underlayIpv4,
  networkmanagerDevices,
];
