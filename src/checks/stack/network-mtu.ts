import { interfaceWithAddress } from '../../model/nodes.js';
import type { NodeModel } from '../../model/types.js';
import { listText } from '../../text/list.js';
import { shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { at, collected, stackOf } from './lib.js';

/** What docker assumes for the underlay when the network has no MTU option (moby overlay driver, maxMTU). */
export const DOCKER_BASE_MTU = 1500;
const MTU_OPT = 'com.docker.network.driver.mtu';

/** The MTU of the interface that holds the node's advertise address: where its VXLAN datagrams leave. */
function underlayMtu(n: NodeModel): { dev: string; mtu: number } | null {
  if (!n.host || !n.addr) return null;
  const dev = interfaceWithAddress(n.host, n.addr);
  const mtu = dev === null ? null : (n.host.interfaces.find((i) => i.name === dev)?.mtu ?? null);
  return dev !== null && mtu !== null && mtu > 0 ? { dev, mtu } : null;
}

export default defineCheck({
  meta: {
    id: 'stack.network.mtu',
    layer: 'stack',
    title: "The stack's overlays fit the underlay MTU",
    looksAt:
      "Per overlay network of the stack, its `com.docker.network.driver.mtu` (the value of an existing network, which stack deploy does not change; 1500 when unset) against the MTU of the interface holding the advertise address of every node its services can land on (live runs). Docker's overlay driver reads the option as the size of the VXLAN datagrams on the underlay: it gives the tasks' interfaces the option minus 50 bytes of VXLAN (moby libnetwork/drivers/overlay maxMTU: 1500 → 1450, 9000 → 8950; minus the ESP overhead too when encrypted). A task MTU above the node's underlay MTU − 50, that is an option above the underlay MTU, makes full-size packets too large for the underlay (FAILURES.md #2).",
    remediation:
      'Set the option to the smallest underlay MTU of the nodes (`driver_opts: {com.docker.network.driver.mtu: "<underlay MTU>"}`; docker subtracts the 50 bytes of VXLAN itself), or raise the underlay MTU on every node.',
    scope: 'cluster',
    failures: [2],
    needs: ['stack'],
    messages: {
      fits: '{network}: VXLAN datagrams of {base} bytes (task MTU {task}) fit the underlay of {nodes} (MTU {underlay})',
      tooLarge:
        '{network}: {source} makes VXLAN datagrams of {base} bytes (task MTU {task} + 50), larger than the underlay MTU of {nodes} ({underlay}): small packets pass, full-size ones are dropped between the nodes (large responses and TLS hang)',
      unknown: "{network}: the nodes' underlay MTU is not known without a live run (--no-live); the network makes VXLAN datagrams of {base} bytes",
    },
  },
  check({ model, report }) {
    const st = stackOf(model);
    for (const p of st.networks) {
      // An external network that is not a swarm overlay (missing, or host/bridge) is stack.network.external's.
      if (p.net.external && !p.existing) continue;
      const driver = p.existing?.driver ?? p.net.driver;
      if (driver !== 'overlay') continue;
      const option = p.existing ? p.existing.mtu : p.net.mtu;
      const base = option ?? DOCKER_BASE_MTU;
      const data = { network: p.net.name, base, task: base - 50 };
      const where =
        option !== null && !p.existing
          ? at(model, ['networks', p.net.key, 'driver_opts', MTU_OPT], { network: p.net.name })
          : at(model, ['networks', p.net.key], { network: p.net.name });
      const names = new Set(p.services.flatMap((s) => st.services.find((x) => x.svc.key === s.key)?.candidates ?? []));
      const known = collected(model, names).flatMap((n) => {
        const u = underlayMtu(n);
        return u ? [{ node: n.name, ...u }] : [];
      });
      if (known.length === 0) {
        report('skip', 'unknown', data, where);
        continue;
      }
      const small = known.filter((k) => k.mtu < base);
      const nodes = (ks: typeof known) => listText(ks.map((k) => `${k.node} (${k.dev})`));
      const mtus = (ks: typeof known) => listText([...new Set(ks.map((k) => String(k.mtu)))]);
      if (small.length === 0) {
        report('pass', 'fits', { ...data, nodes: nodes(known), underlay: mtus(known) }, where);
        continue;
      }
      const least = Math.min(...known.map((k) => k.mtu));
      const source = option === null ? 'no MTU option (docker assumes a 1500-byte underlay)' : `${MTU_OPT}=${option}`;
      report(
        'fail',
        'tooLarge',
        { ...data, source, nodes: nodes(small), underlay: mtus(small) },
        {
          ...where,
          remediation: p.existing
            ? `re-create the network with the MTU of the smallest underlay (an existing network keeps its options): docker network rm ${shq(p.net.name)} && docker network create -d overlay --opt ${MTU_OPT}=${least} ${shq(p.net.name)}; or raise the underlay MTU to ${base} on ${listText(small.map((k) => k.node))}`
            : `set driver_opts: {${MTU_OPT}: "${least}"} on ${p.net.key} (docker subtracts the 50 bytes of VXLAN itself), or raise the underlay MTU to ${base} on ${listText(small.map((k) => k.node))}`,
        },
      );
    }
  },
});
