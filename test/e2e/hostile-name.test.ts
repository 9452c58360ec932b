/**
 * A node whose hostname is hostile, on the real lab: nd3's UTS namespace gets
 * a hostname holding shell syntax and escape sequences, its dockerd is
 * restarted so the swarm node takes that name, and nd3 really fails a check
 * (net.ipv4.ip_forward=0 in its namespace). The text report holds no raw
 * control character; every remediation naming the node parses, and pasted
 * (shim PATH, scratch directory) runs only the programs it names with the
 * name as one argument, and never creates the marker. Everything is restored
 * afterwards, also on failure.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerdStart, dockerdStop, labEnsure, nodeDocker, nodeExec } from '../lab/lab.js';
import type { Report } from '../../src/report/model.js';
import { codeSpans, isCommand, Paster } from '../support/paste.js';
import { nd } from './support/netdoctor.js';

const MARK = '/tmp/NDPWN';
// At most 64 bytes (the kernel's limit for a hostname): shell syntax that would touch MARK, a screen clear, a title escape.
const EVIL = `nd3;touch\${IFS}${MARK};#\u001b[2J\u001b]0;x\u0007$(id)'"`;

const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let accepted = '';
const dir = mkdtempSync(join(tmpdir(), 'nd-hostname-'));

async function swarmName(): Promise<string[]> {
  const r = await nodeDocker('nd1', ['node', 'ls', '--format', '{{.Hostname}}']);
  return r.stdout.split('\n').filter(Boolean);
}

async function setHostname(name: string): Promise<void> {
  const r = await nodeExec('nd3', `printf '%s' "$1" > /proc/sys/kernel/hostname`.replace('"$1"', `'${name.replace(/'/g, `'\\''`)}'`));
  expect(r.code, r.stderr).toBe(0);
  await dockerdStop('nd3');
  try {
    await dockerdStart('nd3');
  } catch (e) {
    // lab.sh waits for a swarm node called nd3 to be Ready; under another hostname it is Ready under that name.
    if (name === 'nd3') throw e;
  }
}

beforeAll(async () => {
  rmSync(MARK, { force: true });
  await labEnsure();
  await setHostname(EVIL);
  accepted = (await nodeExec('nd3', 'cat /proc/sys/kernel/hostname')).stdout.replace(/\n$/, '');
  for (let i = 0; i < 60 && !(await swarmName()).includes(accepted); i++) await new Promise((r) => setTimeout(r, 1000));
  expect(await nodeExec('nd3', 'sysctl -w net.ipv4.ip_forward=0')).toMatchObject({ code: 0 });
}, 300_000);

afterAll(async () => {
  await nodeExec('nd3', 'sysctl -w net.ipv4.ip_forward=1');
  await setHostname('nd3');
  rmSync(dir, { recursive: true, force: true });
}, 300_000);

describe('a node named with shell syntax and escape sequences', () => {
  let text = '';
  let report: Report;
  beforeAll(async () => {
    const t = await nd(['check', '--format', 'text']);
    text = t.stdout + t.stderr;
    const j = await nd(['check', '--format', 'json']);
    report = JSON.parse(j.stdout) as Report;
  }, 400_000);

  it('the swarm took the hostname as it is', async () => {
    expect(accepted).toBe(EVIL);
    expect(await swarmName()).toContain(EVIL);
    expect(report.cluster.nodes.map((n) => n.name)).toContain(EVIL);
  });

  it('the node fails host.sysctl.ip-forward under its hostile name', () => {
    expect(report.findings.find((f) => f.id === 'host.sysctl.ip-forward' && f.node === EVIL)?.status).toBe('fail');
  });

  it('the text report holds no raw control character and shows the name escaped', () => {
    expect(RAW.test(text)).toBe(false);
    expect(text).toContain('nd3;touch${IFS}/tmp/NDPWN;#\\x1b[2J\\x1b]0;x\\x07$(id)');
  });

  it('every remediation naming the node parses and, pasted, runs only what it names, with the name as one argument', () => {
    const paster = new Paster(dir);
    const naming = report.findings.filter(
      (f) => f.remediation && f.status !== 'pass' && f.status !== 'skip' && (f.node === EVIL || f.remediation.includes('nd3;touch')),
    );
    expect(naming.length).toBeGreaterThan(0);
    const bad: string[] = [];
    let ran = 0;
    for (const f of naming) {
      for (const span of codeSpans(f.remediation).filter(isCommand)) {
        const syntax = paster.syntax(span);
        if (syntax !== null) bad.push(`${f.id}: ${syntax}: ${JSON.stringify(span)}`);
        const { calls, stderr, left } = paster.paste(span);
        ran += calls.length;
        if (existsSync(MARK)) bad.push(`${f.id}: created ${MARK}: ${JSON.stringify(span)}`);
        if (/not found/.test(stderr)) bad.push(`${f.id}: ${stderr.trim()}: ${JSON.stringify(span)}`);
        if (left.length) bad.push(`${f.id}: left ${left.join(', ')}`);
        // The name, where a command carries it, is one whole argument.
        for (const c of calls)
          for (const a of c) if (a.includes('NDPWN') && a !== EVIL) bad.push(`${f.id}: argument ${JSON.stringify(a)} is not the name`);
      }
    }
    expect(bad).toEqual([]);
    expect(ran).toBeGreaterThan(0);
    expect(existsSync(MARK)).toBe(false);
  });
});
