/**
 * Matching findings in table-driven check tests: an expectation names the
 * id and status and, optionally, where (node, peer, network) and what
 * (detail, remediation patterns).
 */
import { expect } from 'vitest';
import type { Finding } from '../../src/checks/types.js';

export interface Expect {
  id: string;
  status: Finding['status'];
  node?: string | null;
  peer?: string | null;
  network?: string | null;
  detail?: RegExp;
  remediation?: RegExp;
}

export const matching = (fs: readonly Finding[], w: Expect): Finding[] =>
  fs.filter(
    (f) =>
      f.id === w.id &&
      f.status === w.status &&
      (w.node === undefined || f.node === w.node) &&
      (w.peer === undefined || f.peer === w.peer) &&
      (w.network === undefined || f.network === w.network) &&
      (w.detail === undefined || w.detail.test(f.detail)) &&
      (w.remediation === undefined || w.remediation.test(f.remediation)),
  );

/** Exactly one finding matches `w`; on failure, show what that check did report. */
export function expectOne(fs: readonly Finding[], w: Expect): void {
  const got = fs
    .filter((f) => f.id === w.id)
    .map((f) => `${f.status} ${f.node} ${f.peer} ${f.network} ${f.detail} => ${f.remediation}`)
    .join('\n');
  expect(matching(fs, w), `${JSON.stringify({ ...w, detail: String(w.detail), remediation: String(w.remediation) })}\ngot:\n${got}`).toHaveLength(1);
}
