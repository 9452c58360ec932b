import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'cluster.datapath.port',
    layer: 'cluster',
    title: 'VXLAN data-path port',
    looksAt: "The swarm's data-path port (4789 unless `docker swarm init --data-path-port`), which every firewall between nodes must allow as udp.",
    remediation: 'Allow udp/<data-path port> between all nodes in every firewall and security group.',
    scope: 'cluster',
    failures: [4],
    needs: ['swarm'],
    messages: {
      default: 'data-path port is the default udp/4789',
      outOfRange:
        'data-path port is {port}, outside 1024–49151 (the range docker swarm init accepts): it may collide with a well-known or ephemeral port.',
      custom: 'data-path port is {port} (not 4789): firewalls and security groups between the nodes must allow udp/{port}, not udp/4789',
    },
  },
  check({ model, report }) {
    const port = model.cluster.dataPathPort;
    if (port === 4789) report('pass', 'default');
    else if (port < 1024 || port > 49151) {
      report('warn', 'outOfRange', { port }, { remediation: 'Re-create the swarm with `docker swarm init --data-path-port <1024-49151>`.' });
    } else report('pass', 'custom', { port });
  },
});
