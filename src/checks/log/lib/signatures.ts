/**
 * The body shared by the `log` layer's checks: one finding per (signature,
 * peer, network) the node's log matched (model/log.ts), with its count and
 * first/last time; a pass when the log was read and holds none; a skip when
 * it could not be read. Which signatures a check reports is data: the
 * catalogue entries whose `check` is the check's id.
 */
import { LOG_SIGNATURES, type LogSignature } from '../../../model/log-signatures.js';
import type { LogHit, NodeLog } from '../../../model/log.js';
import type { NodeModel } from '../../../model/types.js';
import type { Data, NodeContext } from '../../types.js';

export const LOG_MESSAGES = {
  seen: '{node} {says} {count} {times} {window}, first at {first}, last at {last}: {meaning}',
  quiet: 'no such line in {sources} {window} ({lines} lines read)',
  unread: '{problem}',
} as const;

export type LogMessage = keyof typeof LOG_MESSAGES;

export const signaturesOf = (id: string): LogSignature[] => LOG_SIGNATURES.filter((s) => s.check === id);

/** The FAILURES.md rows a log check recognises: those of its signatures. */
export const rowsOf = (id: string): number[] => [...new Set(signaturesOf(id).flatMap((s) => s.rows))].sort((a, b) => a - b);

/** "since 2026-11-29T15:07:00Z" or "in the log read" when the node did not say from when. */
export const windowText = (log: NodeLog): string => {
  const since = log.docker.ok ? log.docker.value.since : log.kernel.ok ? log.kernel.value.since : null;
  return since === null ? 'in the log read' : `since ${new Date(since * 1000).toISOString().replace('.000Z', 'Z')}`;
};

/** The finding's data for one hit: the peer (node name, else the name the line used) put into the signature's phrase. */
export function hitData(node: NodeModel, log: NodeLog, h: LogHit): Data {
  const who = h.peer ?? (h.subject !== null ? `"${h.subject}"` : 'a peer');
  return {
    node: node.name,
    says: h.signature.says.replace('{peer}', who).replace('{subject}', h.subject ?? 'a peer'),
    count: h.count,
    times: h.count === 1 ? 'time' : 'times',
    window: windowText(log),
    first: h.first ?? 'an unknown time',
    last: h.last ?? 'an unknown time',
    meaning: h.signature.meaning,
  };
}

/** Why none of the logs a check reads could be read; null when one could. */
export function unreadable(log: NodeLog | null, sigs: readonly LogSignature[]): string | null {
  if (log === null) return 'the logs were not collected';
  const reads = [...new Set(sigs.map((s) => s.source))].map((src) => (src === 'dockerd' ? log.docker : log.kernel));
  if (reads.some((r) => r.ok)) return null;
  return reads.map((r) => (r.ok ? '' : r.problem)).join('; ');
}

/** The node-scope body of a log check reporting the catalogue entries of `id`. */
export const reportSignatures =
  (id: string) =>
  ({ node, report }: NodeContext<LogMessage>): void => {
    const sigs = signaturesOf(id);
    const problem = unreadable(node.log, sigs);
    if (problem !== null || node.log === null) {
      report('skip', 'unread', { problem: problem ?? 'the logs were not collected' });
      return;
    }
    const log = node.log;
    const hits = log.hits.filter((h) => h.signature.check === id);
    for (const h of hits) {
      report(h.signature.severity, 'seen', hitData(node, log, h), { peer: h.peer, network: h.network, remediation: h.signature.remediation });
    }
    if (hits.length === 0) {
      const sources = [...new Set(sigs.map((s) => s.source))];
      const lines = sources.reduce((a, src) => {
        const r = src === 'dockerd' ? log.docker : log.kernel;
        return a + (r.ok ? r.value.lines : 0);
      }, 0);
      report('pass', 'quiet', {
        sources: sources.map((s) => (s === 'dockerd' ? "dockerd's log" : 'the kernel log')).join(' and '),
        window: windowText(log),
        lines,
      });
    }
  };
