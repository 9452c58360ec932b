/**
 * "Pasting" a remediation, for tests: its commands (CommonMark code spans that
 * start with a program netdoctor tells people to run) are parsed by a real
 * `sh -n`, then run by a real `sh` whose PATH holds only recorder shims (each
 * writes its name and argv), in a scratch directory.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

export const PROGRAMS = new Set([
  'docker',
  'iptables',
  'ip6tables',
  'iptables-save',
  'ip',
  'nsenter',
  'bridge',
  'sysctl',
  'systemctl',
  'modprobe',
  'modinfo',
  'ethtool',
  'nc',
  'ping',
  'journalctl',
  'timedatectl',
  'chronyc',
  'update-alternatives',
  'ssh-keygen',
  'ssh',
  'unshare',
  'echo',
  'printf',
  'ls',
  'umount',
  'rm',
]);
export const isCommand = (span: string): boolean => PROGRAMS.has(span.split(/\s+/)[0] ?? '');

/** CommonMark code spans: a run of n backticks up to the next run of exactly n; one space of padding on both sides is dropped. */
export function codeSpans(text: string): string[] {
  const out: string[] = [];
  const runs = [...text.matchAll(/`+/g)].map((m) => ({ at: m.index, n: m[0].length }));
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i]!;
    const j = runs.findIndex((r, k) => k > i && r.n === open.n);
    if (j < 0) continue;
    let body = text.slice(open.at + open.n, runs[j]!.at);
    if (body.length > 2 && body.startsWith(' ') && body.endsWith(' ')) body = body.slice(1, -1);
    out.push(body);
    i = j;
  }
  return out;
}

/** A documented placeholder the user fills in (<node>, <free /24>): a plain word for the shell. Quoted placeholders ('<node-name>') stay. */
export const filled = (span: string): string => span.replace(/(^|[\s=:])<[A-Za-z0-9][^<>'"`\n]*>/g, '$1PLACEHOLDER');

export class Paster {
  readonly bin: string;
  readonly log: string;
  readonly cwd: string;
  constructor(readonly dir: string) {
    this.bin = join(dir, 'bin');
    this.log = join(dir, 'argv.log');
    this.cwd = join(dir, 'cwd');
    mkdirSync(this.bin, { recursive: true });
    mkdirSync(this.cwd, { recursive: true });
    for (const p of PROGRAMS) {
      const f = join(this.bin, p);
      writeFileSync(f, `#!/bin/sh\n{ printf '%s\\0' "\${0##*/}" "$@"; printf '\\n'; } >> ${this.log}\n`);
      chmodSync(f, 0o755);
    }
  }

  /** `sh -n` on the command: null when it parses, else the shell's complaint. */
  syntax(span: string): string | null {
    const r = spawnSync('/bin/sh', ['-n', '-c', filled(span)], { encoding: 'utf8' });
    return r.status === 0 ? null : r.stderr.trim();
  }

  /** Run the command with only the shims on PATH: the calls recorded, stderr, and what it left in the scratch directory. */
  paste(span: string): { calls: string[][]; stderr: string; left: string[] } {
    rmSync(this.log, { force: true });
    const r = spawnSync('/bin/sh', ['-c', filled(span)], { cwd: this.cwd, env: { PATH: this.bin, HOME: this.cwd }, encoding: 'utf8', timeout: 5000 });
    const calls = (existsSync(this.log) ? readFileSync(this.log, 'utf8') : '')
      .split('\0\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\0'));
    const left = readdirSync(this.cwd);
    rmSync(this.cwd, { recursive: true, force: true });
    mkdirSync(this.cwd);
    return { calls, stderr: r.stderr, left };
  }
}
