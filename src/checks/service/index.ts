import type { AnyCheck } from '../types.js';
import ingressBackends from './ingress-backends.js';
import ingressDnat from './ingress-dnat.js';
import ingressIpvsAvailable from './ingress-ipvs-available.js';
import ingressMark from './ingress-mark.js';
import ingressSandbox from './ingress-sandbox.js';
import vipBackends from './vip-backends.js';
import lbIpForward from './lb-ip-forward.js';
import ipvsSysctls from './ipvs-sysctls.js';
import ipvsTimeout from './ipvs-timeout.js';
import dnsRecords from './dns-records.js';
import conntrackStaleUdp from './conntrack-stale-udp.js';

/** The service layer, in report order. */
export const serviceLayer: readonly AnyCheck[] = [
  ingressSandbox,
  ingressIpvsAvailable,
  ingressDnat,
  ingressMark,
  ingressBackends,
  vipBackends,
  lbIpForward,
  ipvsSysctls,
  ipvsTimeout,
  dnsRecords,
  conntrackStaleUdp,
];
