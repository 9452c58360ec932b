/**
 * Runs the registry's checks over a snapshot. A check that throws becomes an
 * `error` finding for that check (a bug in us, reported, never fatal); a
 * check that reports nothing is recorded as one `pass`.
 */
import { selectChecks, type Selection } from './registry.js';
import type { Check, CheckContext, Finding, FindingDraft } from './types.js';

const complete = (check: Check, d: FindingDraft): Finding => ({
  id: check.meta.id,
  layer: check.meta.layer,
  status: d.status,
  node: d.node ?? null,
  peer: d.peer ?? null,
  network: d.network ?? null,
  title: check.meta.title,
  detail: d.detail,
  // Passing findings carry no action; the rest always say what to do.
  remediation: d.status === 'pass' || d.status === 'skip' ? (d.remediation ?? '') : (d.remediation ?? check.meta.remediation),
});

export function runChecks(ctx: CheckContext, selection: Selection = {}, checks?: readonly Check[]): Finding[] {
  const findings: Finding[] = [];
  for (const check of checks ?? selectChecks(selection)) {
    let drafts: FindingDraft[];
    try {
      drafts = check.run(ctx);
    } catch (err) {
      drafts = [{ status: 'error', detail: `check failed to run: ${(err as Error).message}` }];
    }
    if (drafts.length === 0) drafts = [{ status: 'pass', detail: 'nothing to report' }];
    for (const d of drafts) {
      const f = complete(check, d);
      if (selection.networks && f.network !== null && !selection.networks.includes(f.network)) continue;
      if (selection.nodes && f.node !== null && !selection.nodes.includes(f.node)) continue;
      findings.push(f);
    }
  }
  return findings;
}

export type Summary = Record<Finding['status'], number>;

export function summarise(findings: readonly Finding[]): Summary {
  const s: Summary = { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 };
  for (const f of findings) s[f.status]++;
  return s;
}
