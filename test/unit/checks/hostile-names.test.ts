/**
 * Hostile names through every check. The fault cases of every check's own
 * tests (the check tester's tables, collected by mocking the tester) are
 * replayed with the node hostnames, network, service and sandbox names, the
 * exec root and an address replaced by strings an attacker would pick, and
 * every check is run on each. Every command of every remediation must parse
 * (`sh -n`) and, run under a PATH of recorder shims in a scratch directory,
 * run only the commands it names with the hostile values as whole arguments
 * (or a placeholder), and create no marker file. The text and markdown
 * reports of those snapshots hold no raw control character.
 */
import { codeSpans, filled, isCommand } from '../../support/paste.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { REGISTRY } from '../../../src/checks/registry.js';
import { runChecks } from '../../../src/checks/runner.js';
import type { AnyCheck, Finding } from '../../../src/checks/types.js';
import type { ProbeResults } from '../../../src/probe/types.js';
import { buildReport } from '../../../src/report/model.js';
import { renderMarkdown, renderText } from '../../../src/report/render.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import type { InvalidCase, ValidCase } from '../../support/check-tester.js';

const captured = vi.hoisted(() => [] as { check: unknown; valid: unknown[]; invalid: unknown[] }[]);
vi.mock('../../support/check-tester.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../support/check-tester.js')>();
  return {
    ...real,
    checkTester: (check: unknown, cases: { valid?: unknown[]; invalid?: unknown[] }) => {
      captured.push({ check, valid: cases.valid ?? [], invalid: cases.invalid ?? [] });
    },
  };
});

// The check test files, imported for their case tables only: their own tests are collected here as skipped.
const here = new URL('.', import.meta.url);
const CASE_FILES: (() => Promise<unknown>)[] = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(new URL(`${d.name}/`, here))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => () => import(`./${d.name}/${f}`)),
  );
describe.skip('(case tables of the check tests)', async () => {
  for (const load of CASE_FILES) await load();
});

const work = mkdtempSync(join(tmpdir(), 'nd-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const MARK = join(work, 'PWNED');

/** What each recorded name becomes, per variant: every value holds shell syntax that would touch MARK if it were run. */
function variants(): Record<string, string>[] {
  const m = MARK;
  return [
    {
      nd3: `nd3;touch\${IFS}${m};#`,
      nd2: `$(touch ${m})`,
      ndnet: `ndnet\`touch ${m}\``,
      web: `web'"$(touch ${m})"'`,
      '1-aweos9uhri': `1-x;touch ${m}`,
      '10.213.0.13': `10.213.0.13;touch ${m}`,
      EXEC_ROOT: `/run/d;touch ${m};#`,
    },
    {
      nd3: `nd3\u001b[2J\u001b]8;;http://evil/\u0007\n    ✔ all checks passed\r\u009b0m|touch ${m}`,
      nd1: `nd1 && touch ${m} || touch ${m}`,
      nd2: `nd2\`touch ${m}\``,
      ndnet: `ndnet\n touch ${m}\n`,
      web: `\`touch ${m}\`web`,
      '1-aweos9uhri': `1-$(touch ${m})`,
      lb_aweos9uhr: `lb_'; touch ${m}; '`,
      EXEC_ROOT: `/var/run/$(touch ${m})`,
    },
  ];
}

const isJson = (s: string): boolean => /^\s*[[{]/.test(s);

/** The snapshot (and probes) with every recorded name replaced, also inside JSON a node printed. */
function hostile<T>(value: T, map: Record<string, string>): T {
  const keys = Object.keys(map).filter((k) => k !== 'EXEC_ROOT');
  const text = (s: string): string => keys.reduce((acc, k) => acc.split(k).join(map[k]), s);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (isJson(v)) {
        try {
          return JSON.stringify(walk(JSON.parse(v)));
        } catch {
          /* not JSON: text */
        }
      }
      return text(v);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[text(k)] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

function withExecRoot(s: ClusterSnapshot, root: string): void {
  for (const n of s.nodes) if (n.host) n.host.dockerd.execRoot = root;
}

interface Run {
  name: string;
  findings: Finding[];
  snapshot: ClusterSnapshot;
  expected: InvalidCase['errors'];
}

function runs(): Run[] {
  const out: Run[] = [];
  variants().forEach((map, v) => {
    for (const t of captured) {
      const check = t.check as AnyCheck;
      for (const c of [...(t.invalid as InvalidCase[]), ...(t.valid as ValidCase[])]) {
        const base = c.snapshot();
        const probes = c.probes === undefined ? (base.probes ?? null) : c.probes;
        const snapshot = hostile(base, map);
        withExecRoot(snapshot, map.EXEC_ROOT!);
        const hp = probes === null ? null : hostile<ProbeResults>(probes, map);
        out.push({
          name: `v${v} ${check.meta.id}: ${c.name}`,
          findings: runChecks({ snapshot, probes: hp }, {}, REGISTRY),
          snapshot,
          expected: 'errors' in c ? (c as InvalidCase).errors : [],
        });
      }
    }
  });
  return out;
}

/**
 * The commands of a remediation: its code spans that start with a program;
 * a remediation without any is a bare command when, after an "on <node>: "
 * naming one of `nodes`, it starts with a program (the markdown report shows
 * it as one code span).
 */
function commands(remediation: string, nodes: readonly string[]): string[] {
  if (!remediation.includes('`')) {
    let rest = remediation;
    const on = nodes.find((n) => rest.toLowerCase().startsWith(`on ${n.toLowerCase()}: `));
    if (on !== undefined) rest = rest.slice(`on ${on}: `.length);
    return process.env.ND_BARE === '1' && isCommand(rest) ? [rest] : [];
  }
  return codeSpans(remediation).filter(isCommand);
}

const SHIMS = join(work, 'bin');
const LOG = join(work, 'argv.log');
const SCRATCH = join(work, 'cwd');

/** Every command name a remediation may run becomes a recorder that writes its name and argv (NUL-separated) to LOG. */
function shim(name: string): void {
  const f = join(SHIMS, name);
  if (existsSync(f)) return;
  writeFileSync(f, `#!/bin/sh\n{ printf '%s\\0' "\${0##*/}" "$@"; printf '\\n'; } >> ${LOG}\n`);
  chmodSync(f, 0o755);
}

function recorded(span: string): { calls: string[][]; stderr: string } {
  rmSync(LOG, { force: true });
  const r = spawnSync('/bin/sh', ['-c', span], { cwd: SCRATCH, env: { PATH: SHIMS, HOME: SCRATCH, IFS: ' \t\n' }, encoding: 'utf8', timeout: 5000 });
  const log = existsSync(LOG) ? readFileSync(LOG, 'utf8') : '';
  const calls = log
    .split('\0\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\0'));
  return { calls, stderr: r.stderr };
}

const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('hostile names through every check', async () => {
  for (const load of CASE_FILES) await load();
  mkdirSync(SHIMS, { recursive: true });
  mkdirSync(SCRATCH, { recursive: true });
  const all = runs();
  const remediations = new Map<string, { where: string; nodes: string[] }>();
  for (const r of all)
    for (const f of r.findings)
      if (f.remediation && f.status !== 'pass' && f.status !== 'skip')
        remediations.set(f.remediation, { where: `${r.name} → ${f.id}/${f.messageId}`, nodes: r.snapshot.nodes.map((n) => n.name) });

  it('replays the fault cases of every check with hostile names', () => {
    const ids = new Set(captured.map((t) => (t.check as AnyCheck).meta.id));
    expect(ids.size).toBeGreaterThan(40);
    const produced = new Set(
      all.flatMap((r) => r.findings.filter((f) => f.remediation && (f.status === 'fail' || f.status === 'warn')).map((f) => f.id)),
    );
    expect(produced.size).toBeGreaterThan(30);
  });

  it('no hostile value opens a code span of its own in the prose of a remediation', () => {
    const bad: string[] = [];
    for (const [rem, { where }] of remediations) {
      for (const span of codeSpans(rem))
        if (!isCommand(span) && !span.startsWith('-') && span.includes(MARK))
          bad.push(`${where}: ${JSON.stringify(span)}\n    in ${JSON.stringify(rem)}`);
    }
    expect(bad).toEqual([]);
  });

  // Each distinct command once (many remediations share their commands).
  const spans = new Map<string, string>();
  for (const [rem, { where, nodes }] of remediations) for (const span of commands(rem, nodes)) if (!spans.has(span)) spans.set(span, where);

  it('every remediation command parses (sh -n)', { timeout: 300_000 }, () => {
    expect(spans.size).toBeGreaterThan(100);
    const bad: string[] = [];
    for (const [span, where] of spans) {
      const r = spawnSync('/bin/sh', ['-n', '-c', filled(span)], { encoding: 'utf8' });
      if (r.status !== 0) bad.push(`${where}\n    ${JSON.stringify(span)}\n    ${r.stderr.trim()}`);
    }
    expect(bad).toEqual([]);
  });

  it('pasted, every remediation command runs only the commands it names, and no marker appears', { timeout: 300_000 }, () => {
    const bad: string[] = [];
    let calls = 0;
    for (const [span, where] of spans) {
      // The command names the line means to run: the first word of each simple command, read without expanding anything.
      for (const w of span.split(/[;&|()\n]+/).map((p) => p.trim().split(/\s+/)[0] ?? '')) if (/^[a-z][a-z0-9_.-]*$/.test(w)) shim(w);
      const r = recorded(filled(span));
      calls += r.calls.length;
      if (existsSync(MARK)) {
        bad.push(`${where}: created the marker\n    ${JSON.stringify(span)}`);
        rmSync(MARK);
      }
      const strange = r.calls.filter((c) => c[0] === 'touch' || c.some((x) => x === MARK));
      if (strange.length) bad.push(`${where}: ran ${JSON.stringify(strange)}\n    ${JSON.stringify(span)}`);
      if (/not found|Syntax error|bad substitution/.test(r.stderr)) bad.push(`${where}: ${r.stderr.trim()}\n    ${JSON.stringify(span)}`);
      if (readdirSync(SCRATCH).length) bad.push(`${where}: left ${readdirSync(SCRATCH).join(', ')}`);
      rmSync(SCRATCH, { recursive: true, force: true });
      mkdirSync(SCRATCH);
    }
    expect(bad).toEqual([]);
    expect(calls).toBeGreaterThan(100);
  });

  it('text and markdown reports hold no raw control character', { timeout: 120_000 }, () => {
    for (const r of all) {
      const report = buildReport(r.snapshot, r.findings, '0.0.0-test', new Date('2026-11-25T15:12:00Z'), 1000);
      const text = renderText(report, { color: false, verbose: true });
      const md = renderMarkdown(report);
      expect(RAW.test(text), `${r.name}: text`).toBe(false);
      expect(RAW.test(md), `${r.name}: markdown`).toBe(false);
    }
  });
});
void execFileSync;
