import type { AnyCheck } from '../types.js';
import encryptionRules from './encryption-rules.js';
import encryptionSa from './encryption-sa.js';
import gossipBulkSync from './gossip-bulk-sync.js';
import gossipFlapping from './gossip-flapping.js';
import gossipHealth from './gossip-health.js';
import gossipMembership from './gossip-membership.js';
import gossipTcpFallback from './gossip-tcp-fallback.js';
import gossipUdpBlocked from './gossip-udp-blocked.js';
import ipamExhausted from './ipam-exhausted.js';
import kernelTables from './kernel-tables.js';
import lbIpvs from './lb-ipvs.js';
import nodeAddressChange from './node-address-change.js';
import peerdbDuplicateIp from './peerdb-duplicate-ip.js';
import peerdbFdbSync from './peerdb-fdb-sync.js';
import peerdbResolve from './peerdb-resolve.js';
import swarmLiveRestore from './swarm-live-restore.js';
import tlsCertificate from './tls-certificate.js';
import underlayIpv6 from './underlay-ipv6.js';
import vxlanCreate from './vxlan-create.js';

/** The log layer, in report order: what dockerd and the kernel said (model/log.ts, model/log-signatures.ts). */
export const logLayer: readonly AnyCheck[] = [
  gossipUdpBlocked,
  gossipFlapping,
  gossipTcpFallback,
  gossipHealth,
  gossipBulkSync,
  gossipMembership,
  peerdbResolve,
  peerdbFdbSync,
  peerdbDuplicateIp,
  vxlanCreate,
  lbIpvs,
  encryptionRules,
  encryptionSa,
  ipamExhausted,
  tlsCertificate,
  nodeAddressChange,
  underlayIpv6,
  swarmLiveRestore,
  kernelTables,
];
