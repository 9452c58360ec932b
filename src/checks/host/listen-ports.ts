import { isLoopback } from '../../net/ip.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

const WILDCARD = new Set(['*', '0.0.0.0', '::', '']);

interface Want {
  proto: 'tcp' | 'udp';
  port: number;
  why: string;
}

export default defineCheck({
  meta: {
    id: 'host.listen.ports',
    layer: 'host',
    title: 'Swarm ports listening',
    looksAt:
      '`ss -tulnp` for tcp/2377 on managers, tcp+udp/7946 on every node, and the VXLAN socket on udp/<data-path port>, and the addresses they are bound to.',
    remediation: 'Restart dockerd on the node; check --listen-addr / --advertise-addr of the swarm join.',
    scope: 'node',
    failures: [],
    messages: {
      notCollected: 'listening sockets not collected: {reason}',
      dockerdStopped: 'dockerd is not running (see host.dockerd.running)',
      listening: 'listening: {ports}',
      nothing: 'nothing listens on {port} on {node}: {why} cannot reach this node.',
      loopback: '{port} listens only on {addresses} on {node}: other nodes cannot reach {why}.',
      elsewhere:
        '{port} listens on {addresses} on {node}, not on its advertise address {self} or all addresses: peers connecting to {selfOr} are refused.',
    },
  },
  check({ model, node, report }) {
    const h = node.host!;
    const l = h.listening;
    if ('unavailable' in l) return report('skip', 'notCollected', { reason: l.reason });
    if (!h.dockerd.running) return report('skip', 'dockerdStopped');
    const dp = model.cluster.dataPathPort;
    const self = node.addr;
    const n = node.name;
    const hasVxlan = node.sandboxes.some((s) => s.snap.links.some((x) => x.kind === 'vxlan'));
    const gossip = 'gossip (node discovery, network state)';
    const want: Want[] = [
      ...(node.manager ? [{ proto: 'tcp' as const, port: 2377, why: 'the swarm control plane (managers)' }] : []),
      { proto: 'tcp', port: 7946, why: gossip },
      { proto: 'udp', port: 7946, why: gossip },
      { proto: 'udp', port: dp, why: 'the VXLAN data path' },
    ];
    const good: string[] = [];
    let problems = 0;
    for (const w of want) {
      const port = `${w.proto}/${w.port}`;
      const socks = l.filter((s) => s.proto.startsWith(w.proto) && s.port === w.port);
      if (socks.length === 0) {
        if (w.port === dp && w.proto === 'udp' && !hasVxlan) {
          good.push(`${port} (no VXLAN socket yet: no overlay sandbox with a vxlan device on ${prose(n)})`);
          continue;
        }
        problems++;
        report(
          'fail',
          'nothing',
          { port, node: n, why: w.why },
          {
            remediation:
              w.port === dp
                ? `On ${prose(n)}: check that the overlay sandboxes have their vxlan device (\`docker network inspect${code(`, overlay checks) and that no other program holds udp/${dp}; restart dockerd (`)}systemctl restart docker\`).`
                : `On ${prose(n)}: \`systemctl restart docker\` and check \`docker info --format '{{.Swarm.LocalNodeState}}'\` is active; if it is not, rejoin the swarm.`,
          },
        );
        continue;
      }
      const addrs = socks.map((s) => s.address);
      if (addrs.some((a) => WILDCARD.has(a) || (self !== null && a === self))) {
        good.push(port);
        continue;
      }
      problems++;
      const addresses = addrs.join(', ');
      if (addrs.every((a) => isLoopback(a))) {
        report(
          'fail',
          'loopback',
          { port, addresses, node: n, why: w.why },
          {
            remediation: `On ${prose(n)}: the swarm was joined with a loopback --listen-addr; leave and rejoin with ${code(`docker swarm join --listen-addr 0.0.0.0:2377 --advertise-addr ${self !== null ? shq(self) : '<underlay IP>'} …`)}.`,
          },
        );
        continue;
      }
      const addr = self !== null ? shq(self) : '<underlay IP>';
      report(
        'warn',
        'elsewhere',
        { port, addresses, node: n, self: self ?? '(unknown)', selfOr: self ?? 'the advertise address' },
        {
          remediation: `On ${prose(n)}: make --listen-addr match the advertise address (rejoin with ${code(`--listen-addr ${addr}:2377 --advertise-addr ${addr}`)}).`,
        },
      );
    }
    if (problems === 0) report('pass', 'listening', { ports: good.join(', ') });
  },
});
