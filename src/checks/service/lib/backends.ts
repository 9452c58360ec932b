/**
 * The comparison both backend checks make (routing mesh in ingress_sbox, VIP
 * in lb_<prefix>): an IPVS fwmark service's real servers against the
 * addresses of the service's running tasks. The messages are spread into
 * each check's own.
 */
import { diffBackends } from '../../../model/lb.js';
import type { IpvsService } from '../../../parse/ipvs.js';
import type { NodeModel } from '../../../model/types.js';
import { listText } from '../../../text/list.js';
import { shq, prose } from '../../../text/shell.js';
import type { Reporter } from '../../types.js';
import { forceUpdate } from './lb.js';

export const BACKEND_MESSAGES = {
  noIpvsService: "{where} marks {service}'s traffic with fwmark {mark} but has no IPVS service for it: connections are not load-balanced and fail",
  balanced: '{where}: fwmark {mark} of {service} balances over all {count} running task(s)',
  wrongBackends: '{where}, IPVS fwmark {mark} of {service}: {problems}',
  drainedBackends: '{where}, IPVS fwmark {mark} of {service}: {problems}',
} as const;

export type BackendMessage = keyof typeof BACKEND_MESSAGES;

export interface BackendCase {
  node: NodeModel;
  /** The sandbox holding the IPVS table (ingress_sbox, lb_<prefix>). */
  sandbox: string;
  service: string;
  mark: number;
  ipvs: IpvsService | undefined;
  /** Running task address → task label. */
  expected: Map<string, string>;
}

/** One finding comparing an IPVS fwmark service's real servers with the running tasks. */
export function reportBackends(report: Reporter<BackendMessage>, c: BackendCase): void {
  const where = `${c.sandbox} on ${prose(c.node.name)}`;
  const base = { where, service: c.service, mark: c.mark };
  if (!c.ipvs) {
    report('fail', 'noIpvsService', base, {
      remediation: `${forceUpdate([c.service])} (docker re-programs the load balancer); if it stays missing, systemctl restart docker on ${prose(c.node.name)}`,
    });
    return;
  }
  const d = diffBackends(c.ipvs, c.expected);
  const label = (ip: string) => `${ip} (${c.expected.get(ip)})`;
  const liveStale = d.stale.filter((s) => s.weight > 0);
  const parts: string[] = [];
  if (d.missing.length > 0) parts.push(`missing backends ${listText(d.missing.map(label))}: those tasks get no traffic through ${c.node.name}`);
  if (d.stale.length > 0) {
    const these = d.stale.length === 1 ? 'this address' : 'these addresses';
    const effect = liveStale.length > 0 ? ', connections sent there time out' : ' (weight 0: being removed)';
    parts.push(`stale backends ${listText(d.stale.map((s) => `${s.ip} (weight ${s.weight})`))}: no running task has ${these}${effect}`);
  }
  if (d.drained.length > 0) parts.push(`running tasks with weight 0 (drained, get no new connections): ${listText(d.drained.map(label))}`);
  if (parts.length === 0) {
    report('pass', 'balanced', { ...base, count: d.present });
    return;
  }
  const ns = c.node.nsenter(c.sandbox);
  const byHand = [
    ...d.stale.map((s) => `${ns} ipvsadm -d -f ${c.mark} -r ${shq(`${s.ip}:0`)}`),
    ...d.missing.map((ip) => `${ns} ipvsadm -a -f ${c.mark} -r ${shq(`${ip}:0`)} -m -w 1`),
  ];
  const fail = d.missing.length > 0 || liveStale.length > 0;
  report(
    fail ? 'fail' : 'warn',
    fail ? 'wrongBackends' : 'drainedBackends',
    { ...base, problems: parts.join('; ') },
    {
      remediation: `${forceUpdate([c.service])} (re-programs the backends on every node)${byHand.length > 0 ? `; by hand on ${prose(c.node.name)}: ${byHand.join('; ')}` : ''}`,
    },
  );
}
