import { defineCheck } from '../types.js';
import { sshAdvice, STAGE_TEXT, stageOf, targetText } from './lib/ssh-advice.js';

export default defineCheck({
  meta: {
    id: 'host.node.reachable',
    layer: 'host',
    title: 'Node collected over SSH',
    looksAt:
      'Whether netdoctor could SSH to each swarm node and run the read-only collection (connect, host key, authentication, sudo, script output).',
    remediation: 'Make the node reachable over SSH for netdoctor (address, key, host key, passwordless sudo), then run it again.',
    // Cluster scope: it reports the nodes the framework skips (not collected) and swarm members this run did not try.
    scope: 'cluster',
    failures: [],
    // A machine that is off is down in the swarm too: cluster.nodes.state names the cause, SSH failing follows.
    causedBy: ['cluster.nodes.state'],
    messages: {
      failed: '{node} {what}: {message} ({where}); every other check skips this node.',
      partial: '{node} was only partly collected ({where}): {errors}; checks that need the missing sections skip.',
      collected: 'collected over SSH as {where} in {ms} ms',
      notTried: '{node} is a swarm {role} but was not collected in this run',
    },
  },
  check({ model, report }) {
    for (const { name, snap: n } of model.nodes) {
      const where = targetText(n.target);
      const first = n.errors[0];
      const stage = stageOf(first);
      if (n.host === null) {
        report(
          'fail',
          'failed',
          { node: name, what: STAGE_TEXT[stage], message: first?.message ?? `no output (status ${n.status})`, where },
          { node: name, remediation: sshAdvice(name, n.target, stage) },
        );
      } else if (n.status !== 'ok' || n.errors.length > 0) {
        const errors = n.errors.map((e) => `${e.stage}: ${e.message}`).join('; ') || n.status;
        report('warn', 'partial', { node: name, where, errors }, { node: name, remediation: sshAdvice(name, n.target, stage) });
      } else {
        report('pass', 'collected', { where, ms: n.timings.totalMs }, { node: name });
      }
    }
    for (const s of model.cluster.nodes) {
      if (!model.nodeFor(s)) report('skip', 'notTried', { node: s.name, role: s.role }, { node: s.name });
    }
  },
});
