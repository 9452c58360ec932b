/**
 * The shared check tester, after ESLint's RuleTester: a check is tested with
 * tables of valid cases (nothing to warn about) and invalid cases (exactly
 * these problems), each on a snapshot recorded from the lab (mutated where a
 * fault is needed). Cases assert message ids and places, not prose.
 */
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../src/checks/runner.js';
import type { AnyCheck, Finding, Status } from '../../src/checks/types.js';
import { buildModel } from '../../src/model/build.js';
import type { StackModel } from '../../src/model/stack.js';
import type { ProbeResults } from '../../src/probe/types.js';
import type { ClusterSnapshot } from '../../src/snapshot/types.js';

export interface Reported {
  status: Status;
  messageId: string;
  node?: string | null;
  peer?: string | null;
  network?: string | null;
}

interface Case {
  name: string;
  /** A fresh snapshot per call (tests mutate it). */
  snapshot: () => ClusterSnapshot;
  probes?: ProbeResults | null;
  /** gate checks: the stack the run is about, planned against the case's snapshot. */
  stack?: (snapshot: ClusterSnapshot) => StackModel;
  /** When given: exactly these skips (framework `skip.*` ids included). */
  skips?: Reported[];
  /** When given: these passes are among the findings. */
  passes?: Reported[];
}

export type ValidCase = Case;
export interface InvalidCase extends Case {
  /** Exactly these warn/fail/error findings, in any order. */
  errors: Reported[];
}

const FRAMEWORK_IDS = /^(skip|pass|error)\.[a-z-]+$/;

const key = (r: Reported | Finding): string =>
  [
    r.status,
    r.messageId,
    r.node === undefined ? '*' : (r.node ?? '-'),
    r.peer === undefined ? '*' : (r.peer ?? '-'),
    r.network === undefined ? '*' : (r.network ?? '-'),
  ].join(' ');

/** A finding as the expectation sees it: fields the expectation leaves out are wildcards. */
const seen = (f: Finding, like: Reported): string =>
  key({
    ...f,
    ...(like.node === undefined ? { node: undefined } : {}),
    ...(like.peer === undefined ? { peer: undefined } : {}),
    ...(like.network === undefined ? { network: undefined } : {}),
  });

function expectExactly(found: Finding[], want: Reported[], what: string): void {
  const remaining = [...found];
  const missing: string[] = [];
  for (const w of want) {
    const i = remaining.findIndex((f) => seen(f, w) === key(w));
    if (i < 0) missing.push(key(w));
    else remaining.splice(i, 1);
  }
  const got = found.map((f) => `${key(f)}: ${f.detail}`).join('\n  ');
  expect({ missing, unexpected: remaining.map((f) => key(f)) }, `${what}; got:\n  ${got}`).toEqual({ missing: [], unexpected: [] });
}

export function runCheck(check: AnyCheck, c: Case): Finding[] {
  const snapshot = c.snapshot();
  if (c.stack) return runChecks(buildModel(snapshot, c.stack(snapshot)), {}, [check]);
  return runChecks({ snapshot, probes: c.probes === undefined ? (snapshot.probes ?? null) : c.probes }, {}, [check]);
}

function common(check: AnyCheck, c: Case, fs: Finding[]): void {
  for (const f of fs) {
    const own = Object.hasOwn(check.meta.messages, f.messageId);
    expect(own || FRAMEWORK_IDS.test(f.messageId), `${f.messageId} is neither a message of ${check.meta.id} nor the framework's`).toBe(true);
    if (f.status === 'fail' || f.status === 'warn' || f.status === 'error') expect(f.remediation.trim(), `${key(f)} has no remediation`).not.toBe('');
  }
  if (c.skips)
    expectExactly(
      fs.filter((f) => f.status === 'skip'),
      c.skips,
      'skips',
    );
  for (const p of c.passes ?? [])
    expect(
      fs.some((f) => f.status === 'pass' && seen(f, p) === key(p)),
      `pass ${key(p)}`,
    ).toBe(true);
}

export function checkTester(check: AnyCheck, cases: { valid?: ValidCase[]; invalid?: InvalidCase[] }): void {
  describe(check.meta.id, () => {
    for (const c of cases.valid ?? []) {
      it(`valid: ${c.name}`, () => {
        const fs = runCheck(check, c);
        common(check, c, fs);
        expectExactly(
          fs.filter((f) => f.status === 'warn' || f.status === 'fail' || f.status === 'error'),
          [],
          'no problem expected',
        );
      });
    }
    for (const c of cases.invalid ?? []) {
      it(`invalid: ${c.name}`, () => {
        const fs = runCheck(check, c);
        common(check, c, fs);
        expectExactly(
          fs.filter((f) => f.status === 'warn' || f.status === 'fail' || f.status === 'error'),
          c.errors,
          'problems',
        );
      });
    }
  });
}
