import type { Model, NodeModel, SandboxModel } from '../../model/types.js';
import type { NetworkFacts } from '../../snapshot/types.js';
import { listText } from '../../text/list.js';
import { defineCheck, type Reporter } from '../types.js';
import { forceUpdate, netnsPath, servicesOn, staleSandboxRemedy } from './lib/sandbox.js';
import { prose } from '../../text/shell.js';

const messages = {
  missing: '{node} hosts {what} on {network} but has no overlay sandbox 1-{prefix}: those tasks are cut off from the overlay',
  dead: '{node} hosts {what} on {network}, but its sandbox {sandbox} is a dead netns file ({error}): the namespace behind it is gone',
  notEntered: 'sandbox {sandbox} on {node} could not be entered: {error}',
  present: '{node} hosts {what} on {network} and has its sandbox {sandbox}',
  severalEpochs: '{node} has {count} overlay sandboxes for {network} ({sandboxes}); only one is in use, the others are stale netns files',
  deadStale: 'stale sandbox {sandbox} on {node}: the netns file is left but its namespace is gone ({error})',
  orphan: 'stale sandbox {sandbox} on {node}: no overlay network id starts with {prefix} (netns file left after the network was removed){entered}',
  deadLb: 'stale load-balancer sandbox {sandbox} on {node}: the netns file is left but its namespace is gone ({error})',
};
type Id = keyof typeof messages;

/** The node hosts something on the network: its sandbox must be there and alive. */
function hosted(model: Model, node: NodeModel, net: NetworkFacts, what: string, sb: SandboxModel | undefined, report: Reporter<Id>): void {
  const at = { network: net.name };
  const base = { node: node.name, network: net.name, what };
  const force = forceUpdate(servicesOn(model, node.name, net));
  if (!sb) {
    const remediation = net.ingress
      ? `systemctl restart docker on ${prose(node.name)} (the ingress sandbox is created when the node joins the swarm)`
      : `${force}; if the sandbox is still missing on ${prose(node.name)}, systemctl restart docker on ${prose(node.name)}`;
    report('fail', 'missing', { ...base, prefix: net.id.slice(0, 10) }, { ...at, remediation });
  } else if (sb.enterError !== null && sb.dead) {
    const remediation = `${staleSandboxRemedy(node, sb.name, sb.snap.networkIdPrefix)}; then ${force} so docker re-creates the sandbox`;
    report('fail', 'dead', { ...base, sandbox: sb.name, error: sb.enterError }, { ...at, remediation });
  } else if (sb.enterError !== null) {
    report('skip', 'notEntered', { node: node.name, sandbox: sb.name, error: sb.enterError }, at);
  } else {
    report('pass', 'present', { ...base, sandbox: sb.name }, at);
  }
}

/** Sandboxes of no existing network, or whose namespace is gone. */
function orphans(model: Model, node: NodeModel, report: Reporter<Id>): void {
  const knownNetworks = model.networks.length > 0;
  for (const s of node.sandboxes) {
    if (s.kind !== 'overlay' && s.kind !== 'lb') continue;
    const remediation = staleSandboxRemedy(node, s.name, s.snap.networkIdPrefix);
    if (s.snap.networkId === null && knownNetworks) {
      const entered = s.enterError ? `; it cannot be entered (${s.enterError})` : '';
      report('warn', 'orphan', { node: node.name, sandbox: s.name, prefix: s.snap.networkIdPrefix ?? '?', entered }, { remediation });
    } else if (s.kind === 'lb' && s.snap.networkId !== null && s.dead) {
      report('warn', 'deadLb', { node: node.name, sandbox: s.name, error: s.enterError ?? '' }, { network: s.snap.networkName, remediation });
    }
  }
}

export default defineCheck({
  meta: {
    id: 'overlay.sandbox.missing',
    layer: 'overlay',
    title: 'Overlay sandbox present on every node hosting the network; no stale sandboxes',
    looksAt:
      'docker network namespaces (<exec-root>/netns) on each node: a <epoch>-<network id prefix> sandbox for every overlay network with a task or endpoint on the node (manager ground truth), and 1-…/lb_… sandboxes of no existing network or whose namespace is gone',
    remediation:
      'docker service update --force <service> (re-creates the tasks and the network sandbox); if it persists, systemctl restart docker on the node',
    scope: 'node',
    failures: [],
    needs: ['sandbox-list'],
    messages,
  },
  check({ model, node, report }) {
    for (const net of model.overlayNetworks) {
      const what = model.overlay.hosting(net).get(node.name);
      const sbs = node.sandboxes.filter((s) => s.kind === 'overlay' && s.network?.id === net.id);
      if (what) hosted(model, node, net, listText(what, 3), sbs.find((s) => s.enterError === null) ?? sbs[0], report);
      // Several epochs of the same network's sandbox: the older one is left over.
      if (sbs.length > 1) {
        const remediation = `on ${prose(node.name)}: remove the one not in use (ls -l ${netnsPath(node, '')}; umount + rm the older), or systemctl restart docker`;
        report(
          'warn',
          'severalEpochs',
          { node: node.name, count: sbs.length, network: net.name, sandboxes: sbs.map((s) => s.name).join(', ') },
          { network: net.name, remediation },
        );
      }
      // Dead netns files of a network this node no longer hosts.
      if (!what) {
        for (const s of sbs.filter((x) => x.dead)) {
          report(
            'warn',
            'deadStale',
            { node: node.name, sandbox: s.name, error: s.enterError ?? '' },
            { network: net.name, remediation: staleSandboxRemedy(node, s.name, s.snap.networkIdPrefix) },
          );
        }
      }
    }
    orphans(model, node, report);
  },
});
