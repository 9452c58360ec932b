import { defineCheck } from '../types.js';
import { dockerSas, whenEncrypted } from './lib/ipsec.js';

export default defineCheck({
  meta: {
    id: 'overlay.encryption.sa-endpoints',
    layer: 'overlay',
    title: 'Both ends of an encrypted pair hold the same SA',
    looksAt:
      "Docker's ESP SAs (`ip xfrm state` in the host namespace, reqid 13681891) of each ordered node pair: the SA a node encrypts with toward its peer must exist on the peer under the same SPI and the same destination address, which is how the kernel finds it for an arriving packet. Behind 1:1 NAT a node keys the SAs it receives on its private address while its peers send to the public one (moby#37115): ESP is decrypted only where the NAT translates exactly, and flows one way only otherwise.",
    remediation:
      'Advertise an address both nodes see unchanged (`docker swarm join --advertise-addr <ip> --data-path-addr <ip>` with an address not translated between the nodes, e.g. a private network or a VPN between them), or do not encrypt overlays across the NAT.',
    scope: 'pair',
    failures: [15],
    needs: ['swarm', 'advertise-address'],
    causedBy: ['overlay.encryption.xfrm'],
    messages: {
      noEncrypted: 'no encrypted overlay network in the swarm',
      unreadable: '{problem}',
      none: 'no Docker SA from {node} to {peer}',
      match: '{count} SA {node} → {peer} held by both ends',
      differ:
        '{node} sends ESP to {peer} at {dst} (SPI {spi}), but {peer} holds that SA for {pdst}: it is decrypted only if a 1:1 NAT between them turns {dst} into {pdst}; compare the SA counters (`ip -s xfrm state`) on {peer}',
      unmatched: "{node}'s SA toward {peer} (SPI {spi}) has no counterpart on {peer}: ESP {node} → {peer} is dropped there",
    },
  },
  applies: (ctx) => whenEncrypted(ctx),
  check({ node, peer, report }) {
    const problem = !node.xfrm.ok ? node.xfrm.problem : !peer.xfrm.ok ? peer.xfrm.problem : null;
    if (problem !== null || !node.xfrm.ok || !peer.xfrm.ok) {
      report('skip', 'unreadable', { problem: problem ?? '' });
      return;
    }
    const theirs = new Map(dockerSas(peer.xfrm.value).map((s) => [s.spi, s]));
    const out = dockerSas(node.xfrm.value).filter((s) => s.dst === peer.addr && s.spi !== null);
    const at = { node: node.name, peer: peer.name };
    if (out.length === 0) {
      report('pass', 'none', at);
      return;
    }
    let bad = 0;
    for (const sa of out) {
      const other = theirs.get(sa.spi);
      const spi = sa.spi!;
      if (other === undefined) report('warn', 'unmatched', { ...at, spi });
      // The kernel finds an inbound SA by destination, SPI and protocol; the source may be translated freely.
      else if (other.dst !== sa.dst) report('warn', 'differ', { ...at, spi, dst: sa.dst, pdst: other.dst });
      else continue;
      bad++;
    }
    if (bad === 0) report('pass', 'match', { ...at, count: out.length });
  },
});
