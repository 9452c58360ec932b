/**
 * The connection tracking table against nf_conntrack_max: when it is full
 * the kernel drops every packet that would start a new flow ("nf_conntrack:
 * table full, dropping packet"), routing mesh and NATed egress included.
 */
import { code, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { sysctlValue } from './lib/sysctl.js';

const WARN_AT = 0.8;

const num = (r: ReturnType<typeof sysctlValue>): number | null =>
  'value' in r && r.value !== null && /^[0-9]+$/.test(r.value) ? Number(r.value) : null;

export default defineCheck({
  meta: {
    id: 'host.tables.conntrack',
    layer: 'host',
    title: 'Conntrack table below nf_conntrack_max',
    looksAt:
      "net.netfilter.nf_conntrack_count (this network namespace's flows) against net.netfilter.nf_conntrack_max: warn at 80 %, fail when full. Absent when the nf_conntrack module is not loaded (then nothing is tracked and nothing can fill).",
    remediation: 'Raise `net.netfilter.nf_conntrack_max` (and persist it in /etc/sysctl.d/), or find what opens that many flows.',
    scope: 'node',
    failures: [34],
    messages: {
      notCollected: '{problem}',
      absent: 'no nf_conntrack_count on {node}: {why}',
      full: 'the conntrack table of {node} is full ({count} of nf_conntrack_max = {max}): the kernel drops packets that start new flows ("nf_conntrack: table full, dropping packet")',
      near: 'the conntrack table of {node} holds {count} flows, {percent} % of nf_conntrack_max = {max}',
      ok: '{count} of nf_conntrack_max = {max} tracked flows on {node}',
    },
  },
  check({ node, report }) {
    const count = sysctlValue(node, 'net/netfilter/nf_conntrack_count');
    if ('problem' in count) return report('skip', 'notCollected', { problem: count.problem });
    const c = num(count);
    const max = num(sysctlValue(node, 'net/netfilter/nf_conntrack_max'));
    if (!Object.hasOwn(node.host!.sysctls, 'net/netfilter/nf_conntrack_count')) {
      return report('skip', 'absent', { node: node.name, why: 'this collection did not read it (an older netdoctor or bundle)' });
    }
    if (c === null || max === null || max === 0) {
      return report('skip', 'absent', { node: node.name, why: 'nf_conntrack is not loaded (nothing is tracked)' });
    }
    const data = { node: node.name, count: c, max, percent: Math.floor((100 * c) / max) };
    const remediation = `On ${prose(node.name)}: ${code(`sysctl -w net.netfilter.nf_conntrack_max=${max * 2}`)} and persist it: ${code(`echo 'net.netfilter.nf_conntrack_max = ${max * 2}' > /etc/sysctl.d/90-conntrack.conf`)}; ${code('conntrack -S')} shows drops and insert failures.`;
    if (c >= max) return report('fail', 'full', data, { remediation });
    if (c >= WARN_AT * max) return report('warn', 'near', data, { remediation });
    report('pass', 'ok', data);
  },
});
