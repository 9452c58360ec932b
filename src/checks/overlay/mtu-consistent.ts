import { vxlanLinks } from '../../model/overlay.js';
import { prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { groupBy } from './lib/sandbox.js';

export default defineCheck({
  meta: {
    id: 'overlay.mtu.consistent',
    layer: 'overlay',
    title: 'Overlay MTU fits the underlay MTU minus VXLAN overhead',
    looksAt:
      "MTU of vxlan/br0/veth links in each overlay sandbox vs the MTU of the host interface carrying the node's advertise address (minus 50 bytes, 70 over IPv6), and vs the network option com.docker.network.driver.mtu",
    remediation:
      'Re-create the network with a smaller MTU (docker network create -d overlay --opt com.docker.network.driver.mtu=<underlay MTU - 50> …; services must be moved to it), or raise the underlay MTU',
    scope: 'network-node',
    failures: [2],
    needs: ['advertise-address', 'section:link'],
    messages: {
      noUnderlay: 'no host interface of {node} carries its advertise address {addr}; underlay MTU unknown',
      tooLarge: '{sandbox}: {links}; {base}: full-size packets are fragmented or silently dropped (small requests work, large responses hang)',
      optionTooLarge: 'network option mtu={mtu} of {network}; {base}: tasks created from now on get a too-large MTU',
      optionDiffers: 'network option mtu={mtu} but {links} in {sandbox} on {node}: the sandbox was built with other settings',
      fits: '{link} ≤ {limit} ({iface} MTU {ifaceMtu} − {overhead})',
    },
  },
  check({ node, network: net, sandbox: sb, report }) {
    const addr = node.addr!;
    const iface = node.host?.interfaces.find((i) => i.addresses.some((a) => a.address === addr));
    if (!iface || iface.mtu === null) {
      report('skip', 'noUnderlay', { node: node.name, addr });
      return;
    }
    const overhead = addr.includes(':') ? 70 : 50;
    const limit = iface.mtu - overhead;
    const links = sb.snap.links.filter((l) => l.name !== 'lo' && l.mtu !== null && (l.kind === 'vxlan' || l.kind === 'bridge' || l.master !== null));
    const over = links.filter((l) => l.mtu! > limit);
    const vx = vxlanLinks(sb.snap);
    const base = `${iface.name} on ${prose(node.name)} has MTU ${iface.mtu}, so the overlay may use at most ${limit} (${overhead} bytes of VXLAN overhead)`;
    const name = shq(net.name);
    const remediation = net.ingress
      ? `re-create the ingress network with a smaller MTU (services publishing ports must be removed first): docker network rm ${name}; docker network create --driver overlay --ingress --opt com.docker.network.driver.mtu=${limit} ${name}; or raise the MTU of ${prose(iface.name)} on ${prose(node.name)}`
      : `docker network create -d overlay --opt com.docker.network.driver.mtu=${limit} … and move the services of ${prose(net.name)} to it (the MTU of an existing network cannot change), or raise the MTU of ${prose(iface.name)} on ${prose(node.name)}`;
    if (over.length > 0) {
      const byMtu = [...groupBy(over, (l) => String(l.mtu))].map(([mtu, ls]) => `${ls.map((l) => l.name).join(', ')} MTU ${mtu}`).join('; ');
      report('fail', 'tooLarge', { sandbox: sb.name, links: byMtu, base }, { remediation });
    } else if (net.mtu !== null && net.mtu > limit) {
      report('fail', 'optionTooLarge', { mtu: net.mtu, network: net.name, base }, { remediation });
    } else if (net.mtu !== null && vx.some((l) => l.mtu !== null && l.mtu !== net.mtu)) {
      report(
        'warn',
        'optionDiffers',
        { mtu: net.mtu, links: vx.map((l) => `${l.name} has MTU ${l.mtu}`).join(', '), sandbox: sb.name, node: node.name },
        {
          remediation: `systemctl restart docker on ${prose(node.name)} (or docker service update --force on the services of ${prose(net.name)}) so the sandbox is rebuilt`,
        },
      );
    } else {
      const shown = vx[0] ?? links[0];
      report('pass', 'fits', {
        link: shown ? `${shown.name} MTU ${shown.mtu}` : 'overlay MTU',
        limit,
        iface: iface.name,
        ifaceMtu: iface.mtu,
        overhead,
      });
    }
  },
});
