/**
 * Egress through docker_gwbridge: every swarm task (and ingress_sbox) has a
 * leg on the node's docker_gwbridge, which is how containers on overlay
 * networks reach anything outside the swarm. Docker NATs that traffic with a
 * MASQUERADE rule for the bridge's subnet in nat POSTROUTING.
 */
import { underlayPrefixes } from '../../model/nodes.js';
import type { Model, NodeModel } from '../../model/types.js';
import { cidrsOverlap, networkOf, parseCidr, type Cidr } from '../../net/ip.js';
import type { HostFacts } from '../../snapshot/types.js';
import { shq, prose } from '../../text/shell.js';
import { defineCheck, type Reporter } from '../types.js';

const GWBRIDGE = 'docker_gwbridge';

const MESSAGES = {
  missing: `{node} runs swarm tasks but has no ${GWBRIDGE}: its containers have no route out of the swarm and published ports cannot reach ingress_sbox`,
  notNeeded: `{node} runs no swarm tasks: ${GWBRIDGE} is not needed yet`,
  down: `${GWBRIDGE} on {node} is DOWN: containers cannot leave the node`,
  noIpv4: `${GWBRIDGE} on {node} has no IPv4 address: containers have no default gateway`,
  overlap: `${GWBRIDGE} on {node} uses {address}, which overlaps {other}: replies to those addresses leave by the wrong interface`,
  noDump: 'no iptables dump of {node}: {why}',
  noMasquerade: `no MASQUERADE for {subnet} (${GWBRIDGE}) in nat POSTROUTING on {node} ({dumps}): containers there cannot reach anything outside the swarm{warnings}`,
  ok: `${GWBRIDGE} {address} is UP and MASQUERADEd on {node}`,
};
type Report = Reporter<keyof typeof MESSAGES>;

/** Docker's `-s <subnet> ! -o docker_gwbridge -j MASQUERADE` in nat POSTROUTING, in any host dump (the kernel runs both backends' nat rules). */
function masqueraded(node: NodeModel, subnet: string): boolean {
  return node.firewall.all.some(({ dump }) =>
    (dump.tables.nat?.rules ?? []).some(
      (r) => r.chain === 'POSTROUTING' && r.target === 'MASQUERADE' && r.source === subnet && r.outIface === GWBRIDGE && r.negations.includes('-o'),
    ),
  );
}

/** The underlay prefix or swarm network the bridge's subnet collides with. */
function clashOf(model: Model, host: HostFacts, cidr: Cidr): { other: string; network?: string } | null {
  const under = underlayPrefixes(host).find((p) => !p.docker && cidrsOverlap(p.cidr, cidr));
  const network = model.networks.find((net) =>
    net.subnets.some((s) => {
      const c = s.subnet.includes('/') ? parseCidr(s.subnet) : null;
      return c !== null && cidrsOverlap(c, cidr);
    }),
  );
  if (!under && !network) return null;
  return { other: under ? under.source : `overlay ${network!.name}`, ...(network ? { network: network.name } : {}) };
}

function checkMasquerade(node: NodeModel, subnet: string, report: Report): boolean {
  const fw = node.firewall;
  if (fw.all.length === 0) {
    report('skip', 'noDump', { node: node.name, why: fw.problems.join('; ') || 'no iptables-save section' });
    return true;
  }
  if (masqueraded(node, subnet)) return false;
  report(
    'fail',
    'noMasquerade',
    {
      subnet,
      node: node.name,
      dumps: fw.all.map((d) => d.label).join(', '),
      warnings: fw.warnings.length ? ` (the dumps read with warnings: ${fw.warnings.join('; ')})` : '',
    },
    {
      remediation: `on ${prose(node.name)}: iptables -t nat -A POSTROUTING -s ${shq(subnet)} ! -o ${GWBRIDGE} -j MASQUERADE (Docker's own rule; systemctl restart docker restores it)`,
    },
  );
  return true;
}

export default defineCheck({
  meta: {
    id: 'host.gwbridge.egress',
    layer: 'host',
    title: 'Containers reach the outside through docker_gwbridge',
    looksAt:
      "docker_gwbridge on each node running tasks (present, UP, with an IPv4 subnet), the nat POSTROUTING MASQUERADE rule Docker installs for that subnet, and that subnet against the node's underlay",
    remediation:
      "systemctl restart docker on the node (Docker recreates docker_gwbridge and its MASQUERADE rule); if a firewall reload removed the rule, make it keep Docker's nat rules",
    scope: 'node',
    failures: [19],
    messages: MESSAGES,
  },
  check({ model, node, report }) {
    const host = node.host!;
    const at = { node: node.name };
    const br = host.interfaces.find((i) => i.name === GWBRIDGE);
    if (!br) {
      // ingress_sbox and every container sandbox have a leg on the bridge.
      if (node.sandboxes.some((s) => s.kind === 'ingress' || s.kind === 'container')) {
        report('fail', 'missing', at, { remediation: `on ${prose(node.name)}: systemctl restart docker (it recreates ${GWBRIDGE})` });
      } else report('pass', 'notNeeded', at);
      return;
    }
    if (br.state !== null && br.state.toUpperCase() === 'DOWN') {
      report('fail', 'down', at, { remediation: `on ${prose(node.name)}: ip link set ${GWBRIDGE} up` });
      return;
    }
    const v4 = br.addresses.find((a) => a.family === 'inet');
    const cidr = v4 ? networkOf(v4.address, v4.prefixLen) : null;
    if (!v4 || !cidr) {
      report('fail', 'noIpv4', at, { remediation: `on ${prose(node.name)}: systemctl restart docker` });
      return;
    }
    const address = `${v4.address}/${cidr.prefix}`;
    const clash = clashOf(model, host, cidr);
    if (clash) {
      report(
        'fail',
        'overlap',
        { ...at, address, other: clash.other },
        {
          ...(clash.network !== undefined ? { network: clash.network } : {}),
          remediation: `recreate ${GWBRIDGE} on ${prose(node.name)} with a free subnet: docker network rm ${GWBRIDGE} (with no tasks on the node), then docker network create --subnet <free /16> --opt com.docker.network.bridge.name=${GWBRIDGE} --opt com.docker.network.bridge.enable_icc=false --opt com.docker.network.bridge.enable_ip_masquerade=true ${GWBRIDGE}`,
        },
      );
    }
    const masqProblem = checkMasquerade(node, cidr.text, report);
    if (!clash && !masqProblem) report('pass', 'ok', { ...at, address });
  },
});
