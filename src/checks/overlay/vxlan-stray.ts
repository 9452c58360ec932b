import type { Model, NodeModel } from '../../model/types.js';
import type { SandboxLink } from '../../snapshot/types.js';
import { prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

interface Device {
  link: SandboxLink;
  vni: number;
  /** null: the host namespace. */
  sandbox: string | null;
  /** In the overlay sandbox of an existing network. */
  live: boolean;
}

/** VNI → network name, for overlay networks that exist. */
const networkVnis = (model: Model): Map<number, string> => new Map(model.overlayNetworks.flatMap((n) => n.vnis.map((v) => [v, n.name] as const)));

/** Every vxlan device on the node: the host namespace's, then each sandbox's. */
function devices(node: NodeModel): Device[] {
  const out: Device[] = [];
  const hostLinks = node.hostLinks.ok ? node.hostLinks.value : [];
  for (const link of hostLinks) {
    if (link.kind === 'vxlan' && link.vxlan?.id != null) out.push({ link, vni: link.vxlan.id, sandbox: null, live: false });
  }
  for (const sb of node.sandboxes) {
    for (const link of sb.snap.links) {
      if (link.kind !== 'vxlan' || link.vxlan?.id == null) continue;
      // An existing network's overlay sandbox: a wrong VNI there is overlay.vxlan.config's finding.
      const live = sb.kind === 'overlay' && !sb.dead && sb.network !== undefined;
      out.push({ link, vni: link.vxlan.id, sandbox: sb.name, live });
    }
  }
  return out;
}

const where = (d: Device): string => (d.sandbox === null ? 'the host namespace' : d.sandbox);

export default defineCheck({
  meta: {
    id: 'overlay.vxlan.stray',
    layer: 'overlay',
    title: 'No leftover vxlan device outside the live overlay sandboxes',
    looksAt:
      "vxlan devices (ip -d link) in the host namespace and in every docker sandbox of the node: a vx-* device left in the host namespace, a vxlan device in a sandbox that is not its network's live overlay sandbox, or a second device with a live network's VNI; Docker creates each network's vxlan device with that VNI, so a leftover makes the sandbox join fail with 'error creating vxlan interface: file exists'",
    remediation:
      'Delete the leftover device (ip link delete <dev>, inside the sandbox with nsenter --net=/var/run/docker/netns/<sandbox>), then docker service update --force the services on that network, or systemctl restart docker on the node',
    scope: 'node',
    failures: [24],
    needs: ['sandbox-list'],
    messages: {
      duplicate:
        '{node}: {dev} in {where} has VNI {vni} of network {network}, outside its live overlay sandbox: creating that network\'s vxlan device fails with "file exists" (sandbox join failed)',
      stray: '{node}: {dev} in {where} (VNI {vni}) belongs to no existing overlay network: a leftover of a removed network or a crashed sandbox join',
      clean: "{node}: {count} vxlan device(s), each in its network's overlay sandbox",
      hostUnreadable: '{problem}',
    },
  },
  check({ model, node, report }) {
    const vnis = networkVnis(model);
    const all = devices(node);
    if (!node.hostLinks.ok) report('skip', 'hostUnreadable', { problem: node.hostLinks.problem });
    let problems = 0;
    for (const d of all) {
      if (d.live) continue;
      const ours = vnis.get(d.vni);
      // Only docker's names in the host namespace, unless the VNI is a live network's (flannel.1 and friends are not ours).
      if (d.sandbox === null && ours === undefined && !d.link.name.startsWith('vx-')) continue;
      const ns = d.sandbox === null ? '' : `${node.nsenter(d.sandbox)} `;
      const remediation = `on ${prose(node.name)}: ${ns}ip link delete ${shq(d.link.name)}; then systemctl restart docker on ${prose(node.name)} if tasks of the network still fail to start there`;
      const data = { node: node.name, dev: d.link.name, where: where(d), vni: d.vni };
      problems++;
      if (ours !== undefined) report('fail', 'duplicate', { ...data, network: ours }, { remediation, network: ours });
      else report('warn', 'stray', data, { remediation });
    }
    if (problems === 0 && node.hostLinks.ok) report('pass', 'clean', { node: node.name, count: all.length });
  },
});
