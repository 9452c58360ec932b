/**
 * Load-balancer state for the service checks, in the exact form real hosts
 * print it (test/fixtures/{ipvs,iptables}), matched to the recorded lab: web
 * publishes 8080/tcp (fwmark 0x100 = 256 in ingress_sbox), its tasks are
 * 10.0.0.6/7/8 on ingress and 10.0.1.3/4/5 on ndnet (VIP 10.0.1.2, fwmark
 * 0x101 = 257 in lb_aweos9uhr). The lab kernel has no IPVS, so its own
 * recording holds none of this.
 */
import { readFileSync } from 'node:fs';
import type { ClusterSnapshot } from '../../src/snapshot/types.js';
import { labWith, NDNET_LB, nodeOf, ok } from './lab-mutate.js';

export const fixture = (dir: string, name: string): string => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');

/** `ipvsadm -Ln` output with the given service and real-server lines. */
export const ipvsText = (...lines: string[]): string =>
  [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    ...lines,
  ].join('\n');

/** One masqueraded real server line of `ipvsadm -Ln`. */
export const real = (ip: string, weight = 1): string => `  -> ${`${ip}:0`.padEnd(28)} Masq    ${weight}      0          0`;

export const INGRESS_IPVS_OK = ipvsText('FWM  256 rr', real('10.0.0.6'), real('10.0.0.7'), real('10.0.0.8'));
export const LB_IPVS_OK = ipvsText('FWM  257 rr', real('10.0.1.3'), real('10.0.1.4'), real('10.0.1.5'));

/** The docker 24 host dump without the 5353/udp service the lab does not have. */
export const HOST_NAT_OK = fixture('iptables', 'swarm-node-docker24-legacy.txt')
  .split('\n')
  .filter((l) => !l.includes('5353'))
  .join('\n');

export interface LbSections {
  ingressIpvs?: string;
  ingressMangle?: string;
  hostIptables?: string;
  lbIpvs?: string;
  lbMangle?: string;
}

/** The recorded lab with nd1 given a working IPVS and the given load-balancer state (nd2/nd3 keep the lab's kernel without IPVS). */
export function labWithIpvs(sections: LbSections = {}, more?: (s: ClusterSnapshot) => void): ClusterSnapshot {
  return labWith((s) => {
    const raw = nodeOf(s, 'nd1').raw;
    raw['netns/ingress_sbox/ipvs'] = ok(sections.ingressIpvs ?? INGRESS_IPVS_OK);
    raw['netns/ingress_sbox/iptables-mangle'] = ok(sections.ingressMangle ?? fixture('iptables', 'ingress-sbox-mangle.txt'));
    raw['host/iptables-save'] = ok(sections.hostIptables ?? HOST_NAT_OK);
    raw[`netns/${NDNET_LB}/ipvs`] = ok(sections.lbIpvs ?? LB_IPVS_OK);
    raw[`netns/${NDNET_LB}/iptables-mangle`] = ok(sections.lbMangle ?? fixture('iptables', 'lb-sandbox.txt'));
    more?.(s);
  });
}
