import { portText } from '../../model/lb.js';
import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { forceUpdate, ingressSandbox, portsAre } from './lib/lb.js';
import { prose } from '../../text/shell.js';

export default defineCheck({
  meta: {
    id: 'service.ingress.sandbox',
    layer: 'service',
    title: 'Every node has the routing-mesh sandbox (ingress_sbox)',
    looksAt: "ingress_sbox in the docker network namespaces of each node, and the swarm's ingress network",
    remediation:
      'systemctl restart docker on the node (ingress_sbox is created when the node joins the swarm); if the ingress network was removed, re-create it: docker network create --driver overlay --ingress ingress',
    scope: 'node',
    failures: [],
    needs: ['sandbox-list'],
    messages: {
      noIngressNetwork: 'the swarm has no ingress network, yet {ports} published in ingress mode: the routing mesh does not exist',
      noIngressNoPorts: 'the swarm has no ingress network and no service publishes a port in ingress mode',
      missing: '{node} has no ingress_sbox{effect}',
      notEntered: 'ingress_sbox on {node} could not be entered: {error}',
      present: 'ingress_sbox present on {node}',
    },
  },
  applies({ model, report }) {
    if (model.ingress) return true;
    const ports = model.ingressPorts;
    if (ports.length === 0) {
      report('pass', 'noIngressNoPorts');
      return false;
    }
    report(
      'fail',
      'noIngressNetwork',
      { ports: portsAre(ports, portText) },
      {
        remediation: `docker network create --driver overlay --ingress ingress, then ${forceUpdate(ports.map((p) => p.service.name))}`,
      },
    );
    return false;
  },
  check({ model, node, report }) {
    const at = { network: model.ingress!.name };
    const ports = model.ingressPorts;
    const sb = ingressSandbox(node);
    if (!sb) {
      const effect = ports.length > 0 ? `: ${listText(ports.map(portText))} cannot be reached through ${node.name}` : '';
      report(
        ports.length > 0 ? 'fail' : 'warn',
        'missing',
        { node: node.name, effect },
        { ...at, remediation: `systemctl restart docker on ${prose(node.name)}` },
      );
    } else if (sb.enterError !== null) {
      report('skip', 'notEntered', { node: node.name, error: sb.enterError }, at);
    } else {
      report('pass', 'present', { node: node.name }, at);
    }
  },
});
