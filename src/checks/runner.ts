/**
 * Runs the registry's checks over the model. A check that throws becomes an
 * `error` finding for that check (a bug in us, reported, never fatal); a
 * check that reports nothing is recorded as one `pass`.
 */
import { buildModel } from '../model/build.js';
import type { Model } from '../model/types.js';
import type { ProbeResults } from '../probe/types.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import { selectChecks, type Selection } from './registry.js';
import { runScoped } from './scope.js';
import type { AnyCheck, Finding, FindingDraft } from './types.js';

const complete = (check: AnyCheck, d: FindingDraft): Finding => ({
  id: check.meta.id,
  layer: check.meta.layer,
  status: d.status,
  node: d.node ?? null,
  peer: d.peer ?? null,
  network: d.network ?? null,
  title: check.meta.title,
  messageId: d.messageId,
  detail: d.detail,
  // Passing findings carry no action; the rest always say what to do.
  remediation: d.status === 'pass' || d.status === 'skip' ? (d.remediation ?? '') : (d.remediation ?? check.meta.remediation),
  ...(d.service !== undefined ? { service: d.service } : {}),
  ...(d.location !== undefined ? { location: d.location } : {}),
});

/** A snapshot with probe results (what tests and offline runs hold) or an already built model. */
export type CheckInput = Model | { snapshot: ClusterSnapshot; probes: ProbeResults | null };

const toModel = (input: CheckInput): Model =>
  'nodes' in input
    ? input
    : buildModel(input.probes === (input.snapshot.probes ?? null) ? input.snapshot : { ...input.snapshot, probes: input.probes ?? undefined });

export function runChecks(input: CheckInput, selection: Selection = {}, checks?: readonly AnyCheck[]): Finding[] {
  const model = toModel(input);
  const findings: Finding[] = [];
  for (const check of checks ?? selectChecks(selection)) {
    let drafts: FindingDraft[];
    try {
      drafts = runScoped(check, model);
    } catch (err) {
      drafts = [{ status: 'error', messageId: 'error.threw', detail: `check failed to run: ${(err as Error).message}` }];
    }
    if (drafts.length === 0) drafts = [{ status: 'pass', messageId: 'pass.nothing', detail: 'nothing to report' }];
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
