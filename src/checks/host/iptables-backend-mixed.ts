import { defineCheck } from '../types.js';
import { code, prose } from '../../text/shell.js';

export default defineCheck({
  meta: {
    id: 'host.iptables.backend-mixed',
    layer: 'host',
    title: 'One iptables backend',
    looksAt: 'Which backends (iptables-legacy-save, iptables-nft-save) hold Docker chains, and which backend `iptables` itself uses.',
    remediation:
      "Pick one backend (`update-alternatives --config iptables` and ip6tables), clear Docker's rules from the other, then `systemctl restart docker`.",
    scope: 'node',
    failures: [26],
    messages: {
      both: 'Docker chains exist in both iptables-legacy and iptables-nft on {node} (`iptables` uses {backend}{version}): the kernel runs both rule sets, so stale rules in one backend can drop what Docker programs in the other, and firewall changes made with one tool miss the other.',
      dockerdStopped: 'dockerd is not running (see host.dockerd.running)',
      unreadable: 'iptables not readable: {problem}',
      none: 'no Docker chains in either iptables backend on {node} although dockerd runs: with --iptables=false (or "iptables": false in daemon.json) published ports and the routing mesh are not programmed.',
      otherBackend:
        "Docker's chains are in iptables-{docker} but `iptables` on {node} uses {backend}: rules added with `iptables` (your firewall, DOCKER-USER) land in a different rule set than Docker's.",
      one: 'Docker chains only in iptables-{docker}; `iptables` uses {backend}',
    },
  },
  check({ node, report }) {
    const ipt = node.host!.iptables;
    const inn = ipt.dockerRulesIn;
    const backend = ipt.defaultBackend;
    const n = node.name;
    if (inn.length === 2) {
      const other = backend === 'nft' ? 'legacy' : 'nft';
      const keep = backend === 'unknown' ? 'nft' : backend;
      const x = `iptables-${other}`;
      report(
        'fail',
        'both',
        { node: n, backend, version: ipt.version ? `: ${ipt.version}` : '' },
        {
          remediation: `On ${prose(n)}: choose one backend for iptables and ip6tables (${code(`update-alternatives --set iptables /usr/sbin/iptables-${keep}`)}, same for ip6tables), review and flush the ${other} tables (${code(`${x}-save`)}, then ${code(`${x} -F && ${x} -t nat -F && ${x} -X && ${x} -t nat -X`)}), then \`systemctl restart docker\`.`,
        },
      );
      return;
    }
    if (inn.length === 0) {
      if (!node.host!.dockerd.running) return report('skip', 'dockerdStopped');
      if (node.section('host/iptables-save')?.ok !== true)
        return report('skip', 'unreadable', { problem: node.unavailable('host/iptables-save', 'iptables-save') });
      report(
        'warn',
        'none',
        { node: n },
        {
          remediation: `On ${prose(n)}: remove "iptables": false from /etc/docker/daemon.json (or --iptables=false from dockerd's command line) and \`systemctl restart docker\`.`,
        },
      );
      return;
    }
    const docker = inn[0]!;
    if (backend !== 'unknown' && backend !== docker) {
      report(
        'warn',
        'otherBackend',
        { docker, node: n, backend },
        {
          remediation: `On ${prose(n)}: ${code(`update-alternatives --set iptables /usr/sbin/iptables-${docker}`)} (and ip6tables), or switch Docker to ${backend} by restarting it with that alternative selected.`,
        },
      );
      return;
    }
    report('pass', 'one', { docker, backend });
  },
});
