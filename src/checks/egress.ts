/**
 * Egress through docker_gwbridge: every swarm task (and ingress_sbox) has a
 * leg on the node's docker_gwbridge, which is how containers on overlay
 * networks reach anything outside the swarm. Docker NATs that traffic with a
 * MASQUERADE rule for the bridge's subnet in nat POSTROUTING.
 */
import type { NetworkFacts } from '../snapshot/types.js';
import { cidrsOverlap, formatIp, networkOf, type Cidr } from '../net/ip.js';
import { perNode, underlayPrefixes, type CollectedNode } from '../model/nodes.js';
import { hostFirewall } from '../model/firewall.js';
import { defineCheck, type Check, type FindingDraft } from './legacy.js';

const GWBRIDGE = 'docker_gwbridge';

const cidrText = (c: Cidr, address: string): string => `${address}/${c.prefix}`;

/** Whether the node runs anything that needs the gateway bridge (ingress_sbox or a container sandbox). */
const needsGwbridge = (n: CollectedNode): boolean => n.sandboxes.some((s) => s.kind === 'ingress' || s.kind === 'container');

/** Docker's `-s <subnet> ! -o docker_gwbridge -j MASQUERADE` in nat POSTROUTING of any host dump (the kernel runs both backends). */
function masqueradeFor(n: CollectedNode, subnet: string): { found: boolean; dumps: string[] } | { skip: string } {
  const { all: dumps, problems } = hostFirewall(n);
  if (dumps.length === 0) return { skip: `no iptables dump of ${n.name}: ${problems.join('; ')}` };
  const found = dumps.some(({ dump }) =>
    (dump.tables.nat?.rules ?? []).some(
      (r) =>
        r.chain === 'POSTROUTING' &&
        r.target === 'MASQUERADE' &&
        r.source === subnet &&
        // `! -o docker_gwbridge`: traffic leaving by any other interface.
        r.outIface === GWBRIDGE &&
        r.negations.includes('-o'),
    ),
  );
  return { found, dumps: dumps.map((d) => d.label) };
}

const gwbridgeEgress = defineCheck(
  {
    id: 'host.gwbridge.egress',
    layer: 'host',
    title: 'Containers reach the outside through docker_gwbridge',
    looksAt:
      'docker_gwbridge on each node running tasks (present, UP, with an IPv4 subnet), the nat POSTROUTING MASQUERADE rule Docker installs for that subnet, and that subnet against the node\'s underlay',
    remediation:
      'systemctl restart docker on the node (Docker recreates docker_gwbridge and its MASQUERADE rule); if a firewall reload removed the rule, make it keep Docker\'s nat rules',
  },
  (ctx) => {
    const overlays: NetworkFacts[] = ctx.snapshot.cluster.networks;
    return perNode(ctx.snapshot, (n): FindingDraft[] => {
      const br = n.host.interfaces.find((i) => i.name === GWBRIDGE);
      if (!br) {
        return needsGwbridge(n)
          ? [
              {
                status: 'fail',
                node: n.name,
                detail: `${n.name} runs swarm tasks but has no ${GWBRIDGE}: its containers have no route out of the swarm and published ports cannot reach ingress_sbox`,
                remediation: `on ${n.name}: systemctl restart docker (it recreates ${GWBRIDGE})`,
              },
            ]
          : [{ status: 'pass', node: n.name, detail: `${n.name} runs no swarm tasks: ${GWBRIDGE} is not needed yet` }];
      }
      if (br.state !== null && br.state.toUpperCase() === 'DOWN') {
        return [
          {
            status: 'fail',
            node: n.name,
            detail: `${GWBRIDGE} on ${n.name} is DOWN: containers cannot leave the node`,
            remediation: `on ${n.name}: ip link set ${GWBRIDGE} up`,
          },
        ];
      }
      const v4 = br.addresses.find((a) => a.family === 'inet');
      const cidr = v4 ? networkOf(v4.address, v4.prefixLen) : null;
      if (!v4 || !cidr) {
        return [
          {
            status: 'fail',
            node: n.name,
            detail: `${GWBRIDGE} on ${n.name} has no IPv4 address: containers have no default gateway`,
            remediation: `on ${n.name}: systemctl restart docker`,
          },
        ];
      }
      const subnet = `${formatIp({ family: cidr.family, value: cidr.base })}/${cidr.prefix}`;
      const out: FindingDraft[] = [];
      const clash = underlayPrefixes(n.host).find((p) => !p.docker && cidrsOverlap(p.cidr, cidr));
      const overlay = overlays.find((net) => net.subnets.some((s) => {
        const [base, len] = s.subnet.split('/');
        const c = base && len ? networkOf(base, Number(len)) : null;
        return c !== null && cidrsOverlap(c, cidr);
      }));
      if (clash || overlay) {
        out.push({
          status: 'fail',
          node: n.name,
          ...(overlay ? { network: overlay.name } : {}),
          detail: `${GWBRIDGE} on ${n.name} uses ${cidrText(cidr, v4.address)}, which overlaps ${clash ? clash.source : `overlay ${overlay!.name}`}: replies to those addresses leave by the wrong interface`,
          remediation: `recreate ${GWBRIDGE} on ${n.name} with a free subnet: docker network rm ${GWBRIDGE} (with no tasks on the node), then docker network create --subnet <free /16> --opt com.docker.network.bridge.name=${GWBRIDGE} --opt com.docker.network.bridge.enable_icc=false --opt com.docker.network.bridge.enable_ip_masquerade=true ${GWBRIDGE}`,
        });
      }
      const m = masqueradeFor(n, subnet);
      if ('skip' in m) {
        out.push({ status: 'skip', node: n.name, detail: m.skip });
      } else if (!m.found) {
        out.push({
          status: 'fail',
          node: n.name,
          detail: `no MASQUERADE for ${subnet} (${GWBRIDGE}) in nat POSTROUTING on ${n.name} (${m.dumps.join(', ')}): containers there cannot reach anything outside the swarm`,
          remediation: `on ${n.name}: iptables -t nat -A POSTROUTING -s ${subnet} ! -o ${GWBRIDGE} -j MASQUERADE (Docker's own rule; systemctl restart docker restores it)`,
        });
      }
      if (out.length === 0) {
        out.push({ status: 'pass', node: n.name, detail: `${GWBRIDGE} ${cidrText(cidr, v4.address)} is UP and MASQUERADEd on ${n.name}` });
      }
      return out;
    });
  },
);

export const egressChecks: readonly Check[] = [gwbridgeEgress];
