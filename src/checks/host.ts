/**
 * Host checks not yet split into host/ (one file per check): collected at
 * all, dockerd in the host's mount namespace, kernel modules.
 *
 * Every check reports per node: `pass` with what was verified, `skip` with
 * why it could not look (a node that could not be collected is skipped here
 * and fails once, in host.node.reachable).
 */
import { unavailable } from '../parse/host.js';
import type { ClusterSnapshot, NetworkFacts, NodeSnapshot } from '../snapshot/types.js';
import { listText, perNode } from '../model/nodes.js';
import { defineCheck, type Check, type FindingDraft } from './legacy.js';

// ---------------------------------------------------------------------------
// host.node.reachable

const STAGE_TEXT: Record<string, string> = {
  connect: 'unreachable',
  timeout: 'unreachable (timed out)',
  auth: 'SSH authentication failed',
  hostkey: 'SSH host key not trusted',
  sudo: 'sudo needs a password',
  exec: 'collection failed',
  parse: 'collection output unreadable',
};

function reachRemediation(n: NodeSnapshot, stage: string): string {
  const t = n.target;
  const ssh = `ssh -p ${t.port}${t.via.length ? ` -J ${t.via.join(',')}` : ''} ${t.user}@${t.host} true`;
  switch (stage) {
    case 'connect':
    case 'timeout':
      return `Check that ${n.name} is up and sshd answers on ${t.host}:${t.port} (\`${ssh}\`); if the swarm address is not the SSH address, map ${n.name} in --inventory or ssh_config; for slow nodes raise --connect-timeout/--node-timeout.`;
    case 'auth':
      return `Give netdoctor a key ${n.name} accepts for ${t.user}: load it in ssh-agent or pass -i/--identity (or set identity in --inventory); check the user (--ssh-user). Test with \`${ssh}\`.`;
    case 'hostkey':
      return `Verify ${n.name}'s host key out of band and record it (\`${ssh}\` once, or --accept-new-host-keys for a first contact); a changed key must be cleared with \`ssh-keygen -R ${t.host}\` after you have checked why it changed.`;
    case 'sudo':
      return `On ${n.name}: let ${t.user} run the read-only collection as root without a password (e.g. \`${t.user} ALL=(root) NOPASSWD: /bin/sh\` in /etc/sudoers.d/netdoctor), or connect as root (--ssh-user root).`;
    default:
      return `Re-run the collection for ${n.name} (--node ${n.name}); if it fails again, run \`${ssh}\` and look at the error text above.`;
  }
}

const nodeReachable = defineCheck(
  {
    id: 'host.node.reachable',
    layer: 'host',
    title: 'Node collected over SSH',
    looksAt: 'Whether netdoctor could SSH to each swarm node and run the read-only collection (connect, host key, authentication, sudo, script output).',
    remediation: 'Make the node reachable over SSH for netdoctor (address, key, host key, passwordless sudo), then run it again.',
  },
  ({ snapshot }) => {
    const out: FindingDraft[] = [];
    for (const n of snapshot.nodes) {
      const t = n.target;
      const where = `${t.user}@${t.host}:${t.port}${t.via.length ? ` via ${t.via.join(',')}` : ''}`;
      if (n.host === null) {
        const first = n.errors[0];
        const stage = first?.stage ?? 'exec';
        const what = STAGE_TEXT[stage] ?? 'collection failed';
        out.push({
          status: 'fail',
          node: n.name,
          detail: `${n.name} ${what}: ${first?.message ?? `no output (status ${n.status})`} (${where}); every other check skips this node.`,
          remediation: reachRemediation(n, stage),
        });
      } else if (n.status !== 'ok' || n.errors.length > 0) {
        out.push({
          status: 'warn',
          node: n.name,
          detail: `${n.name} was only partly collected (${where}): ${n.errors.map((e) => `${e.stage}: ${e.message}`).join('; ') || n.status}; checks that need the missing sections skip.`,
          remediation: reachRemediation(n, n.errors[0]?.stage ?? 'exec'),
        });
      } else {
        out.push({ status: 'pass', node: n.name, detail: `collected over SSH as ${where} in ${n.timings.totalMs} ms` });
      }
    }
    // Swarm members this run did not try at all (not selected, no SSH target).
    for (const s of snapshot.cluster.nodes) {
      if (!snapshot.nodes.some((n) => (n.id !== null && n.id === s.id) || n.name === s.name)) {
        out.push({ status: 'skip', node: s.name, detail: `${s.name} is a swarm ${s.role} but was not collected in this run` });
      }
    }
    return out;
  },
);

// ---------------------------------------------------------------------------
// host.mountns.separate

const mountNs = defineCheck(
  {
    id: 'host.mountns.separate',
    layer: 'host',
    title: 'dockerd shares the host mount namespace',
    looksAt: 'MountFlags of docker.service (systemctl or unit files and drop-ins) and whether /proc/<dockerd>/ns/mnt differs from the SSH session\'s.',
    remediation: 'Remove MountFlags=slave from the docker.service unit or drop-in, then `systemctl daemon-reload && systemctl restart docker`.',
  },
  ({ snapshot }) =>
    perNode(snapshot, (n) => {
      const h = n.host;
      const flags = h.mountFlags;
      const sep = h.dockerd.separateMountNs;
      const flagged = flags === 'slave' || flags === 'private';
      if (!flagged && sep !== true) {
        if (sep === false) {
          return [{ status: 'pass', node: n.name, detail: `dockerd runs in the host mount namespace${flags ? ` (MountFlags=${flags})` : ''}` }];
        }
        if (!h.dockerd.running) return [{ status: 'skip', node: n.name, detail: 'dockerd is not running (see host.dockerd.running)' }];
        return [{ status: 'skip', node: n.name, detail: "could not compare dockerd's mount namespace with the host's (host/mountns not collected)" }];
      }
      const parts: string[] = [];
      const source = h.mountFlagsSource === 'systemctl' ? ' (from systemctl show docker)' : h.mountFlagsSource === 'unit-file' ? ' (from the unit files)' : '';
      if (flagged) parts.push(`docker.service has MountFlags=${flags}${source}`);
      if (sep === true) parts.push(`dockerd (pid ${h.dockerd.pid ?? '?'}) runs in a mount namespace of its own`);
      const consequence =
        n.sandboxAccess === 'dockerd-mount-ns'
          ? `the network namespace files under ${h.dockerd.execRoot}/netns are not visible from the host: \`nsenter --net=…\` and \`ip netns\` fail there, and netdoctor read the sandboxes through dockerd's mount namespace (nsenter -t ${h.dockerd.pid ?? '<pid>'} -m)`
          : n.sandboxAccess === 'none'
            ? `the network namespaces under ${h.dockerd.execRoot}/netns could not be entered from the host`
            : 'namespace mounts made by dockerd do not propagate back to the host (stale netns files, "device or resource busy" when removing containers)';
      const unit = flagged;
      return [
        {
          status: 'warn',
          node: n.name,
          detail: `${parts.join('; ')}: ${consequence}.`,
          remediation: unit
            ? `On ${n.name}: find the MountFlags line (\`systemctl cat docker\`), remove MountFlags=${flags ?? 'slave'} from docker.service or its drop-in under /etc/systemd/system/docker.service.d/, then \`systemctl daemon-reload && systemctl restart docker\`.`
            : `On ${n.name}: dockerd was started in a private mount namespace (snap package, a wrapper running \`unshare -m\`, or dockerd in a container); run dockerd from the host's mount namespace (docker.service without MountFlags), then restart it.`,
        },
      ];
    }),
);

// ---------------------------------------------------------------------------
// host.kernel.modules

const rawMatching = (n: NodeSnapshot, re: RegExp) => Object.entries(n.raw).filter(([k]) => re.test(k)).map(([, s]) => s);

const absentText = (mods: string[]): string =>
  `${listText(mods)} ${mods.length === 1 ? 'is' : 'are'} not loaded (no /sys/module or /proc/modules entry; a module built into the kernel without parameters can look the same)`;

interface IpvsUser {
  service: string;
  ingressPorts: string[];
  vipNetworks: string[];
}

function ipvsUsers(snapshot: ClusterSnapshot): IpvsUser[] {
  const nets = snapshot.cluster.networks;
  const out: IpvsUser[] = [];
  for (const s of snapshot.cluster.services) {
    const ingressPorts = s.ports.filter((p) => p.publishMode === 'ingress' && p.publishedPort !== null).map((p) => `${p.protocol}/${p.publishedPort}`);
    const vipNetworks =
      s.endpointMode === 'vip'
        ? s.vips
            .map((v) => nets.find((n) => n.id === v.networkId))
            .filter((n): n is NetworkFacts => n !== undefined && !n.ingress)
            .map((n) => n.name)
        : [];
    if (ingressPorts.length > 0 || vipNetworks.length > 0) out.push({ service: s.name, ingressPorts, vipNetworks });
  }
  return out;
}

const describeUser = (u: IpvsUser): string =>
  `${u.service} (${[u.ingressPorts.length ? `ingress ${u.ingressPorts.join(', ')}` : '', u.vipNetworks.length ? `VIP on ${u.vipNetworks.join(', ')}` : '']
    .filter(Boolean)
    .join('; ')})`;

const persist = (mods: string[]) =>
  `modprobe -a ${mods.join(' ')} && printf '${mods.join('\\n')}\\n' > /etc/modules-load.d/swarm.conf`;

const kernelModules = defineCheck(
  {
    id: 'host.kernel.modules',
    layer: 'host',
    title: 'Kernel modules for overlay, routing mesh and encryption',
    looksAt:
      'vxlan (overlay), ip_vs/ip_vs_rr (ingress routing mesh and VIP load balancing, when a service needs them), esp4/xfrm_user (encrypted overlays), br_netfilter and xt_mark; /sys/module and /proc/modules, with evidence of built-in support from the sandboxes (vxlan links, a readable /proc/net/ip_vs, xfrm state, MARK rules) and the bridge-nf sysctls.',
    remediation: 'Load the module on the node (`modprobe <module>`) and persist it in /etc/modules-load.d/.',
  },
  ({ snapshot }) => {
    const users = ipvsUsers(snapshot);
    const encrypted = snapshot.cluster.networks.filter((x) => x.encrypted);
    return perNode(snapshot, (n) => {
      const m = n.host.modules;
      if (Object.keys(m).length === 0) {
        return [{ status: 'skip', node: n.name, detail: `module list not collected: ${unavailable(n.raw['host/modules'], 'module check').reason}` }];
      }
      const out: FindingDraft[] = [];
      const ok: string[] = [];

      // vxlan: an overlay sandbox with a vxlan link proves it works, built in or not.
      const vxlanLinks = n.sandboxes.some((s) => s.links.some((l) => l.kind === 'vxlan'));
      if (m.vxlan || vxlanLinks) ok.push(m.vxlan ? 'vxlan' : 'vxlan (built in: overlay sandboxes have vxlan links)');
      else {
        out.push({
          status: 'fail',
          node: n.name,
          detail: `${absentText(['vxlan'])} and no overlay sandbox on ${n.name} has a vxlan device: overlay networks cannot carry traffic to or from this node.`,
          remediation: `On ${n.name}: \`${persist(['vxlan'])}\`; if modprobe cannot find it, install the kernel's extra modules (e.g. linux-modules-extra-$(uname -r)), then \`systemctl restart docker\`.`,
        });
      }

      // IPVS: needed by the routing mesh (ingress-published ports) and VIP services; xt_mark
      // marks their packets for IPVS (its MARK rules in the sandboxes prove it works).
      if (users.length > 0) {
        const ipvs = rawMatching(n, /^netns\/[^/]+\/ipvs$/);
        const ipvsWorks = ipvs.some((s) => s.rc === 0);
        const ipvsRefused = ipvs.find((s) => s.rc !== 0 && /IPVS is not available/.test(s.stderr));
        const rrSeen = ipvs.some((s) => s.rc === 0 && /^\s*(FWM|TCP|UDP|SCTP)\s+\S+\s+rr\b/m.test(s.stdout));
        const ipvsOk = m.ip_vs === true || ipvsWorks;
        const rrOk = m.ip_vs_rr === true || rrSeen;
        const markSeen = rawMatching(n, /^netns\/[^/]+\/iptables-mangle$/).some((s) => s.rc === 0 && /-j MARK\b/.test(s.stdout));
        const markOk = m.xt_mark === true || markSeen;
        const needs = `needed by ${listText(users.map(describeUser))}`;
        if (!ipvsOk) {
          const missing = ['ip_vs', ...(rrOk ? [] : ['ip_vs_rr'])];
          const load = [...missing, ...(markOk ? [] : ['xt_mark'])];
          out.push({
            status: 'fail',
            node: n.name,
            detail: `${absentText(missing)}${ipvsRefused ? ` and the sandboxes report: ${ipvsRefused.stderr.trim().split('\n')[0]}` : ''}; IPVS is ${needs}: published ports do not answer on ${n.name} and service VIPs do not load-balance from tasks there${
              markOk ? '' : ' (xt_mark, which marks their packets for IPVS, is not loaded either)'
            }.`,
            remediation: `On ${n.name}: \`${persist(load)}\` (install the kernel's extra modules if modprobe cannot find them), then redeploy the affected services (\`docker service update --force ${users[0]!.service}\`).`,
          });
        } else {
          if (rrOk) ok.push('ip_vs, ip_vs_rr');
          else {
            out.push({
              status: 'warn',
              node: n.name,
              detail: `ip_vs is loaded but ip_vs_rr is not (yet): the kernel loads it when the first rr service is created; if it is not installed, IPVS services ${needs} cannot be created.`,
              remediation: `On ${n.name}: check \`modinfo ip_vs_rr\`, then \`${persist(['ip_vs_rr'])}\`.`,
            });
          }
          if (markOk) ok.push('xt_mark');
          else {
            out.push({
              status: 'warn',
              node: n.name,
              detail: `${absentText(['xt_mark'])} and no sandbox on ${n.name} has MARK rules: the routing mesh and VIPs mark packets for IPVS with it (${listText(users.map((u) => u.service))}).`,
              remediation: `On ${n.name}: \`${persist(['xt_mark'])}\`.`,
            });
          }
        }
      }

      // IPsec for encrypted overlays.
      if (encrypted.length > 0) {
        const xfrm = rawMatching(n, /^netns\/[^/]+\/xfrm-state$/);
        const xfrmWorks = xfrm.some((s) => s.rc === 0);
        const espSeen = xfrm.some((s) => s.rc === 0 && /proto esp/.test(s.stdout));
        const missing = [...(m.esp4 || espSeen ? [] : ['esp4']), ...(m.xfrm_user || xfrmWorks ? [] : ['xfrm_user'])];
        const inUse = encrypted.filter((net) => n.sandboxes.some((s) => s.kind === 'overlay' && s.networkId === net.id));
        if (missing.length > 0) {
          const names = encrypted.map((x) => x.name);
          out.push({
            status: inUse.length > 0 ? 'fail' : 'warn',
            node: n.name,
            network: (inUse[0] ?? encrypted[0])!.name,
            detail:
              inUse.length > 0
                ? `${absentText(missing)} while ${n.name} has tasks on the encrypted overlay${inUse.length > 1 ? 's' : ''} ${listText(inUse.map((x) => x.name))}: without IPsec the encrypted VXLAN traffic is dropped.`
                : `${absentText(missing)}; the kernel loads them on demand when ${n.name} first joins the encrypted overlay${names.length > 1 ? 's' : ''} ${listText(names)}, which fails if they are not installed.`,
            remediation: `On ${n.name}: \`${persist(missing)}\` (check with \`modinfo ${missing.join(' ')}\`).`,
          });
        } else ok.push('esp4, xfrm_user');
      }

      // br_netfilter: the bridge-nf sysctls exist exactly when it is available.
      const brSysctl = n.host.sysctls['net/bridge/bridge-nf-call-iptables'];
      if (m.br_netfilter || (brSysctl !== undefined && brSysctl !== null)) ok.push('br_netfilter');
      else {
        out.push({
          status: 'warn',
          node: n.name,
          detail: `${absentText(['br_netfilter'])} and net.bridge.bridge-nf-call-iptables does not exist: iptables does not see bridged traffic (Docker's isolation and NAT rules on bridges rely on it).`,
          remediation: `On ${n.name}: \`${persist(['br_netfilter'])}\`.`,
        });
      }

      if (out.length === 0) {
        const notes = [users.length === 0 ? 'IPVS not needed (no ingress-published port or VIP service)' : '', encrypted.length === 0 ? 'no encrypted overlay' : '']
          .filter(Boolean)
          .join('; ');
        out.push({ status: 'pass', node: n.name, detail: `present: ${ok.join(', ')}${notes ? `; ${notes}` : ''}` });
      }
      return out;
    });
  },
);

export const hostChecks: readonly Check[] = [nodeReachable, mountNs, kernelModules];
