/**
 * FORWARD: what the host does with the traffic it routes for the swarm.
 * Overlay tasks reach the outside through docker_gwbridge and the routing
 * mesh reaches ingress_sbox through it; both cross the host's FORWARD chain,
 * where a DROP policy, a ufw/firewalld chain ahead of Docker's rules, or a
 * DOCKER-INGRESS chain flushed by a firewall reload ends them.
 */
import { describeOutcome, evaluate, firewallWarningsText, type Evaluation } from '../../model/firewall.js';
import type { HostDump, NodeModel } from '../../model/types.js';
import { networkOf } from '../../net/ip.js';
import { isDockerManaged } from '../../parse/iptables.js';
import { listText } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck, type Reporter } from '../types.js';
import { egressFlow, GWBRIDGE, meshFlows, underlayIface, type ForwardFlow } from './lib/forward.js';

const MESSAGES = {
  unreadable: '{problem}',
  noBridge: `{node} has no ${GWBRIDGE} with an IPv4 address (host.gwbridge.egress reports why): nothing to forward for the swarm`,
  dropped: '{flow} on {node}: the {what} {how} (FORWARD, {dump}){flushed}.',
  maybe: '{flow} on {node} may be dropped: the {what} {how} (FORWARD, {dump}); the rest of the rule set accepts it{flushed}.',
  incomplete:
    "{node}'s firewall could not be read completely ({warnings}): rules that were not read may drop forwarded traffic, so netdoctor cannot say that {flows} pass FORWARD.",
  open: 'FORWARD (policy {policy}) lets {flows} through on {node} ({dumps}){notes}',
};
type Id = keyof typeof MESSAGES;

const FLUSHED =
  "; the filter table has no DOCKER-INGRESS chain although services publish ports: a firewall reload (firewalld, iptables-restore) flushed Docker's chains";

/** The first path that does not accept, and what decided it, for one dump. */
function verdictOf(dump: HostDump, flow: ForwardFlow): { ev: Evaluation; what: string } | null {
  for (const { what, packet } of flow.packets) {
    const ev = evaluate(dump.dump, 'FORWARD', packet);
    if (ev.result !== 'accepted') return { ev, what };
  }
  return null;
}

const ingressFlushed = (dump: HostDump): boolean => {
  const f = dump.dump.tables.filter;
  return f !== undefined && !('DOCKER-INGRESS' in f.chains) && !f.rules.some((r) => r.chain === 'DOCKER-INGRESS');
};

/** What to run: restart docker when its own chains are gone, `ufw route allow` when ufw drops, else an ACCEPT in DOCKER-USER. */
function remedy(node: NodeModel, flow: ForwardFlow, ev: Evaluation, flushed: boolean): string {
  const on = `On ${prose(node.name)}: `;
  if (flushed)
    return `${on}${code('systemctl restart docker')} (Docker re-creates DOCKER-INGRESS), then make the firewall keep Docker's chains (firewalld: Docker ≥ 20.10 puts its interfaces in the \`docker\` zone; never \`iptables-restore\` without --noflush).`;
  const ufw = ev.drops.some((d) => d.rule?.chain.startsWith('ufw-') || d.via.some((v) => v.target?.startsWith('ufw-')));
  const out = underlayIface(node);
  const uplink = out ? shq(out) : '<uplink>';
  if (ufw) {
    const rule =
      flow.kind === 'egress'
        ? `ufw route allow in on ${GWBRIDGE} out on ${uplink}`
        : `ufw route allow in on ${uplink} out on ${GWBRIDGE} proto ${flow.proto} to any port ${flow.port}`;
    return `${on}${code(rule)} (ufw keeps it across reloads).`;
  }
  const rule =
    flow.kind === 'egress'
      ? `iptables -I DOCKER-USER -i ${GWBRIDGE} -o ${uplink} -j ACCEPT`
      : `iptables -I DOCKER-USER -o ${GWBRIDGE} -p ${flow.proto} --dport ${flow.port} -j ACCEPT`;
  const docker = ev.drops.some((d) => d.rule !== null && isDockerManaged(d.rule));
  return `${on}${code(rule)} ahead of the drop${docker ? " (the drop is one of Docker's own rules: check the service's published ports and restart docker if its chains look wrong)" : ''}, and persist it in the firewall's configuration.`;
}

function reportFlow(node: NodeModel, dump: HostDump, flow: ForwardFlow, report: Reporter<Id>): boolean {
  const v = verdictOf(dump, flow);
  if (v === null) return false;
  const flushed = flow.kind === 'mesh' && ingressFlushed(dump);
  const how = [...new Set(v.ev.drops.map((d) => describeOutcome(d, 'FORWARD')))];
  const data = { flow: flow.label, node: node.name, what: v.what, dump: dump.label, flushed: flushed ? FLUSHED : '' };
  const remediation = remedy(node, flow, v.ev, flushed);
  if (v.ev.result === 'dropped') report('fail', 'dropped', { ...data, how: how.join('; ') }, { remediation });
  else report('warn', 'maybe', { ...data, how: how.join('; or it ') }, { remediation });
  return true;
}

export default defineCheck({
  meta: {
    id: 'host.firewall.forward',
    layer: 'host',
    title: 'FORWARD lets overlay egress and the routing mesh through',
    looksAt: `The FORWARD chain of iptables-save (and of the other backend when it holds rules), evaluated in order with jumps, RETURN, goto and the policy, for what the node forwards for the swarm: a task's new tcp/443 connection from ${GWBRIDGE} out of the uplink and its reply, and for each port published in ingress mode a new connection from the underlay to ingress_sbox on ${GWBRIDGE} and its reply. Docker's own rules count here (a flushed DOCKER-INGRESS leaves the mesh to the policy); ufw/firewalld chains ahead of Docker's and DOCKER-USER rules are found in place. Native nftables rulesets are not collected.`,
    remediation:
      "Let the forwarded traffic through ahead of the drop (DOCKER-USER, or `ufw route allow …` with ufw), and keep Docker's chains across firewall reloads (systemctl restart docker restores them).",
    scope: 'node',
    failures: [27, 25],
    causedBy: ['host.iptables.backend-mixed', 'host.gwbridge.egress', 'host.sysctl.ip-forward'],
    messages: MESSAGES,
  },
  check({ model, node, report }) {
    const f = node.firewall.filter;
    if (!f.ok) return report('skip', 'unreadable', { problem: f.problem });
    const br = node.host!.interfaces.find((i) => i.name === GWBRIDGE);
    const v4 = br?.addresses.find((a) => a.family === 'inet');
    const subnet = v4 ? networkOf(v4.address, v4.prefixLen) : null;
    if (!v4 || !subnet) return report('skip', 'noBridge', { node: node.name });
    const flows = [egressFlow(node, subnet, v4.address), ...meshFlows(model, node)];
    let problems = 0;
    for (const dump of f.value) for (const flow of flows) if (reportFlow(node, dump, flow, report)) problems++;
    const names = listText(flows.map((x) => x.label.replace(/ \(.*\)$/, '')));
    if (f.warnings.length > 0) {
      const remediation = `On ${prose(node.name)}: run \`iptables-save\` by hand and look at the lines named; if the output was cut short, collect again (${code(`docker netdoctor check --node ${shq(node.name)}`)}).`;
      return report('warn', 'incomplete', { node: node.name, warnings: firewallWarningsText(f.warnings), flows: names }, { remediation });
    }
    if (problems > 0) return;
    const policy = f.value.map((d) => d.dump.tables.filter?.chains.FORWARD?.policy ?? 'ACCEPT').join('/');
    const notes =
      model.ingressPorts.length > 0 && node.ipvs?.state === 'unavailable' ? '; the routing mesh is not evaluated: no IPVS on this node' : '';
    report('pass', 'open', { policy, flows: names, node: node.name, dumps: f.value.map((d) => d.label).join(', '), notes });
  },
});
