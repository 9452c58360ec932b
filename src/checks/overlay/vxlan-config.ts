import { vxlanLinks } from '../../model/overlay.js';
import { defineCheck } from '../types.js';
import { forceUpdate, servicesOn } from './lib/sandbox.js';
import { prose } from '../../text/shell.js';

export default defineCheck({
  meta: {
    id: 'overlay.vxlan.config',
    layer: 'overlay',
    title: 'vxlan interface carries the network VNI and the swarm data-path port',
    looksAt:
      "vxlan links (ip -d link) in each overlay sandbox: VXLAN id vs the network's vxlanid_list, dstport vs the swarm data-path port, link state",
    remediation: 'systemctl restart docker on the node so the sandbox is rebuilt from the swarm network definition',
    scope: 'network-node',
    failures: [4],
    needs: ['section:link'],
    messages: {
      noVxlan: 'sandbox {sandbox} on {node} has no vxlan interface: {network} cannot reach other nodes',
      wrong: '{sandbox} on {node}: {problems}: VXLAN frames are not understood by the other nodes',
      unknown: '{sandbox} on {node}: could not read {unknown} (ip -d link gave no vxlan details)',
      ok: '{links}',
    },
  },
  check({ model, node, network: net, sandbox: sb, report }) {
    const port = model.cluster.dataPathPort;
    const vx = vxlanLinks(sb.snap);
    const base = { sandbox: sb.name, node: node.name };
    const remediation = `systemctl restart docker on ${prose(node.name)} (or remove and re-create the tasks there: ${forceUpdate(servicesOn(model, node.name, net))}) so ${sb.name} is rebuilt with VNI ${net.vnis.join(',') || '?'} and port ${port}`;
    if (vx.length === 0) {
      report('fail', 'noVxlan', { ...base, network: net.name }, { remediation });
      return;
    }
    const problems: string[] = [];
    const unknown: string[] = [];
    for (const l of vx) {
      const id = l.vxlan?.id ?? null;
      const p = l.vxlan?.port ?? null;
      if (id === null) unknown.push(`${l.name} VNI`);
      else if (net.vnis.length > 0 && !net.vnis.includes(id)) problems.push(`${l.name} has VNI ${id}, the network's is ${net.vnis.join(',')}`);
      if (p === null) unknown.push(`${l.name} port`);
      else if (p !== port) problems.push(`${l.name} sends to udp/${p}, the swarm data-path port is ${port}`);
      if (l.state === 'DOWN') problems.push(`${l.name} is DOWN`);
    }
    const ids = new Set(vx.map((l) => l.vxlan?.id));
    for (const v of net.vnis) if (!ids.has(v) && vx.every((l) => l.vxlan?.id != null)) problems.push(`no vxlan interface for VNI ${v}`);
    if (problems.length > 0) {
      report('fail', 'wrong', { ...base, problems: problems.join('; ') }, { remediation });
    } else if (unknown.length > 0) {
      report(
        'warn',
        'unknown',
        { ...base, unknown: unknown.join(', ') },
        { remediation: `check by hand: ${node.nsenter(sb.name)} ip -d link show type vxlan` },
      );
    } else {
      report('pass', 'ok', { links: vx.map((l) => `${l.name} VNI ${l.vxlan?.id} port ${l.vxlan?.port}`).join(', ') });
    }
  },
});
