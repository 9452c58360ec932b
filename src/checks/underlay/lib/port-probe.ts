/**
 * The port-probe checks (underlay.manager.tcp-2377, underlay.gossip.*,
 * underlay.datapath.udp) share their messages and their body: one finding per
 * probed ordered pair (Weave-style ok / blocked / unconfirmed), with the
 * receiver's own firewall consulted for UDP.
 *
 * Scope: cluster with `needs: ['probes']`, not `pair`. The probes decide the
 * pairs (tcp/2377 only toward managers) and exist for nodes whose collection
 * failed, which the pair scope would replace by one not-collected skip.
 */
import { describeOutcome, evaluate, firewallWarningsText } from '../../../model/firewall.js';
import type { Model } from '../../../model/types.js';
import type { PortProbe } from '../../../probe/types.js';
import { shq, prose } from '../../../text/shell.js';
import type { ClusterContext, Status } from '../../types.js';

export const PORT_REMEDIATION = 'allow the port between the two nodes in every firewall on the path (host iptables/nftables, security groups)';

export const PORT_MESSAGES = {
  probeError: '{message}',
  ok: '{port} {from} → {to}: ok; {detail}',
  blocked: '{port} {from} → {to}: blocked; {detail}',
  unconfirmed: '{port} {from} → {to}: unconfirmed; {detail}',
  receiverDrops: '{port} {from} → {to}: arrives on {to} but {how} ({dump})',
  receiverMaybe: '{port} {from} → {to}: arrives on {to} but {how} ({dump})',
  receiverUnread:
    "{port} {from} → {to}: arrives on {to}, but {to}'s firewall could not be read completely ({warnings}): whether its INPUT lets it through is not known",
} as const;

export type PortMessage = keyof typeof PORT_MESSAGES;

type Verdict = { status: Status; messageId: PortMessage; data: Record<string, string>; remediation?: string };

/** How a probe's port is named in findings: `udp/4789`, or `ESP` (IP protocol 50 has no ports). */
export const portLabel = (p: PortProbe): string => (p.proto === 'esp' ? 'ESP' : `${p.proto}/${p.port}`);

/** `-p udp --dport 4789`, or `-p esp`. */
const match = (p: PortProbe): string => (p.proto === 'esp' || p.port === null ? `-p ${p.proto}` : `-p ${p.proto} --dport ${p.port}`);

/**
 * A capture sees a datagram (or an ESP packet) before the receiver's netfilter
 * INPUT does, so a UDP or ESP probe seen on the receiver is only "ok" if the
 * receiver's own firewall (parsed once, in the model) also lets it through.
 * TCP needs no such step: the handshake passed INPUT.
 */
export function receiverVerdict(model: Model, p: PortProbe): Verdict | null {
  if (p.proto === 'tcp' || p.state !== 'ok' || (p.proto === 'udp' && p.port === null)) return null;
  const f = model.node(p.to)?.firewall.filter;
  if (!f?.ok) return null;
  const src = model.ipByName.get(p.from) ?? null;
  const dst = model.ipByName.get(p.to) ?? null;
  const base = { port: portLabel(p), from: p.from, to: p.to };
  for (const { section, label, dump } of f.value) {
    const ev = evaluate(dump, 'INPUT', { proto: p.proto, dport: p.port, sport: null, src, dst, iface: null });
    const o = ev.drops[0];
    if (ev.result === 'accepted' || !o) continue;
    const data = { ...base, how: describeOutcome(o, 'INPUT'), dump: label };
    if (ev.result !== 'dropped') return { status: 'warn', messageId: 'receiverMaybe', data };
    // The cause is on the receiver: delete the rule found (when it sits in INPUT itself), or put an ACCEPT before it.
    const bin = section.includes('legacy') ? 'iptables-legacy' : section.includes('nft') ? 'iptables-nft' : 'iptables';
    const accept = `${bin} -I INPUT ${match(p)}${src !== null ? ` -s ${shq(src)}` : ''} -j ACCEPT`;
    const remediation =
      o.rule !== null && o.via.length === 0 && o.rule.chain === 'INPUT'
        ? `on ${p.to}: ${bin} -D INPUT ${o.rule.args.map(shq).join(' ')} (the rule that drops it; to keep it, insert an ACCEPT for the swarm's nodes before it)`
        : `on ${p.to}: ${accept}`;
    return { status: 'fail', messageId: 'receiverDrops', data, remediation };
  }
  if (f.warnings.length > 0) return { status: 'warn', messageId: 'receiverUnread', data: { ...base, warnings: firewallWarningsText(f.warnings) } };
  return null;
}

const STATUS: Record<PortProbe['state'], Status> = { ok: 'pass', blocked: 'fail', unconfirmed: 'warn' };

/**
 * Allow the probed port into the receiver, with the sender's real address when the swarm knows it. No OUTPUT
 * change on the sender: a rule there that drops it is host.firewall.ports's finding, with the rule named.
 */
export function allow(model: Model, p: PortProbe): string {
  // The sender's own kernel refused it (EPERM): an OUTPUT rule there, which host.firewall.ports names.
  if (p.senderRefused === true) {
    const to = model.ipByName.get(p.to);
    return `on ${prose(p.from)}: iptables -I OUTPUT ${match(p)}${to !== undefined ? ` -d ${shq(to)}` : ''} -j ACCEPT, ahead of the rule that drops it (see host.firewall.ports)`;
  }
  const from = model.ipByName.get(p.from);
  const src = from !== undefined ? ` -s ${shq(from)}` : '';
  const cloud = p.proto === 'esp' ? 'IP protocol 50 in any cloud firewall or security group' : 'any cloud firewall or security group';
  return `on ${prose(p.to)}: iptables -I INPUT ${match(p)}${src} -j ACCEPT (and ${cloud} between ${prose(p.from)} and ${prose(p.to)})`;
}

/** The body of a port-probe check: probe errors as skips, then one finding per selected probe. */
export const probePorts =
  (select: (p: PortProbe) => boolean) =>
  ({ model, report }: ClusterContext<PortMessage>): void => {
    const probes = model.probes!;
    for (const e of probes.errors) report('skip', 'probeError', { message: e.message }, { node: e.node });
    for (const p of probes.ports.filter(select)) {
      const v = receiverVerdict(model, p);
      const status = v?.status ?? STATUS[p.state];
      const messageId = v?.messageId ?? p.state;
      const data = v?.data ?? { port: portLabel(p), from: p.from, to: p.to, detail: p.detail };
      report(status, messageId, data, { node: p.from, peer: p.to, ...(status === 'pass' ? {} : { remediation: v?.remediation ?? allow(model, p) }) });
    }
  };
