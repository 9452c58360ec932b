/**
 * memberlist's "Was able to connect to X but other probes failed" (newer:
 * "… over TCP but UDP probes failed") says udp/7946 toward X is lost while
 * tcp/7946 works. When this run also probed udp/7946 from the node to that
 * peer, both facts become one finding: the log's count and times, and what
 * the probe saw now.
 */
import { defineCheck } from '../types.js';
import { LOG_MESSAGES, hitData, reportSignatures, rowsOf, unreadable, signaturesOf, type LogMessage } from './lib/signatures.js';

const ID = 'log.gossip.udp-blocked';

const MESSAGES = {
  ...LOG_MESSAGES,
  confirmed:
    '{node} {says} {count} {times} {window}, first at {first}, last at {last}, and the udp/7946 probe {node} → {peer} is blocked now: {meaning}',
  intermittent:
    '{node} {says} {count} {times} {window}, first at {first}, last at {last}; the udp/7946 probe {node} → {peer} passes now: the loss is intermittent (packet-rate caps, an overloaded node, a flapping firewall)',
} as const satisfies Record<LogMessage | 'confirmed' | 'intermittent', string>;

export default defineCheck({
  meta: {
    id: 'log.gossip.udp-blocked',
    layer: 'log',
    title: 'Gossip over UDP (dockerd: "other probes failed")',
    looksAt: "dockerd's memberlist warnings that a peer answered over TCP but not over UDP, joined with this run's udp/7946 probe toward that peer",
    remediation: 'allow udp/7946 between the two nodes in every firewall on the path',
    scope: 'node',
    failures: rowsOf(ID),
    causedBy: ['underlay.gossip.udp-7946'],
    messages: MESSAGES,
  },
  check(ctx) {
    const { node, model, report } = ctx;
    const log = node.log;
    const probes = model.probes?.ports.filter((p) => p.proto === 'udp' && p.purpose === 'gossip' && p.from === node.name) ?? [];
    if (log === null || unreadable(log, signaturesOf(ID)) !== null || probes.length === 0) {
      reportSignatures(ID)(ctx);
      return;
    }
    const hits = log.hits.filter((h) => h.signature.check === ID);
    for (const h of hits) {
      const probe = h.peer === null ? undefined : probes.find((p) => p.to === h.peer);
      const data = { ...hitData(node, log, h), peer: h.peer ?? '' };
      const extra = { peer: h.peer, network: h.network, remediation: h.signature.remediation };
      if (probe?.state === 'blocked') report('fail', 'confirmed', data, extra);
      else if (probe?.state === 'ok') report('warn', 'intermittent', data, extra);
      else report(h.signature.severity, 'seen', data, extra);
    }
    if (hits.length === 0) reportSignatures(ID)(ctx);
  },
});
