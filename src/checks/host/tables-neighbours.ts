/**
 * The kernel's IPv4 neighbour table against its hard limit: beyond
 * net.ipv4.neigh.default.gc_thresh3 new neighbours are refused ("neighbor
 * table overflow!") and traffic to them drops. Swarm adds a permanent entry
 * per remote task in every overlay sandbox, so large swarms reach the
 * default 1024 (libnetwork#1522).
 */
import { code, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { sysctlValue } from './lib/sysctl.js';

const WARN_AT = 0.8;

export default defineCheck({
  meta: {
    id: 'host.tables.neighbours',
    layer: 'host',
    title: 'Neighbour table below gc_thresh3',
    looksAt:
      "The IPv4 neighbour table's entries (/proc/net/stat/arp_cache, every namespace's, overlay sandboxes' permanent entries included) against net.ipv4.neigh.default.gc_thresh3: warn at 80 %, fail at the limit; the table's overflow count since boot is shown. Kernels since 4.19 do not count permanent entries against the limit, so the total is an upper bound there. Only the host's network namespace has these files.",
    remediation:
      'Raise the neighbour table limits (`sysctl -w net.ipv4.neigh.default.gc_thresh1=8192 net.ipv4.neigh.default.gc_thresh2=16384 net.ipv4.neigh.default.gc_thresh3=32768`) and persist them in /etc/sysctl.d/.',
    scope: 'node',
    failures: [34],
    messages: {
      unreadable: '{problem}',
      noLimit: 'net.ipv4.neigh.default.gc_thresh3 could not be read on {node} ({why}); the table holds {entries} entries',
      full: 'the IPv4 neighbour table of {node} holds {entries} entries, at or above gc_thresh3 = {limit}: the kernel refuses new neighbours ("neighbor table overflow!") and traffic to them drops{fulls}',
      near: 'the IPv4 neighbour table of {node} holds {entries} entries, {percent} % of gc_thresh3 = {limit}: a few more tasks or peers fill it{fulls}',
      ok: '{entries} of gc_thresh3 = {limit} neighbour entries on {node}{fulls}',
    },
  },
  check({ node, report }) {
    const n = node.extra.neighbours;
    if (!n.ok) return report('skip', 'unreadable', { problem: n.problem });
    const { entries, tableFulls } = n.value;
    const fulls = tableFulls > 0 ? ` (the table was full ${tableFulls} times since boot: see the kernel log)` : '';
    const v = sysctlValue(node, 'net/ipv4/neigh/default/gc_thresh3');
    const limit = 'value' in v && v.value !== null && /^[0-9]+$/.test(v.value) ? Number(v.value) : null;
    if (limit === null || limit === 0) {
      return report('skip', 'noLimit', { node: node.name, why: 'problem' in v ? v.problem : `value ${v.value ?? 'absent'}`, entries });
    }
    const data = { node: node.name, entries, limit, percent: Math.floor((100 * entries) / limit), fulls };
    const raise = Math.max(limit * 4, 8192);
    const remediation = `On ${prose(node.name)}: ${code(`sysctl -w net.ipv4.neigh.default.gc_thresh1=${raise / 4} net.ipv4.neigh.default.gc_thresh2=${raise / 2} net.ipv4.neigh.default.gc_thresh3=${raise}`)} and persist the three in /etc/sysctl.d/90-swarm.conf.`;
    if (entries >= limit) return report('fail', 'full', data, { remediation });
    if (entries >= WARN_AT * limit) return report('warn', 'near', data, { remediation });
    report('pass', 'ok', data);
  },
});
