/**
 * `host/conntrack-udp` under a real sh: one awk over a table in the exact
 * form /proc/net/nf_conntrack prints (recorded in the lab), only UDP entries
 * whose original destination port is published, bounded; the `conntrack -L`
 * fallback with the tool's exit status kept; nothing asked when no UDP port
 * is published; ports validated before they reach the script.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCollectScript, conntrackUdpSection, CONNTRACK_UDP_LIMITS, publishedUdpPorts } from '../../../src/collect/script.js';
import { tempDir } from '../bundle/helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/host/conntrack/${name}`, import.meta.url), 'utf8');
const PRELUDE = `have() { command -v "$1" >/dev/null 2>&1; }\nsec() { n=$1; shift; echo "BEGIN $n"; "$@"; echo "END $n $?"; }\n`;
const sh = (script: string, path = process.env.PATH ?? '/usr/bin:/bin') =>
  spawnSync('/bin/sh', ['-s'], { input: PRELUDE + script, encoding: 'utf8', env: { ...process.env, PATH: path }, timeout: 20_000 });
const body = (out: string): string[] =>
  out
    .split('BEGIN host/conntrack-udp\n')[1]!
    .split('END host/conntrack-udp')[0]!
    .split('\n')
    .filter((l) => l !== '');

describe('host/conntrack-udp', () => {
  it('keeps only UDP entries whose original destination port is published (not the reply direction, not tcp)', () => {
    const table = `${tmp.dir}/nf_conntrack`;
    writeFileSync(table, fixture('lab-table.txt'));
    const r = sh(conntrackUdpSection([5514, 5353], CONNTRACK_UDP_LIMITS, { table, count: table }));
    const lines = body(r.stdout);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^ipv4 +2 udp +17 \d+ src=\S+ dst=\S+ sport=\d+ dport=(5514|5353) /);
    const want = fixture('lab-table.txt')
      .split('\n')
      .filter((l) => / udp /.test(l) && /^\S+ +\S+ +udp +\S+ +\S+ +src=\S+ dst=\S+ sport=\d+ dport=(5514|5353) /.test(l));
    expect(lines).toEqual(want);
    expect(r.stdout).toMatch(/END host\/conntrack-udp 0/);
  });

  it('stops at the entry cap', () => {
    const table = `${tmp.dir}/nf_conntrack`;
    writeFileSync(table, `${fixture('nd1-before-service.txt').trim()}\n`.repeat(50));
    const r = sh(conntrackUdpSection([5514], { entries: 7, ports: 256 }, { table, count: table }));
    expect(body(r.stdout)).toHaveLength(7);
  });

  it('says nf_conntrack is not loaded when neither the table nor the count exists (nothing is tracked: rc 0)', () => {
    const r = sh(conntrackUdpSection([5514], CONNTRACK_UDP_LIMITS, { table: `${tmp.dir}/none`, count: `${tmp.dir}/none` }));
    expect(r.stdout).toMatch(/END host\/conntrack-udp 0/);
    expect(r.stderr).toContain('nf_conntrack is not loaded');
  });

  it('falls back to conntrack -L where the proc table is absent, and keeps the tool exit status', () => {
    const count = `${tmp.dir}/count`;
    writeFileSync(count, '3\n');
    writeFileSync(`${tmp.dir}/ct-out`, fixture('lab-conntrack-L.txt'));
    writeFileSync(`${tmp.dir}/conntrack`, `#!/bin/sh\necho "$@" > ${tmp.dir}/args\ncat ${tmp.dir}/ct-out\nexit \${CT_RC:-0}\n`);
    chmodSync(`${tmp.dir}/conntrack`, 0o755);
    const path = `${tmp.dir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
    const section = conntrackUdpSection([5514], CONNTRACK_UDP_LIMITS, { table: `${tmp.dir}/none`, count });
    const r = sh(section, path);
    expect(readFileSync(`${tmp.dir}/args`, 'utf8').trim()).toBe('-L -p udp');
    const lines = body(r.stdout);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^udp +17 \d+ src=\S+ dst=\S+ sport=\d+ dport=5514 /);
    expect(r.stdout).toMatch(/END host\/conntrack-udp 0/);
    const failing = spawnSync('/bin/sh', ['-s'], { input: PRELUDE + section, encoding: 'utf8', env: { ...process.env, PATH: path, CT_RC: '1' } });
    expect(failing.stdout).toMatch(/END host\/conntrack-udp 1/);
    // A node with neither the proc table nor the tool (only awk on PATH).
    mkdirSync(`${tmp.dir}/bin`);
    symlinkSync(spawnSync('/bin/sh', ['-c', 'command -v awk'], { encoding: 'utf8' }).stdout.trim(), `${tmp.dir}/bin/awk`);
    const none = sh(section, `${tmp.dir}/bin`);
    expect(none.stdout).toMatch(/END host\/conntrack-udp 127/);
    expect(none.stderr).toContain('no conntrack tool (package conntrack)');
  });

  it('is not in the script when no UDP port is published; ports are integers 1-65535 from the services', () => {
    expect(conntrackUdpSection([])).toBe('');
    expect(conntrackUdpSection([0, 70000, 1.5, Number.NaN])).toBe('');
    expect(buildCollectScript({ dataPathPort: 4789, marker: 'M' }).script).not.toContain('host/conntrack-udp');
    expect(buildCollectScript({ dataPathPort: 4789, marker: 'M', udpPorts: [5514] }).script).toContain('sec host/conntrack-udp ndctudp');
    const svc = (ports: { protocol: string; publishedPort: number | null; publishMode: string }[]) => ({
      ports: ports.map((p) => ({ ...p, targetPort: 1 })),
    });
    const services = [
      svc([{ protocol: 'udp', publishedPort: 5514, publishMode: 'host' }]),
      svc([
        { protocol: 'udp', publishedPort: 53, publishMode: 'ingress' },
        { protocol: 'tcp', publishedPort: 8080, publishMode: 'ingress' },
        { protocol: 'UDP', publishedPort: 5514, publishMode: 'ingress' },
        { protocol: 'udp', publishedPort: null, publishMode: 'ingress' },
      ]),
    ];
    expect(publishedUdpPorts({ services } as never)).toEqual([53, 5514]);
  });
});
