import { ingressGatewayAddress, portText, type PublishedPort } from '../../model/lb.js';
import type { NodeModel } from '../../model/types.js';
import type { IptRule } from '../../parse/iptables.js';
import type { NetworkFacts } from '../../snapshot/types.js';
import { listText } from '../../text/list.js';
import { shq, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { forceUpdate, incomplete, ingressSandbox, NO_PORTS, portsAre, whenPortsPublished } from './lib/lb.js';

const hasIngressChain = (rules: readonly IptRule[], chains: object): boolean =>
  'DOCKER-INGRESS' in chains || rules.some((r) => r.chain === 'DOCKER-INGRESS');

/** ingress_sbox's address on docker_gwbridge (what the DNAT must point at), when it can be known. */
function gateway(node: NodeModel, ingress: NetworkFacts | undefined): string | null {
  const sb = ingressSandbox(node);
  return sb && sb.enterError === null ? ingressGatewayAddress(sb.snap, ingress) : null;
}

const matchesPort = (r: IptRule, p: PublishedPort): boolean =>
  r.protocol === p.protocol && r.dport !== undefined && r.dport.split(',').some((s) => s === String(p.port));

export default defineCheck({
  meta: {
    id: 'service.ingress.dnat',
    layer: 'service',
    title: 'Host DNATs every ingress-published port to ingress_sbox',
    looksAt:
      'nat table of the host (iptables-save, and the legacy/nft dumps): DOCKER-INGRESS chain reached from PREROUTING, with a DNAT to ingress_sbox for each port published in ingress mode',
    remediation:
      "docker service update --force <service> (docker re-adds its DNAT rules); if a firewall reload flushed them, systemctl restart docker on the node and fix the firewall so it keeps docker's chains",
    scope: 'node',
    failures: [25],
    needs: ['sandbox-list', 'ipvs'],
    causedBy: ['service.ingress.ipvs-available', 'host.kernel.modules'],
    messages: {
      noPorts: NO_PORTS,
      noDump: 'no iptables dump of {node}: {problems}',
      noChain:
        "the nat table of {node} has no DOCKER-INGRESS chain: {ports} not forwarded to the routing mesh (a firewall reload may have flushed docker's rules){incomplete}",
      broken: 'nat table of {node}{via}: {problems}: connections to {node} on those ports are refused or go nowhere{incomplete}',
      leftover: 'nat DOCKER-INGRESS on {node}{via} DNATs ports no service publishes: {rules} (left over from a removed service)',
      present: 'DNAT present on {node}{via} for {ports}{to}',
    },
  },
  applies: (ctx) => whenPortsPublished(ctx),
  check({ model, node, report }) {
    const at = { network: model.ingress?.name ?? null };
    const ports = model.ingressPorts;
    const dumps = node.firewall.all;
    if (dumps.length === 0) {
      report('skip', 'noDump', { node: node.name, problems: node.firewall.problems.join('; ') }, at);
      return;
    }
    const force = forceUpdate(ports.map((p) => p.service.name));
    const found = dumps.find((d) => hasIngressChain(d.dump.tables.nat?.rules ?? [], d.dump.tables.nat?.chains ?? {}));
    if (!found) {
      report(
        'fail',
        'noChain',
        { node: node.name, ports: portsAre(ports, portText), incomplete: incomplete(node.firewall.warnings) },
        {
          ...at,
          remediation: `on ${prose(node.name)}: systemctl restart docker (docker re-creates DOCKER-INGRESS), or ${force}; make the firewall keep docker's chains`,
        },
      );
      return;
    }
    const rules = found.dump.tables.nat!.rules;
    const dnats = rules.filter((r) => r.chain === 'DOCKER-INGRESS' && r.target === 'DNAT');
    const jumped = rules.some((r) => r.chain === 'PREROUTING' && r.target === 'DOCKER-INGRESS');
    const gw = gateway(node, model.ingress);
    const missing: PublishedPort[] = [];
    const misdirected: string[] = [];
    for (const p of ports) {
      const r = dnats.find((x) => matchesPort(x, p));
      if (!r) missing.push(p);
      else if (gw && r.toDestination && r.toDestination.split(':')[0] !== gw)
        misdirected.push(`${portText(p)} → ${r.toDestination} (ingress_sbox is ${gw})`);
    }
    const via = found.section === 'host/iptables-save' ? '' : ` (found with ${found.label})`;
    if (missing.length > 0 || misdirected.length > 0 || !jumped) {
      const problems = [
        missing.length > 0 ? `no DNAT for ${listText(missing.map(portText))}` : null,
        misdirected.length > 0 ? `DNAT to the wrong address: ${listText(misdirected)}` : null,
        !jumped ? 'PREROUTING does not jump to DOCKER-INGRESS, so no published port is forwarded' : null,
      ].filter(Boolean);
      const first = missing.length > 0 ? forceUpdate(missing.map((p) => p.service.name)) : force;
      report(
        'fail',
        'broken',
        { node: node.name, via, problems: problems.join('; '), incomplete: incomplete(found.dump.warnings) },
        {
          ...at,
          remediation: `${first}; if rules keep disappearing, systemctl restart docker on ${prose(node.name)} and stop the firewall tool from flushing the nat table`,
        },
      );
      return;
    }
    const orphans = dnats.filter((r) => !ports.some((p) => r.protocol === p.protocol && r.dport === String(p.port)));
    if (orphans.length > 0) {
      const rules = listText(orphans.map((r) => `${r.dport}/${r.protocol ?? '?'} → ${r.toDestination ?? '?'}`));
      const remedy = orphans.map((r) => `iptables -t nat -D DOCKER-INGRESS ${r.args.map(shq).join(' ')}`).join('; ');
      report('warn', 'leftover', { node: node.name, via, rules }, { ...at, remediation: `on ${prose(node.name)}: ${remedy}` });
      return;
    }
    report('pass', 'present', { node: node.name, via, ports: listText(ports.map(portText)), to: gw ? ` → ${gw}` : '' }, at);
  },
});
