/** userns-remap on a swarm node (moby#33199): the overlay sandboxes break under remapping and cross-node connections fail. */
import { code, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'host.daemon.userns',
    layer: 'host',
    title: 'dockerd runs without userns-remap on swarm nodes',
    looksAt: '`docker info` SecurityOptions on each node: `name=userns` means dockerd runs with --userns-remap (daemon.json "userns-remap").',
    remediation:
      'Remove "userns-remap" from /etc/docker/daemon.json (or --userns-remap from dockerd\'s command line) on swarm nodes and restart docker.',
    scope: 'node',
    failures: [38],
    needs: ['swarm'],
    messages: {
      unreadable: '{problem}',
      remapped:
        'dockerd on {node} runs with userns-remap (SecurityOptions: {options}): overlay networking under user-namespace remapping is known to break cross-node connections of swarm tasks (moby#33199)',
      off: 'no userns-remap on {node} (SecurityOptions: {options})',
    },
  },
  check({ node, report }) {
    const d = node.extra.daemon;
    if (!d.ok) return report('skip', 'unreadable', { problem: d.problem });
    const options = d.value.securityOptions.join(', ') || 'none';
    if (!d.value.securityOptions.some((o) => o.split(',').includes('name=userns'))) return report('pass', 'off', { node: node.name, options });
    report(
      'warn',
      'remapped',
      { node: node.name, options },
      {
        remediation: `On ${prose(node.name)}: remove "userns-remap" from /etc/docker/daemon.json (and any --userns-remap in dockerd's unit), then ${code('systemctl restart docker')}; images and volumes stored under the remapped root (/var/lib/docker/<uid>.<gid>) are not seen by the unmapped daemon.`,
      },
    );
  },
});
