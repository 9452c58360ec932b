import { portMarks, portText } from '../../model/lb.js';
import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { forceUpdate, incomplete, ingressSandbox, NO_PORTS, whenPortsPublished } from './lib/lb.js';
import { prose } from '../../text/shell.js';

export default defineCheck({
  meta: {
    id: 'service.ingress.mark',
    layer: 'service',
    title: 'ingress_sbox marks every published port for IPVS',
    looksAt:
      'mangle table in ingress_sbox: a PREROUTING -p <proto> --dport <port> -j MARK rule (the fwmark IPVS balances on) for each port published in ingress mode',
    remediation: 'docker service update --force <service> (docker re-adds the mark); if it persists, systemctl restart docker on the node',
    scope: 'node',
    failures: [25],
    needs: ['sandbox-list', 'ipvs'],
    causedBy: ['service.ingress.sandbox', 'service.ingress.ipvs-available', 'host.kernel.modules'],
    messages: {
      noPorts: NO_PORTS,
      noSandbox: 'ingress_sbox on {node} is missing (see service.ingress.sandbox)',
      notEntered: 'ingress_sbox on {node} could not be entered: {error}',
      unreadable: '{problem}',
      unmarked: 'ingress_sbox on {node} has no MARK rule for {ports}: IPVS never sees those connections, they are dropped{incomplete}',
      marked: 'ingress_sbox on {node} marks {marks}',
    },
  },
  applies: (ctx) => whenPortsPublished(ctx),
  check({ model, node, report }) {
    const at = { network: model.ingress?.name ?? null };
    const sb = ingressSandbox(node);
    if (!sb) return report('skip', 'noSandbox', { node: node.name }, at);
    if (sb.enterError !== null) return report('skip', 'notEntered', { node: node.name, error: sb.enterError }, at);
    if (!sb.mangle.ok) return report('skip', 'unreadable', { problem: sb.mangle.problem }, at);
    const mangle = sb.mangle.value;
    const marked = model.ingressPorts.map((p) => ({ p, marks: portMarks(mangle, p.protocol, p.port) }));
    const missing = marked.filter((m) => m.marks.length === 0);
    if (missing.length > 0) {
      report(
        'fail',
        'unmarked',
        { node: node.name, ports: listText(missing.map((m) => portText(m.p))), incomplete: incomplete(sb.mangle.warnings) },
        {
          ...at,
          remediation: `${forceUpdate(missing.map((m) => m.p.service.name))}; if the rule stays missing, systemctl restart docker on ${prose(node.name)}`,
        },
      );
      return;
    }
    report('pass', 'marked', { node: node.name, marks: listText(marked.map((m) => `${portText(m.p)} with fwmark ${m.marks[0]}`)) }, at);
  },
});
