import { defineCheck } from '../types.js';
import { prose } from '../../text/shell.js';

export default defineCheck({
  meta: {
    id: 'host.dockerd.running',
    layer: 'host',
    title: 'dockerd is running',
    looksAt: '`pidof dockerd` on each node.',
    remediation: 'Start Docker on the node (`systemctl start docker`) and read why it stopped (`journalctl -u docker -n 100`).',
    scope: 'node',
    failures: [],
    messages: {
      running: 'dockerd is running (pid {pid})',
      stopped: 'dockerd is not running on {node} ({why}): the node takes no part in the overlay data path and cannot run tasks.',
    },
  },
  check({ node, report }) {
    const d = node.host!.dockerd;
    if (d.running) {
      report('pass', 'running', { pid: d.pid ?? '?' });
      return;
    }
    const why = node.section('host/dockerd-pid')?.firstError || 'no dockerd process';
    report(
      'fail',
      'stopped',
      { node: node.name, why },
      {
        remediation: `On ${prose(node.name)}: \`systemctl start docker\`, then \`journalctl -u docker -n 100\` for why it stopped; \`docker node ls\` on a manager should show ${prose(node.name)} Ready again.`,
      },
    );
  },
});
