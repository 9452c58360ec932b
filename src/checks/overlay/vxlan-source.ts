import { vxlanLinks } from '../../model/overlay.js';
import type { NodeModel } from '../../model/types.js';
import { listText } from '../../text/list.js';
import { prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

const SWARM_FIX = 'docker swarm leave and join again with --data-path-addr set to the address that route uses';

/** Overlay sandboxes' vxlan links with a `local` other than the node's data-path address. */
function wrongLocals(node: NodeModel, addr: string): string[] {
  const out: string[] = [];
  for (const sb of node.sandboxes) {
    if (sb.kind !== 'overlay' || sb.enterError !== null) continue;
    for (const l of vxlanLinks(sb.snap)) {
      const local = l.vxlan?.local ?? null;
      if (local !== null && local !== addr) out.push(`${l.name} in ${sb.name} has local ${local}`);
    }
  }
  return out;
}

/** Whether some overlay vxlan link leaves the outer source to the kernel (no `local`). */
const kernelPicks = (node: NodeModel): boolean =>
  node.sandboxes.some((sb) => sb.kind === 'overlay' && sb.enterError === null && vxlanLinks(sb.snap).some((l) => (l.vxlan?.local ?? null) === null));

export default defineCheck({
  meta: {
    id: 'overlay.vxlan.source',
    layer: 'overlay',
    title: "VXLAN frames leave with the node's data-path address as outer source",
    looksAt:
      "`local` of the vxlan links in each overlay sandbox, and, where it is unset (Docker's default), the source address the host namespace's route toward every other node picks (ip route get <peer>): either must be the node's data-path (advertise) address, or receivers drop every frame (their permanent FDB entry names that address; vxlan learning drops frames from any other)",
    remediation:
      'Make the route toward the other nodes pick the data-path address (ip route change <subnet> dev <if> src <data-path address>, or remove the route/address that wins), or re-join the swarm with --data-path-addr set to the address the route uses',
    scope: 'node',
    failures: [29],
    needs: ['advertise-address', 'sandbox-list'],
    messages: {
      wrongLocal: '{node}: {links}, the data-path address is {addr}: other nodes drop its VXLAN frames',
      wrongSource:
        '{node} sends VXLAN toward {peers} with outer source {sources}, not its data-path address {addr}: those nodes drop every frame from it (100 % loss although the UDP arrives)',
      unreadable: '{problem}',
      ok: '{node}: VXLAN outer source is the data-path address {addr} toward {count} node(s)',
      noOverlay: '{node} has no overlay sandbox with a vxlan link',
    },
  },
  check({ model, node, report }) {
    const addr = node.addr!;
    const locals = wrongLocals(node, addr);
    if (locals.length > 0) {
      const remediation = `on ${prose(node.name)}: systemctl restart docker so the sandboxes are rebuilt; if the address stays wrong, ${SWARM_FIX} (${shq(addr)} is what the swarm uses)`;
      report('fail', 'wrongLocal', { node: node.name, links: listText(locals), addr }, { remediation });
    }
    if (!kernelPicks(node)) {
      if (locals.length === 0)
        report('pass', node.sandboxes.some((s) => s.kind === 'overlay') ? 'ok' : 'noOverlay', { node: node.name, addr, count: 0 });
      return;
    }
    const r = node.routeSources;
    if (!r.ok) return report('skip', 'unreadable', { problem: r.problem });
    const peers = r.value.filter((x) => x.dst !== addr && model.nameByIp.has(x.dst));
    const bad = peers.filter((x) => x.prefsrc !== null && x.prefsrc !== addr);
    if (bad.length === 0) {
      if (locals.length === 0) report('pass', 'ok', { node: node.name, addr, count: peers.length });
      return;
    }
    const names = bad.map((x) => `${model.nameByIp.get(x.dst)} (${x.dst})`);
    const sources = [...new Set(bad.map((x) => `${x.prefsrc}${x.dev ? ` via ${x.dev}` : ''}`))];
    const fixes = bad.map((x) => `ip route get ${shq(x.dst)}`).join('; ');
    const remediation =
      `on ${prose(node.name)}: ${fixes} shows the source; make it ${shq(addr)} (e.g. ip route change <the route toward them> src ${shq(addr)}, ` +
      `or drop the extra address or route that wins), or ${SWARM_FIX}`;
    report(
      'fail',
      'wrongSource',
      { node: node.name, peers: listText(names), sources: listText(sources), addr },
      { remediation, peer: bad.length === 1 ? (model.nameByIp.get(bad[0]!.dst) ?? null) : null },
    );
  },
});
