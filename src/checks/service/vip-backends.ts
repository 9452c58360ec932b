import { taskIps, vipMarks } from '../../model/lb.js';
import { hostingNodes } from '../../model/topology.js';
import { findFwmarkService } from '../../parse/ipvs.js';
import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { BACKEND_MESSAGES, reportBackends } from './lib/backends.js';
import { forceUpdate, incomplete, vipServices } from './lib/lb.js';
import { prose } from '../../text/shell.js';

export default defineCheck({
  meta: {
    id: 'service.vip.backends',
    layer: 'service',
    title: 'Service VIPs are marked and balanced over the running tasks',
    looksAt:
      "each node's lb_<network> sandbox: a mangle `-d <VIP>/32 -j MARK` rule per VIP service, and the IPVS fwmark service listing exactly the running tasks' addresses on that network",
    remediation:
      'docker service update --force <service> (re-programs the VIP load balancer on every node); if it persists, systemctl restart docker on the node',
    scope: 'network-node',
    failures: [23],
    sandbox: 'lb',
    needs: ['ipvs'],
    causedBy: ['service.ingress.ipvs-available', 'host.kernel.modules'],
    messages: {
      ...BACKEND_MESSAGES,
      noVips: 'no service has a VIP on an overlay network',
      noLbSandbox: '{node} has tasks on {network} but no load-balancer sandbox {sandbox}: VIPs of {vips} do not answer from {node}',
      unreadable: '{problem}',
      ipvsUnreadable: '{service}: VIP {vip} marked {mark}, IPVS not read: {problem}',
      unmarked:
        "{sandbox} on {node} has no MARK rule for {service}'s VIP {vip}: connections to {service} from {node} are not load-balanced{incomplete}",
    },
  },
  appliesTo: (network, model) => vipServices(model, network).length > 0,
  applies({ model, report }) {
    if (model.overlayNetworks.some((net) => vipServices(model, net).length > 0)) return true;
    report('pass', 'noVips');
    return false;
  },
  noSandbox({ model, node, network, report }) {
    // Where no task of the network runs (or its overlay sandbox is missing too: overlay.sandbox.missing), no lb_ is expected.
    const overlayHere = node.sandboxes.some((s) => s.kind === 'overlay' && s.network?.id === network.id);
    if (!overlayHere || !hostingNodes(model.topology, network).has(node.name)) return;
    const services = vipServices(model, network);
    report(
      'fail',
      'noLbSandbox',
      {
        node: node.name,
        network: network.name,
        sandbox: `lb_${network.id.slice(0, 9)}`,
        vips: listText(services.map((s) => `${s.svc.name} (${s.vip})`)),
      },
      {
        remediation: `${forceUpdate(services.map((s) => s.svc.name))}; if it stays missing, systemctl restart docker on ${prose(node.name)}`,
      },
    );
  },
  check({ model, node, network, sandbox, report }) {
    if (!sandbox.mangle.ok) return report('skip', 'unreadable', { problem: sandbox.mangle.problem });
    const [mangle, ipvs] = [sandbox.mangle.value, sandbox.ipvs];
    for (const { svc, vip } of vipServices(model, network)) {
      const mark = vipMarks(mangle, vip)[0];
      if (mark === undefined) {
        report(
          'fail',
          'unmarked',
          { sandbox: sandbox.name, node: node.name, service: svc.name, vip, incomplete: incomplete(sandbox.mangle.warnings) },
          {
            remediation: `${forceUpdate([svc.name])}; if it persists, systemctl restart docker on ${prose(node.name)}`,
          },
        );
      } else if (ipvs.state !== 'ok') {
        report('skip', 'ipvsUnreadable', { service: svc.name, vip, mark, problem: ipvs.reason });
      } else {
        const expected = taskIps(svc, network);
        reportBackends(report, { node, sandbox: sandbox.name, service: svc.name, mark, ipvs: findFwmarkService(ipvs.table, mark), expected });
      }
    }
  },
});
