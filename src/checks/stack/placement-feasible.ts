import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { at, stackOf } from './lib.js';

export default defineCheck({
  meta: {
    id: 'stack.placement.feasible',
    layer: 'stack',
    title: "Every service's replicas can be placed",
    looksAt:
      'Placement constraints (node.role, node.hostname, node.id, node.ip, node.labels.*, engine.labels.*, node.platform.os/arch) and max_replicas_per_node, resolved against the Ready and Active nodes as swarm resolves them.',
    remediation:
      'Relax the constraint, label a node (`docker node update --label-add KEY=VALUE NODE`), raise max_replicas_per_node, or lower replicas.',
    scope: 'cluster',
    failures: [],
    needs: ['stack'],
    messages: {
      placed: '{service}: {replicas} on {candidates}',
      badConstraint: '{service}: {error}; docker refuses the service',
      nowhere: '{service}: no Ready and Active node satisfies {constraints}; its tasks stay pending ("no suitable node")',
      tooFew: '{service}: {replicas} replicas but at most {max} per node on {count} eligible node(s) ({candidates}): {pending} stay pending',
    },
  },
  check({ model, report }) {
    for (const p of stackOf(model).services) {
      const s = p.svc;
      const where = at(model, ['services', s.key, 'deploy'], { service: s.name });
      const base = { service: s.name, candidates: listText(p.candidates), count: p.candidates.length };
      if (p.badConstraints.length > 0) {
        report(
          'fail',
          'badConstraint',
          { service: s.name, error: p.badConstraints.join('; ') },
          at(model, ['services', s.key, 'deploy', 'placement', 'constraints'], { service: s.name }),
        );
      } else if (p.candidates.length === 0 && (s.mode === 'global' || s.replicas > 0)) {
        report(
          'fail',
          'nowhere',
          { service: s.name, constraints: s.constraints.length ? s.constraints.join(' and ') : 'no constraint (no Ready and Active node at all)' },
          at(model, ['services', s.key, 'deploy', 'placement', 'constraints'], { service: s.name }),
        );
      } else if (s.mode === 'replicated' && s.maxReplicasPerNode !== null && s.maxReplicasPerNode * p.candidates.length < s.replicas) {
        const max = s.maxReplicasPerNode;
        report(
          'fail',
          'tooFew',
          { ...base, replicas: s.replicas, max, pending: s.replicas - max * p.candidates.length },
          at(model, ['services', s.key, 'deploy', 'replicas'], { service: s.name }),
        );
      } else {
        report('pass', 'placed', { ...base, replicas: s.mode === 'global' ? 'one task each' : `${s.replicas} replica(s)` }, where);
      }
    }
  },
});
