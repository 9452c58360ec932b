/**
 * Service layer: the load balancing docker programs for swarm services — the
 * routing mesh (host DNAT → ingress_sbox → MARK → IPVS fwmark service → task
 * addresses on the ingress network) and VIP load balancing (lb_<prefix>
 * sandbox: MARK on the VIP → IPVS → task addresses on the overlay).
 *
 * One root cause, one failure: when a node's kernel has no IPVS, docker
 * programs none of this, so service.ingress.ipvs-available reports it once
 * per node (naming the published ports and VIP services it breaks) and the
 * other checks skip that node.
 */
import type { IptablesDump } from '../parse/iptables.js';
import { findFwmarkService, type IpvsService } from '../parse/ipvs.js';
import type { NetworkFacts, NodeSnapshot } from '../snapshot/types.js';
import {
  hostingNodes,
  listText,
  networkSandboxes,
  nodeSkipReason,
  nsenter,
  overlayNetworks,
  perCheckableNode,
  pickSandbox,
  topology,
} from '../model/topology.js';
import {
  diffBackends,
  ingressGatewayAddress,
  ingressPorts,
  nodeIpvs,
  portMarks,
  portText,
  readDump,
  readIpvs,
  serviceVip,
  taskIps,
  vipMarks,
  hostDumps,
  type PublishedPort,
} from '../model/lb.js';
import { defineCheck, type Check, type CheckContext, type FindingDraft } from './legacy.js';

const ingressNetwork = (ctx: CheckContext): NetworkFacts | undefined => ctx.snapshot.cluster.networks.find((n) => n.ingress);
const ingressSandbox = (node: NodeSnapshot) => node.sandboxes.find((s) => s.kind === 'ingress');

const NO_PORTS = 'no service publishes a port in ingress mode';

const ipvsSkip = (node: NodeSnapshot): FindingDraft | null =>
  nodeIpvs(node)?.state === 'unavailable'
    ? { status: 'skip', node: node.name, detail: `IPVS is not available on ${node.name}, so docker programs no load balancing there (see service.ingress.ipvs-available)` }
    : null;

/**
 * Run `fn` for every node whose ingress load balancing can be checked; a node
 * that cannot be read, or has no IPVS (reported once by
 * service.ingress.ipvs-available), gives one skip instead.
 */
const perIpvsNode = (ctx: CheckContext, fn: (node: NodeSnapshot) => FindingDraft[]): FindingDraft[] =>
  perCheckableNode(ctx.snapshot, fn, (node) => nodeSkipReason(node) ?? ipvsSkip(node)?.detail ?? null);

/** VIP services whose load balancer lives on this node (an lb_ sandbox of their network is here). */
function vipUsers(ctx: CheckContext, node: NodeSnapshot): string[] {
  const out: string[] = [];
  for (const net of overlayNetworks(ctx.snapshot)) {
    if (net.ingress || networkSandboxes(node, net, 'lb').length === 0) continue;
    for (const svc of ctx.snapshot.cluster.services) {
      const vip = serviceVip(svc, net);
      if (vip) out.push(`${svc.name} on ${net.name} (VIP ${vip})`);
    }
  }
  return out;
}

/** One finding comparing an IPVS fwmark service's real servers with the running tasks. */
function backendFinding(
  base: { node: string; network: string },
  where: string,
  nsPrefix: string,
  svcName: string,
  mark: number,
  ipvsSvc: IpvsService | undefined,
  expected: Map<string, string>,
): FindingDraft {
  const force = `docker service update --force ${svcName}`;
  if (!ipvsSvc) {
    return {
      ...base,
      status: 'fail',
      detail: `${where} marks ${svcName}'s traffic with fwmark ${mark} but has no IPVS service for it: connections are not load-balanced and fail`,
      remediation: `${force} (docker re-programs the load balancer); if it stays missing, systemctl restart docker on ${base.node}`,
    };
  }
  const d = diffBackends(ipvsSvc, expected);
  const liveStale = d.stale.filter((s) => s.weight > 0);
  const parts: string[] = [];
  if (d.missing.length > 0) parts.push(`missing backends ${listText(d.missing.map((ip) => `${ip} (${expected.get(ip)})`))}: those tasks get no traffic through ${base.node}`);
  if (d.stale.length > 0) {
    parts.push(
      `stale backends ${listText(d.stale.map((s) => `${s.ip} (weight ${s.weight})`))}: no running task has ${d.stale.length === 1 ? 'this address' : 'these addresses'}${liveStale.length > 0 ? ', connections sent there time out' : ' (weight 0: being removed)'}`,
    );
  }
  if (d.drained.length > 0) parts.push(`running tasks with weight 0 (drained, get no new connections): ${listText(d.drained.map((ip) => `${ip} (${expected.get(ip)})`))}`);
  const status = d.missing.length > 0 || liveStale.length > 0 ? 'fail' : parts.length > 0 ? 'warn' : 'pass';
  if (status === 'pass') {
    return { ...base, status, detail: `${where}: fwmark ${mark} of ${svcName} balances over all ${d.present} running task(s)` };
  }
  const byHand = [
    ...d.stale.map((s) => `${nsPrefix} ipvsadm -d -f ${mark} -r ${s.ip}:0`),
    ...d.missing.map((ip) => `${nsPrefix} ipvsadm -a -f ${mark} -r ${ip}:0 -m -w 1`),
  ];
  return {
    ...base,
    status,
    detail: `${where}, IPVS fwmark ${mark} of ${svcName}: ${parts.join('; ')}`,
    remediation: `${force} (re-programs the backends on every node)${byHand.length > 0 ? `; by hand on ${base.node}: ${byHand.join('; ')}` : ''}`,
  };
}

// ---------------------------------------------------------------------------

const ingressSandboxCheck = defineCheck(
  {
    id: 'service.ingress.sandbox',
    layer: 'service',
    title: 'Every node has the routing-mesh sandbox (ingress_sbox)',
    looksAt: 'ingress_sbox in the docker network namespaces of each node, and the swarm\'s ingress network',
    remediation: 'systemctl restart docker on the node (ingress_sbox is created when the node joins the swarm); if the ingress network was removed, re-create it: docker network create --driver overlay --ingress ingress',
  },
  (ctx) => {
    const ingress = ingressNetwork(ctx);
    const ports = ingressPorts(ctx.snapshot);
    if (!ingress) {
      return ports.length > 0
        ? [
            {
              status: 'fail',
              detail: `the swarm has no ingress network, yet ${listText(ports.map(portText))} ${ports.length === 1 ? 'is' : 'are'} published in ingress mode: the routing mesh does not exist`,
              remediation: 'docker network create --driver overlay --ingress ingress, then docker service update --force <service>',
            },
          ]
        : [{ status: 'pass', detail: 'the swarm has no ingress network and no service publishes a port in ingress mode' }];
    }
    return perCheckableNode(ctx.snapshot, (node) => {
      const sb = ingressSandbox(node);
      if (!sb) {
        return [
          {
            status: ports.length > 0 ? 'fail' : 'warn',
            node: node.name,
            network: ingress.name,
            detail: `${node.name} has no ingress_sbox${ports.length > 0 ? `: ${listText(ports.map(portText))} cannot be reached through ${node.name}` : ''}`,
            remediation: `systemctl restart docker on ${node.name}`,
          },
        ];
      }
      if (sb.enterError !== null) {
        return [{ status: 'skip', node: node.name, network: ingress.name, detail: `ingress_sbox on ${node.name} could not be entered: ${sb.enterError}` }];
      }
      return [{ status: 'pass', node: node.name, network: ingress.name, detail: `ingress_sbox present on ${node.name}` }];
    });
  },
);

const ipvsAvailable = defineCheck(
  {
    id: 'service.ingress.ipvs-available',
    layer: 'service',
    title: 'IPVS is available for the routing mesh and service VIPs',
    looksAt:
      'ipvsadm -Ln in ingress_sbox (or an lb_ sandbox) on each node: whether the kernel has IPVS at all; which ingress-published ports and VIP services depend on it there',
    remediation:
      'Load IPVS on the node (modprobe ip_vs ip_vs_rr; persist in /etc/modules-load.d/), then systemctl restart docker there; on a kernel built without IPVS, use a kernel with CONFIG_IP_VS or publish with mode=host and endpoint-mode dnsrr',
  },
  (ctx) => {
    const ports = ingressPorts(ctx.snapshot);
    return perCheckableNode(ctx.snapshot, (node) => {
      const r = nodeIpvs(node);
      if (r === null) {
        return [{ status: 'skip', node: node.name, detail: `${node.name} has no ingress_sbox or lb_ sandbox to read IPVS from (see service.ingress.sandbox)` }];
      }
      if (r.state === 'unreadable') return [{ status: 'skip', node: node.name, detail: r.reason }];
      if (r.state === 'ok') {
        return [{ status: 'pass', node: node.name, detail: `IPVS available on ${node.name} (${r.sandbox}: ${r.table.services.length} service(s))` }];
      }
      const vips = vipUsers(ctx, node);
      const mod = node.host?.modules.ip_vs === false ? '; kernel module ip_vs is not loaded' : '';
      const broken = [
        ports.length > 0 ? `published ports ${listText(ports.map(portText))} do not answer on ${node.name}` : null,
        vips.length > 0 ? `VIP load balancing of ${listText(vips)} does not work from ${node.name}` : null,
      ].filter((x): x is string => x !== null);
      const remediation = `on ${node.name}: modprobe ip_vs && modprobe ip_vs_rr (persist: printf 'ip_vs\\nip_vs_rr\\n' > /etc/modules-load.d/ipvs.conf), then systemctl restart docker; if the kernel has no IPVS at all, use one built with CONFIG_IP_VS, or publish with --publish mode=host and --endpoint-mode dnsrr`;
      return [
        {
          status: broken.length > 0 ? 'fail' : 'warn',
          node: node.name,
          detail: `${node.name} has no IPVS (${r.sandbox}: ${r.reason}${mod}): ${broken.length > 0 ? broken.join('; ') : 'nothing uses it yet, but publishing a port or creating a VIP service will not work'}`,
          remediation,
        },
      ];
    });
  },
);

const ingressDnat = defineCheck(
  {
    id: 'service.ingress.dnat',
    layer: 'service',
    title: 'Host DNATs every ingress-published port to ingress_sbox',
    looksAt: 'nat table of the host (iptables-save, and the legacy/nft dumps): DOCKER-INGRESS chain reached from PREROUTING, with a DNAT to ingress_sbox for each port published in ingress mode',
    remediation: 'docker service update --force <service> (docker re-adds its DNAT rules); if a firewall reload flushed them, systemctl restart docker on the node and fix the firewall so it keeps docker\'s chains',
  },
  (ctx) => {
    const ports = ingressPorts(ctx.snapshot);
    if (ports.length === 0) return [{ status: 'pass', detail: NO_PORTS }];
    const ingress = ingressNetwork(ctx);
    return perIpvsNode(ctx, (node) => {
      const base = { node: node.name, network: ingress?.name ?? null };
      const { dumps, problems } = hostDumps(node);
      const hasChain = (d: IptablesDump) => 'DOCKER-INGRESS' in (d.tables.nat?.chains ?? {}) || (d.tables.nat?.rules ?? []).some((r) => r.chain === 'DOCKER-INGRESS');
      const found = dumps.find((d) => hasChain(d.dump));
      if (dumps.length === 0) return [{ ...base, status: 'skip', detail: `no iptables dump of ${node.name}: ${problems.join('; ')}` }];
      const force = `docker service update --force ${[...new Set(ports.map((p) => p.service.name))].join(' / ')}`;
      if (!found) {
        return [
          {
            ...base,
            status: 'fail',
            detail: `the nat table of ${node.name} has no DOCKER-INGRESS chain: ${listText(ports.map(portText))} ${ports.length === 1 ? 'is' : 'are'} not forwarded to the routing mesh (a firewall reload may have flushed docker's rules)`,
            remediation: `on ${node.name}: systemctl restart docker (docker re-creates DOCKER-INGRESS), or ${force}; make the firewall keep docker's chains`,
          },
        ];
      }
      const rules = found.dump.tables.nat!.rules;
      const chainRules = rules.filter((r) => r.chain === 'DOCKER-INGRESS' && r.target === 'DNAT');
      const jumped = rules.some((r) => r.chain === 'PREROUTING' && r.target === 'DOCKER-INGRESS');
      const sb = ingressSandbox(node);
      const gw = sb && sb.enterError === null ? ingressGatewayAddress(sb, ingress) : null;
      const missing: PublishedPort[] = [];
      const misdirected: string[] = [];
      for (const p of ports) {
        const r = chainRules.find((x) => x.protocol === p.protocol && x.dport !== undefined && x.dport.split(',').some((s) => s === String(p.port)));
        if (!r) missing.push(p);
        else if (gw && r.toDestination && r.toDestination.split(':')[0] !== gw) misdirected.push(`${portText(p)} → ${r.toDestination} (ingress_sbox is ${gw})`);
      }
      const orphan = chainRules.filter((r) => !ports.some((p) => r.protocol === p.protocol && r.dport === String(p.port)));
      const via = found.name === 'host/iptables-save' ? '' : ` (found with ${found.name.slice(5)})`;
      if (missing.length > 0 || misdirected.length > 0 || !jumped) {
        const parts = [
          missing.length > 0 ? `no DNAT for ${listText(missing.map(portText))}` : null,
          misdirected.length > 0 ? `DNAT to the wrong address: ${listText(misdirected)}` : null,
          !jumped ? 'PREROUTING does not jump to DOCKER-INGRESS, so no published port is forwarded' : null,
        ].filter(Boolean);
        return [
          {
            ...base,
            status: 'fail',
            detail: `nat table of ${node.name}${via}: ${parts.join('; ')}: connections to ${node.name} on those ports are refused or go nowhere`,
            remediation: `${missing.length > 0 ? `docker service update --force ${[...new Set(missing.map((p) => p.service.name))].join(' / ')}` : force}; if rules keep disappearing, systemctl restart docker on ${node.name} and stop the firewall tool from flushing the nat table`,
          },
        ];
      }
      if (orphan.length > 0) {
        return [
          {
            ...base,
            status: 'warn',
            detail: `nat DOCKER-INGRESS on ${node.name}${via} DNATs ports no service publishes: ${listText(orphan.map((r) => `${r.dport}/${r.protocol ?? '?'} → ${r.toDestination ?? '?'}`))} (left over from a removed service)`,
            remediation: `on ${node.name}: ${orphan.map((r) => `iptables -t nat -D DOCKER-INGRESS ${r.args.join(' ')}`).join('; ')}`,
          },
        ];
      }
      return [{ ...base, status: 'pass', detail: `DNAT present on ${node.name}${via} for ${listText(ports.map(portText))}${gw ? ` → ${gw}` : ''}` }];
    });
  },
);

const ingressMark = defineCheck(
  {
    id: 'service.ingress.mark',
    layer: 'service',
    title: 'ingress_sbox marks every published port for IPVS',
    looksAt: 'mangle table in ingress_sbox: a PREROUTING -p <proto> --dport <port> -j MARK rule (the fwmark IPVS balances on) for each port published in ingress mode',
    remediation: 'docker service update --force <service> (docker re-adds the mark); if it persists, systemctl restart docker on the node',
  },
  (ctx) => {
    const ports = ingressPorts(ctx.snapshot);
    if (ports.length === 0) return [{ status: 'pass', detail: NO_PORTS }];
    const ingress = ingressNetwork(ctx);
    return perIpvsNode(ctx, (node) => {
      const base = { node: node.name, network: ingress?.name ?? null };
      const sb = ingressSandbox(node);
      if (!sb || sb.enterError !== null) {
        return [{ ...base, status: 'skip', detail: `ingress_sbox on ${node.name} ${sb ? `could not be entered: ${sb.enterError}` : 'is missing (see service.ingress.sandbox)'}` }];
      }
      const r = readDump(node.raw['netns/ingress_sbox/iptables-mangle'], `iptables-save -t mangle in ingress_sbox on ${node.name}`);
      if ('problem' in r) return [{ ...base, status: 'skip', detail: r.problem }];
      const marked = ports.map((p) => ({ p, marks: portMarks(r.dump, p.protocol, p.port) }));
      const missing = marked.filter((m) => m.marks.length === 0);
      if (missing.length > 0) {
        const svcs = [...new Set(missing.map((m) => m.p.service.name))];
        return [
          {
            ...base,
            status: 'fail',
            detail: `ingress_sbox on ${node.name} has no MARK rule for ${listText(missing.map((m) => portText(m.p)))}: IPVS never sees those connections, they are dropped`,
            remediation: `docker service update --force ${svcs.join(' / ')}; if the rule stays missing, systemctl restart docker on ${node.name}`,
          },
        ];
      }
      return [{ ...base, status: 'pass', detail: `ingress_sbox on ${node.name} marks ${listText(marked.map((m) => `${portText(m.p)} with fwmark ${m.marks[0]}`))}` }];
    });
  },
);

const ingressBackends = defineCheck(
  {
    id: 'service.ingress.backends',
    layer: 'service',
    title: 'Routing-mesh IPVS backends are the running tasks',
    looksAt: 'ipvsadm -Ln in ingress_sbox: the fwmark service of each published service must list exactly the running tasks\' addresses on the ingress network (weight 0 = draining)',
    remediation: 'docker service update --force <service> (re-programs the backends); by hand: nsenter --net=/var/run/docker/netns/ingress_sbox ipvsadm -d -f <mark> -r <stale ip>:0',
  },
  (ctx) => {
    const ports = ingressPorts(ctx.snapshot);
    if (ports.length === 0) return [{ status: 'pass', detail: NO_PORTS }];
    const ingress = ingressNetwork(ctx);
    if (!ingress) return [{ status: 'skip', detail: 'the swarm has no ingress network (see service.ingress.sandbox)' }];
    const services = [...new Map(ports.map((p) => [p.service.id, p.service])).values()];
    return perIpvsNode(ctx, (node) => {
      const base = { node: node.name, network: ingress.name };
      const sb = ingressSandbox(node);
      if (!sb) return [{ ...base, status: 'skip', detail: `no ingress_sbox on ${node.name} (see service.ingress.sandbox)` }];
      const ipvs = readIpvs(node, sb);
      const mangle = readDump(node.raw['netns/ingress_sbox/iptables-mangle'], `iptables-save -t mangle in ingress_sbox on ${node.name}`);
      if (ipvs.state !== 'ok' || 'problem' in mangle) {
        return [{ ...base, status: 'skip', detail: ipvs.state !== 'ok' ? ipvs.reason : 'problem' in mangle ? mangle.problem : '' }];
      }
      return services.map((svc): FindingDraft => {
        const marks = [...new Set(ports.filter((p) => p.service.id === svc.id).flatMap((p) => portMarks(mangle.dump, p.protocol, p.port)))];
        const mark = marks[0];
        if (mark === undefined) return { ...base, status: 'skip', detail: `no fwmark for ${svc.name} in ingress_sbox on ${node.name} (see service.ingress.mark)` };
        return backendFinding(base, `ingress_sbox on ${node.name}`, nsenter(node, 'ingress_sbox'), svc.name, mark, findFwmarkService(ipvs.table, mark), taskIps(ctx.snapshot, svc, ingress));
      });
    });
  },
);

const vipBackends = defineCheck(
  {
    id: 'service.vip.backends',
    layer: 'service',
    title: 'Service VIPs are marked and balanced over the running tasks',
    looksAt:
      'each node\'s lb_<network> sandbox: a mangle `-d <VIP>/32 -j MARK` rule per VIP service, and the IPVS fwmark service listing exactly the running tasks\' addresses on that network',
    remediation: 'docker service update --force <service> (re-programs the VIP load balancer on every node); if it persists, systemctl restart docker on the node',
  },
  (ctx) => {
    const t = topology(ctx.snapshot);
    const nets = overlayNetworks(ctx.snapshot).filter((n) => !n.ingress);
    const vipNets = nets
      .map((net) => ({ net, services: ctx.snapshot.cluster.services.flatMap((svc) => { const vip = serviceVip(svc, net); return vip ? [{ svc, vip }] : []; }) }))
      .filter((x) => x.services.length > 0);
    if (vipNets.length === 0) return [{ status: 'pass', detail: 'no service has a VIP on an overlay network' }];
    return perCheckableNode(ctx.snapshot, (node) => {
      const out: FindingDraft[] = [];
      const noIpvs = ipvsSkip(node);
      for (const { net, services } of vipNets) {
        const base = { node: node.name, network: net.name };
        const lb = pickSandbox(networkSandboxes(node, net, 'lb'));
        if (!lb) {
          const hosts = hostingNodes(t, net).has(node.name);
          const overlayHere = networkSandboxes(node, net, 'overlay').length > 0;
          if (hosts && overlayHere) {
            out.push({
              ...base,
              status: 'fail',
              detail: `${node.name} has tasks on ${net.name} but no load-balancer sandbox lb_${net.id.slice(0, 9)}: VIPs of ${listText(services.map((s) => `${s.svc.name} (${s.vip})`))} do not answer from ${node.name}`,
              remediation: `docker service update --force ${services.map((s) => s.svc.name).join(' / ')}; if it stays missing, systemctl restart docker on ${node.name}`,
            });
          }
          continue;
        }
        if (noIpvs) {
          out.push({ ...noIpvs, network: net.name });
          continue;
        }
        if (lb.enterError !== null) {
          out.push({ ...base, status: 'skip', detail: `${lb.name} on ${node.name} could not be entered: ${lb.enterError}` });
          continue;
        }
        const mangle = readDump(node.raw[`netns/${lb.name}/iptables-mangle`], `iptables-save -t mangle in ${lb.name} on ${node.name}`);
        if ('problem' in mangle) {
          out.push({ ...base, status: 'skip', detail: mangle.problem });
          continue;
        }
        const ipvs = readIpvs(node, lb);
        for (const { svc, vip } of services) {
          const mark = vipMarks(mangle.dump, vip)[0];
          if (mark === undefined) {
            out.push({
              ...base,
              status: 'fail',
              detail: `${lb.name} on ${node.name} has no MARK rule for ${svc.name}'s VIP ${vip}: connections to ${svc.name} from ${node.name} are not load-balanced`,
              remediation: `docker service update --force ${svc.name}; if it persists, systemctl restart docker on ${node.name}`,
            });
            continue;
          }
          if (ipvs.state !== 'ok') {
            out.push({ ...base, status: 'skip', detail: `${svc.name}: VIP ${vip} marked ${mark}, IPVS not read: ${ipvs.reason}` });
            continue;
          }
          out.push(backendFinding(base, `${lb.name} on ${node.name}`, nsenter(node, lb.name), svc.name, mark, findFwmarkService(ipvs.table, mark), taskIps(ctx.snapshot, svc, net)));
        }
      }
      return out;
    });
  },
);

export const serviceChecks: readonly Check[] = [ingressSandboxCheck, ipvsAvailable, ingressDnat, ingressMark, ingressBackends, vipBackends];
