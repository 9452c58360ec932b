import type { Model, NodeModel } from '../../model/types.js';
import type { NetworkFacts } from '../../snapshot/types.js';
import { listText } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck, type Reporter } from '../types.js';

const MESSAGES = {
  notCollected: 'module list not collected: {why}',
  vxlan: '{absent} and no overlay sandbox on {node} has a vxlan device: overlay networks cannot carry traffic to or from this node.',
  ipvs: '{absent}{refused}; IPVS is needed by {users}: published ports do not answer on {node} and service VIPs do not load-balance from tasks there{mark}.',
  ipvsRr:
    'ip_vs is loaded but ip_vs_rr is not (yet): the kernel loads it when the first rr service is created; if it is not installed, IPVS services needed by {users} cannot be created.',
  xtMark: '{absent} and no sandbox on {node} has MARK rules: the routing mesh and VIPs mark packets for IPVS with it ({services}).',
  ipsecInUse: '{absent} while {node} has tasks on the encrypted overlay{s} {networks}: without IPsec the encrypted VXLAN traffic is dropped.',
  ipsec:
    '{absent}; the kernel loads them on demand when {node} first joins the encrypted overlay{s} {networks}, which fails if they are not installed.',
  brNetfilter:
    "{absent} and net.bridge.bridge-nf-call-iptables does not exist: iptables does not see bridged traffic (Docker's isolation and NAT rules on bridges rely on it).",
  present: 'present: {modules}{notes}',
};
type Report = Reporter<keyof typeof MESSAGES>;

const absentText = (mods: string[]): string =>
  `${listText(mods)} ${mods.length === 1 ? 'is' : 'are'} not loaded (no /sys/module or /proc/modules entry; a module built into the kernel without parameters can look the same)`;

const persist = (mods: string[]): string => `modprobe -a ${mods.join(' ')} && printf '${mods.join('\\n')}\\n' > /etc/modules-load.d/swarm.conf`;

interface IpvsUser {
  service: string;
  ingressPorts: string[];
  vipNetworks: string[];
}

/** Services that need IPVS: ports published through the routing mesh, VIPs on overlays. */
function ipvsUsers(model: Model): IpvsUser[] {
  return model.cluster.services.flatMap((s) => {
    const ingressPorts = s.ports
      .filter((p) => p.publishMode === 'ingress' && p.publishedPort !== null)
      .map((p) => `${p.protocol}/${p.publishedPort}`);
    const vipNetworks =
      s.endpointMode === 'vip'
        ? s.vips
            .map((v) => model.networks.find((n) => n.id === v.networkId))
            .filter((n): n is NetworkFacts => n !== undefined && !n.ingress)
            .map((n) => n.name)
        : [];
    return ingressPorts.length > 0 || vipNetworks.length > 0 ? [{ service: s.name, ingressPorts, vipNetworks }] : [];
  });
}

const describeUser = (u: IpvsUser): string =>
  `${u.service} (${[u.ingressPorts.length ? `ingress ${u.ingressPorts.join(', ')}` : '', u.vipNetworks.length ? `VIP on ${u.vipNetworks.join(', ')}` : ''].filter(Boolean).join('; ')})`;

interface Ctx {
  node: NodeModel;
  loaded: (mod: string) => boolean;
  report: Report;
  ok: string[];
}

function vxlan({ node, loaded, report, ok }: Ctx): void {
  // An overlay sandbox with a vxlan link proves it works, built in or not.
  const links = node.sandboxes.some((s) => s.snap.links.some((l) => l.kind === 'vxlan'));
  if (loaded('vxlan') || links) ok.push(loaded('vxlan') ? 'vxlan' : 'vxlan (built in: overlay sandboxes have vxlan links)');
  else {
    report(
      'fail',
      'vxlan',
      { absent: absentText(['vxlan']), node: node.name },
      {
        remediation: `On ${prose(node.name)}: ${code(`${persist(['vxlan'])}`)}; if modprobe cannot find it, install the kernel's extra modules (e.g. linux-modules-extra-$(uname -r)), then \`systemctl restart docker\`.`,
      },
    );
  }
}

/** IPVS for the routing mesh and VIPs; xt_mark marks their packets (MARK rules in the sandboxes prove it works). */
function ipvs({ node, loaded, report, ok }: Ctx, users: IpvsUser[]): void {
  const tables = node.sandboxes.map((s) => s.ipvs);
  const refused = tables.find((t) => t.state === 'unavailable');
  const ipvsOk = loaded('ip_vs') || tables.some((t) => t.state === 'ok');
  const rrOk = loaded('ip_vs_rr') || tables.some((t) => t.state === 'ok' && t.table.services.some((s) => s.scheduler === 'rr'));
  const markOk = loaded('xt_mark') || node.sandboxes.some((s) => s.mangle.ok && s.mangle.value.tables.mangle?.rules.some((r) => r.target === 'MARK'));
  const needs = listText(users.map(describeUser));
  if (!ipvsOk) {
    const missing = ['ip_vs', ...(rrOk ? [] : ['ip_vs_rr'])];
    const data = {
      absent: absentText(missing),
      refused: refused?.state === 'unavailable' ? ` and the sandboxes report: ${refused.reason}` : '',
      users: needs,
      node: node.name,
      mark: markOk ? '' : ' (xt_mark, which marks their packets for IPVS, is not loaded either)',
    };
    report('fail', 'ipvs', data, {
      remediation: `On ${prose(node.name)}: ${code(`${persist([...missing, ...(markOk ? [] : ['xt_mark'])])}`)} (install the kernel's extra modules if modprobe cannot find them), then redeploy the affected services (${code(`docker service update --force ${shq(users[0]!.service)}`)}).`,
    });
    return;
  }
  if (rrOk) ok.push('ip_vs, ip_vs_rr');
  else
    report(
      'warn',
      'ipvsRr',
      { users: needs },
      { remediation: `On ${prose(node.name)}: check \`modinfo ip_vs_rr\`, then ${code(`${persist(['ip_vs_rr'])}`)}.` },
    );
  if (markOk) ok.push('xt_mark');
  else {
    report(
      'warn',
      'xtMark',
      { absent: absentText(['xt_mark']), node: node.name, services: listText(users.map((u) => u.service)) },
      {
        remediation: `On ${prose(node.name)}: ${code(`${persist(['xt_mark'])}`)}.`,
      },
    );
  }
}

/** esp4 and xfrm_user for encrypted overlays (readable xfrm state with ESP SAs proves them). */
function ipsec({ node, loaded, report, ok }: Ctx, encrypted: NetworkFacts[]): void {
  const xfrm = node.sandboxes.map((s) => s.xfrm);
  const xfrmWorks = xfrm.some((x) => x.ok);
  const espSeen = xfrm.some((x) => x.ok && x.value.some((s) => s.proto === 'esp'));
  const missing = [...(loaded('esp4') || espSeen ? [] : ['esp4']), ...(loaded('xfrm_user') || xfrmWorks ? [] : ['xfrm_user'])];
  if (missing.length === 0) {
    ok.push('esp4, xfrm_user');
    return;
  }
  const inUse = encrypted.filter((net) => node.sandboxes.some((s) => s.kind === 'overlay' && s.snap.networkId === net.id));
  const nets = inUse.length > 0 ? inUse : encrypted;
  report(
    inUse.length > 0 ? 'fail' : 'warn',
    inUse.length > 0 ? 'ipsecInUse' : 'ipsec',
    { absent: absentText(missing), node: node.name, s: nets.length > 1 ? 's' : '', networks: listText(nets.map((x) => x.name)) },
    {
      network: nets[0]!.name,
      remediation: `On ${prose(node.name)}: ${code(`${persist(missing)}`)} (check with ${code(`modinfo ${missing.join(' ')}`)}).`,
    },
  );
}

export default defineCheck({
  meta: {
    id: 'host.kernel.modules',
    layer: 'host',
    title: 'Kernel modules for overlay, routing mesh and encryption',
    looksAt:
      'vxlan (overlay), ip_vs/ip_vs_rr (ingress routing mesh and VIP load balancing, when a service needs them), esp4/xfrm_user (encrypted overlays), br_netfilter and xt_mark; /sys/module and /proc/modules, with evidence of built-in support from the sandboxes (vxlan links, a readable /proc/net/ip_vs, xfrm state, MARK rules) and the bridge-nf sysctls.',
    remediation: 'Load the module on the node (`modprobe <module>`) and persist it in /etc/modules-load.d/.',
    scope: 'node',
    failures: [32],
    messages: MESSAGES,
  },
  check({ model, node, report }) {
    const m = node.host!.modules;
    if (Object.keys(m).length === 0) {
      report('skip', 'notCollected', { why: node.unavailable('host/modules', 'module check') });
      return;
    }
    let problems = 0;
    const counted: Report = (...args) => {
      problems++;
      report(...args);
    };
    const ctx: Ctx = { node, loaded: (mod) => Object.hasOwn(m, mod) && m[mod] === true, report: counted, ok: [] };
    vxlan(ctx);
    const users = ipvsUsers(model);
    if (users.length > 0) ipvs(ctx, users);
    const encrypted = model.networks.filter((x) => x.encrypted);
    if (encrypted.length > 0) ipsec(ctx, encrypted);
    // br_netfilter: the bridge-nf sysctls exist exactly when it is available.
    const brSysctl = node.host!.sysctls['net/bridge/bridge-nf-call-iptables'];
    if (ctx.loaded('br_netfilter') || (brSysctl !== undefined && brSysctl !== null)) ctx.ok.push('br_netfilter');
    else
      counted(
        'warn',
        'brNetfilter',
        { absent: absentText(['br_netfilter']) },
        { remediation: `On ${prose(node.name)}: ${code(`${persist(['br_netfilter'])}`)}.` },
      );
    if (problems > 0) return;
    const notes = [
      users.length === 0 ? 'IPVS not needed (no ingress-published port or VIP service)' : '',
      encrypted.length === 0 ? 'no encrypted overlay' : '',
    ]
      .filter(Boolean)
      .join('; ');
    report('pass', 'present', { modules: ctx.ok.join(', '), notes: notes ? `; ${notes}` : '' });
  },
});
