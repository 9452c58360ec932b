/**
 * live-restore on a swarm node: engines that refuse the combination log
 * "--live-restore daemon configuration is incompatible with swarm mode" and
 * leave the node out of the swarm; newer engines accept it (it then applies
 * to standalone containers only).
 */
import { code, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'host.daemon.live-restore',
    layer: 'host',
    title: 'live-restore does not keep a node out of the swarm',
    looksAt:
      "`docker info` LiveRestoreEnabled and Swarm.LocalNodeState on each node the swarm lists: live-restore on while the node's dockerd is not an active swarm member is the incompatibility older engines refuse (log.swarm.live-restore has dockerd's own line).",
    remediation: 'Set "live-restore": false in /etc/docker/daemon.json on the node and restart docker, then let it rejoin.',
    scope: 'node',
    failures: [],
    needs: ['swarm'],
    messages: {
      unreadable: '{problem}',
      outside:
        '{node} has live-restore on and its dockerd is not an active swarm member (Swarm.LocalNodeState {state}) although the swarm lists it: engines that refuse live-restore in swarm mode leave the node out this way',
      on: 'live-restore is on for {node} and it is an active swarm member (live-restore applies to its standalone containers only)',
      off: 'live-restore is off on {node}',
    },
  },
  check({ node, report }) {
    const d = node.extra.daemon;
    if (!d.ok) return report('skip', 'unreadable', { problem: d.problem });
    if (d.value.liveRestore !== true) return report('pass', 'off', { node: node.name });
    const state = d.value.swarmState ?? 'unknown';
    if (state === 'active' || node.summary === undefined) return report('pass', 'on', { node: node.name });
    report(
      'fail',
      'outside',
      { node: node.name, state },
      {
        remediation: `On ${prose(node.name)}: set "live-restore": false in /etc/docker/daemon.json, ${code('systemctl restart docker')}, and check ${code("docker info --format '{{.Swarm.LocalNodeState}}'")} says active.`,
      },
    );
  },
});
