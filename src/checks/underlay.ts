/**
 * Underlay checks: what the active probes saw between every ordered pair of
 * nodes, one finding per pair and port (Weave-style ok / blocked /
 * unconfirmed), and the path MTU against overlay MTU + 50 bytes of VXLAN.
 */
import type { PortProbe } from '../probe/types.js';
import { describeOutcome, evaluate, firewallDumps } from '../model/firewall.js';
import type { CollectedNode } from '../model/nodes.js';
import { defineCheck, type Check, type CheckContext, type FindingDraft, type Status } from './legacy.js';

const noProbes = (ctx: CheckContext): FindingDraft[] | null =>
  ctx.probes === null ? [{ status: 'skip', detail: 'active probes were not run (--no-probe, or a snapshot without probes)' }] : null;

const probeErrors = (ctx: CheckContext): FindingDraft[] =>
  (ctx.probes?.errors ?? []).map((e) => ({ status: 'skip' as const, node: e.node, detail: e.message }));

const portName = (p: PortProbe): string => `${p.proto}/${p.port}`;

/**
 * A capture sees a datagram before the receiver's netfilter INPUT does, so a
 * UDP probe seen on the receiver is only "ok" if the receiver's own firewall
 * also lets it through (TCP needs no such step: the handshake passed INPUT).
 */
function receiverVerdict(ctx: CheckContext, p: PortProbe): { status: Status; detail: string } | null {
  if (p.proto !== 'udp' || p.state !== 'ok' || p.port === null) return null;
  const to = ctx.snapshot.nodes.find((n) => n.name === p.to);
  const addr = (name: string) => ctx.snapshot.cluster.nodes.find((n) => n.name === name)?.advertiseAddress ?? null;
  if (!to?.host) return null;
  const dumps = firewallDumps(to as CollectedNode);
  if ('skip' in dumps) return null;
  for (const { label, dump } of dumps) {
    const ev = evaluate(dump, 'INPUT', { proto: 'udp', dport: p.port, sport: null, src: addr(p.from), dst: addr(p.to), iface: null });
    const o = ev.drops[0];
    if (ev.result === 'accepted' || !o) continue;
    const what = `${portName(p)} ${p.from} → ${p.to}: arrives on ${p.to} but ${describeOutcome(o, 'INPUT')} (${label})`;
    return { status: ev.result === 'dropped' ? 'fail' : 'warn', detail: what };
  }
  return null;
}

function portCheck(
  id: string,
  title: string,
  select: (p: PortProbe, ctx: CheckContext) => boolean,
  why: string,
  remediation: (p: PortProbe) => string,
): Check {
  return defineCheck(
    {
      id,
      layer: 'underlay',
      title,
      looksAt: `active probe between every ordered pair of nodes: ${why}`,
      remediation: 'allow the port between the two nodes in every firewall on the path (host iptables/nftables, security groups)',
    },
    (ctx) => {
      const skip = noProbes(ctx);
      if (skip) return skip;
      const out: FindingDraft[] = probeErrors(ctx);
      for (const p of ctx.probes!.ports.filter((x) => select(x, ctx))) {
        const local = receiverVerdict(ctx, p);
        const status: Status = local?.status ?? (p.state === 'ok' ? 'pass' : p.state === 'blocked' ? 'fail' : 'warn');
        out.push({
          status,
          node: p.from,
          peer: p.to,
          detail: local?.detail ?? `${portName(p)} ${p.from} → ${p.to}: ${p.state}; ${p.detail}`,
          ...(status === 'pass' ? {} : { remediation: remediation(p) }),
        });
      }
      return out;
    },
  );
}

const allow = (p: PortProbe) =>
  `on ${p.to}: iptables -I INPUT -p ${p.proto} --dport ${p.port} -s <${p.from} address> -j ACCEPT; on ${p.from}: iptables -I OUTPUT -p ${p.proto} --dport ${p.port} -j ACCEPT (and any cloud firewall between them)`;

export const underlayChecks: readonly Check[] = [
  portCheck(
    'underlay.manager.tcp-2377',
    'Cluster management port reachable (tcp/2377 to managers)',
    (p) => p.purpose === 'manager',
    'TCP connect to 2377 on each manager',
    allow,
  ),
  portCheck('underlay.gossip.tcp-7946', 'Gossip port reachable over TCP (tcp/7946)', (p) => p.purpose === 'gossip' && p.proto === 'tcp', 'TCP connect to 7946', allow),
  portCheck(
    'underlay.gossip.udp-7946',
    'Gossip port reachable over UDP (udp/7946)',
    (p) => p.purpose === 'gossip' && p.proto === 'udp',
    'UDP datagrams to 7946, confirmed by a capture on the receiver',
    allow,
  ),
  portCheck(
    'underlay.datapath.udp',
    'Overlay data-path port reachable (VXLAN over UDP)',
    (p) => p.purpose === 'data-path',
    'UDP datagrams to the swarm data-path port, confirmed by a capture on the receiver',
    allow,
  ),
  defineCheck(
    {
      id: 'underlay.esp.reachable',
      layer: 'underlay',
      title: 'IPsec ESP passes between nodes (encrypted overlays)',
      looksAt: 'encrypted overlays present; ESP (IP protocol 50) between nodes',
      remediation: 'allow IP protocol 50 (ESP) between all nodes: iptables -I INPUT -p esp -j ACCEPT (and in cloud firewalls)',
    },
    (ctx) => {
      const encrypted = ctx.snapshot.cluster.networks.filter((n) => n.encrypted).map((n) => n.name);
      if (encrypted.length === 0) return [{ status: 'pass', detail: 'no encrypted overlay networks: ESP is not needed' }];
      // ESP cannot be originated without an SA; firewall rules are read by host.firewall.ports
      // and the SAs themselves by overlay.encryption.xfrm.
      return [
        {
          status: 'skip',
          detail: `encrypted overlays (${encrypted.join(', ')}) need ESP between nodes; netdoctor cannot send ESP without an SA, see host.firewall.ports and overlay.encryption.xfrm`,
        },
      ];
    },
  ),
  defineCheck(
    {
      id: 'underlay.mtu.path',
      layer: 'underlay',
      title: 'Path MTU carries overlay MTU + 50 bytes of VXLAN',
      looksAt: 'ping with DF set, sized to the overlay MTU plus VXLAN overhead, between every ordered pair of nodes',
      remediation: 'raise the underlay MTU on the path (ip link set <dev> mtu 1500) or create overlays with a smaller MTU: docker network create -d overlay --opt com.docker.network.driver.mtu=<underlay MTU - 50> …',
    },
    (ctx) => {
      const skip = noProbes(ctx);
      if (skip) return skip;
      return ctx.probes!.mtu.map((m) => ({
        status: m.state === 'ok' ? 'pass' : m.state === 'blocked' ? 'fail' : 'warn',
        node: m.from,
        peer: m.to,
        detail: `${m.from} → ${m.to}: ${m.detail}`,
      }));
    },
  ),
];
