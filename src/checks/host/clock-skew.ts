import type { Model, NodeModel } from '../../model/types.js';
import { defineCheck } from '../types.js';
import { prose } from '../../text/shell.js';

/** Seconds. Warn: clocks are not being kept in step. Fail: half of swarmkit's 1 h certificate backdate. */
const CLOCK_WARN_S = 5;
const CLOCK_FAIL_S = 30 * 60;

const fmtS = (s: number): string => (Math.abs(s) >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

interface Clock {
  node: NodeModel;
  /** Node clock minus the time netdoctor received it, seconds. */
  offset: number;
  /** Measurement error: how long the collection took, seconds. */
  err: number;
}

/** Every collected clock and their median offset, once per run. */
const clocksOf = new WeakMap<Model, { clocks: Clock[]; median: number }>();
function clocks(model: Model): { clocks: Clock[]; median: number } {
  const cached = clocksOf.get(model);
  if (cached) return cached;
  const list: Clock[] = [];
  for (const node of model.nodes) {
    const c = node.host?.clock;
    if (!c) continue;
    const t = node.snap.timings;
    list.push({ node, offset: c.node - c.localReceived, err: (t.execMs ?? t.totalMs) / 1000 });
  }
  const sorted = list.map((c) => c.offset).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const out = { clocks: list, median };
  clocksOf.set(model, out);
  return out;
}

export default defineCheck({
  meta: {
    id: 'host.clock.skew',
    layer: 'host',
    title: 'Node clocks in step',
    looksAt: `Each node's clock (date at collection) against the time netdoctor received it, compared across nodes: a node more than ${CLOCK_WARN_S} s from the nodes' median warns (time sync is not working: logs cannot be correlated and the drift grows), more than ${CLOCK_FAIL_S / 60} min fails (swarm TLS certificates are backdated 1 h: beyond that, certificates fresh from a manager are "not yet valid" on a lagging node). The collection time of each node is allowed as error.`,
    remediation:
      'Enable time synchronisation on the node (`timedatectl set-ntp true`, chrony or systemd-timesyncd) and check it (`chronyc tracking` / `timedatectl timesync-status`).',
    scope: 'node',
    failures: [31],
    messages: {
      notCollected: 'clock not collected: {reason}',
      alone: "only one node's clock was collected: nothing to compare it with",
      inStep: `clock within ${CLOCK_WARN_S} s of the other nodes ({deviation} from the median)`,
      drift:
        "{node}'s clock is {relation}: time synchronisation is not keeping it in step (logs across nodes no longer line up, and the drift grows toward swarm's 1 h TLS margin).",
      beyondTls: `{node}'s clock is {relation}: beyond ${CLOCK_FAIL_S / 60} min the 1 h backdate of swarm TLS certificates is nearly used up; certificate renewal and joins fail with "certificate is not yet valid" or "expired".`,
    },
  },
  check({ model, node, report }) {
    const { clocks: all, median } = clocks(model);
    const me = all.find((c) => c.node === node);
    if (!me) return report('skip', 'notCollected', { reason: node.unavailable('host/clock', 'date') });
    if (all.length < 2) return report('skip', 'alone');
    const dev = me.offset - median;
    const skew = Math.abs(dev) - me.err;
    // The peer it disagrees with most.
    const far = all.filter((c) => c !== me).reduce((a, b) => (Math.abs(b.offset - me.offset) > Math.abs(a.offset - me.offset) ? b : a));
    const apart = far.offset - me.offset;
    const relation = `${fmtS(Math.abs(dev))} ${dev > 0 ? 'ahead of' : 'behind'} the nodes' median (${fmtS(Math.abs(apart))} ${apart > 0 ? 'behind' : 'ahead of'} ${far.node.name}; measurement error up to ${fmtS(me.err)})`;
    const n = node.name;
    if (skew > CLOCK_FAIL_S) {
      report(
        'fail',
        'beyondTls',
        { node: n, relation },
        {
          peer: far.node.name,
          remediation: `On ${prose(n)}: set the time (\`chronyc makestep\` or \`timedatectl set-ntp true\`) and keep it synchronised; then check \`docker node ls\` on a manager.`,
        },
      );
    } else if (skew > CLOCK_WARN_S) {
      report(
        'warn',
        'drift',
        { node: n, relation },
        {
          peer: far.node.name,
          remediation: `On ${prose(n)}: \`timedatectl set-ntp true\` (or enable chrony/systemd-timesyncd) and check \`timedatectl timesync-status\`.`,
        },
      );
    } else report('pass', 'inStep', { deviation: `${dev >= 0 ? '+' : '-'}${fmtS(Math.abs(dev))}` });
  },
});
