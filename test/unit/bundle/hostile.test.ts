/**
 * Crafted bundles an attacker could send, through the real built CLI
 * (`node bin/docker-netdoctor`, needs `npm run build`): each is refused in
 * one line with exit 2, or analysed with every control character shown
 * escaped. The time to refuse or analyse is asserted in-process (readBundle,
 * analyse): the CLI's wall time is mostly node's and oclif's start-up and
 * depends on the machine's load (bench/hostile-bundles.mjs measures it).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/bundle/read.js';
import { buildBundle } from '../../../src/bundle/write.js';
import { buildReport } from '../../../src/report/model.js';
import { analyse } from '../../../src/run/check.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';
import { gz, KEY, labBundle, rawTar, tempDir, type RawEntry } from './helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'docker-netdoctor');

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'plugin', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
    maxBuffer: 64 * 2 ** 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Refused: exit 2, exactly one line on stderr naming the file, nothing raw from the bundle. */
function expectRefused(r: CliRun, re: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^docker netdoctor: /);
  expect(r.stderr).toMatch(re);
  expect(r.stderr).not.toMatch(RAW_CONTROL);
  expect(r.stdout).toBe('');
}

/** readBundle in-process, timed: the refusal itself, without node's start-up. */
async function readMs(file: string): Promise<{ ms: number; err: unknown }> {
  const t = performance.now();
  const err = await readBundle(file).then(
    () => null,
    (e: unknown) => e,
  );
  return { ms: performance.now() - t, err };
}

const sha = (d: string | Buffer) => createHash('sha256').update(d).digest('hex');

/** The lab bundle's entries with one replaced and the manifest's checksum updated, so only the content is wrong. */
function replaced(path: string, data: string): RawEntry[] {
  const files = labBundle().files.map((f) => ({ path: f.path, data: f.data }));
  const m = JSON.parse(String(files.find((f) => f.path === 'manifest.json')!.data)) as { files: Record<string, string> };
  m.files[path] = sha(data);
  return files.map((f) => (f.path === path ? { path, data } : f.path === 'manifest.json' ? { path: f.path, data: JSON.stringify(m) } : f));
}

function bundleOf(snapshot: ClusterSnapshot, argv: string[], name: string): string {
  const report = buildReport(snapshot, analyse(snapshot, {}), '0.0.0-test', new Date('2026-11-25T15:12:00Z'), 1234);
  const b = buildBundle({
    snapshot,
    report,
    log: 'run log\n',
    argv,
    toolVersion: '0.0.0-test',
    startedAt: new Date('2026-11-25T15:12:00Z'),
    endedAt: new Date('2026-11-25T15:12:05Z'),
    redactIps: false,
    key: KEY,
  });
  return tmp.file(name, b.data);
}

describe('crafted bundles through the real CLI', { timeout: 120_000 }, () => {
  it('control characters in the manifest, node names and node output are shown escaped, never raw', async () => {
    const evil = 'nd3\u001b[2J\u001b[H\u001b]8;;http://evil.example/\u0007✔ all checks passed\u001b]8;;\u0007\u009b31m';
    const snap = JSON.parse(JSON.stringify(labSnapshot('healthy')).replaceAll('"nd3"', JSON.stringify(evil))) as ClusterSnapshot;
    const n3 = snap.nodes.find((n) => n.name === evil)!;
    n3.errors.push({ stage: 'exec', kind: 'exit', message: 'collection script exited 1: \u001b[31mfake\rline' });
    n3.status = 'partial';
    const file = bundleOf(snap, ['netdoctor', 'bundle', '--node', '\u001b[2Jx\u001b]0;title\u0007'], 'ctl.tar.gz');

    const inspect = cli('bundle', 'inspect', file);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).not.toMatch(RAW_CONTROL);
    expect(inspect.stdout).toContain('nd3\\x1b[2J\\x1b[H\\x1b]8;;http://evil.example/\\x07');
    expect(inspect.stdout).toContain('\\x1b[31mfake\\x0dline');
    expect(inspect.stdout).toContain('--node \\x1b[2Jx\\x1b]0;title\\x07');
    // --json stays exact: the name round-trips.
    const json = cli('bundle', 'inspect', file, '--json');
    expect(JSON.parse(json.stdout).nodes.map((n: { name: string }) => n.name)).toContain(evil);

    for (const format of ['text', 'markdown']) {
      const check = cli('check', '--from-bundle', file, '--format', format, '--verbose');
      expect([0, 1], check.stderr).toContain(check.code);
      expect(check.stdout).not.toMatch(RAW_CONTROL);
      expect(check.stderr).not.toMatch(RAW_CONTROL);
      expect(check.stdout).toContain('nd3\\x1b[2J');
    }
    const asJson = cli('check', '--from-bundle', file, '--format', 'json');
    expect(JSON.parse(asJson.stdout).cluster.nodes.map((n: { name: string }) => n.name)).toContain(evil);
  });

  it('an entry named constructor or toString is not "listed in the manifest"', async () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const file = tmp.file(
        `proto-${name}.tar.gz`,
        gz(rawTar([...labBundle().files.map((f) => ({ path: f.path, data: f.data })), { path: name, data: 'x' }])),
      );
      const { ms, err } = await readMs(file);
      expect((err as Error).message).toMatch(new RegExp(`${name} is not listed in the manifest`));
      expect(ms).toBeLessThan(1000);
      expectRefused(cli('bundle', 'inspect', file), new RegExp(`${name} is not listed in the manifest`));
    }
  });

  it('control characters in an entry name are escaped in the one-line refusal', () => {
    const file = tmp.file(
      'ctlname.tar.gz',
      gz(rawTar([...labBundle().files.map((f) => ({ path: f.path, data: f.data })), { path: 'x\u001b[2Jy', data: 'x' }])),
    );
    const r = cli('bundle', 'inspect', file);
    expectRefused(r, /x\\x1b\[2Jy is not listed in the manifest/);
  });

  it('a quadratic xfrm line (127 KB) is analysed in well under a second', () => {
    const snap = labSnapshot('healthy');
    const ndnet = snap.cluster.networks.find((n) => n.name === 'ndnet')!;
    ndnet.encrypted = true;
    const evil = `src 10.213.0.11 dst 10.213.0.12\n\tproto esp spi 0x1${' \t'.repeat(64_000)}x\n`;
    let planted = 0;
    for (const n of snap.nodes) {
      for (const sb of n.sandboxes.filter((s) => s.networkId === ndnet.id && s.kind === 'overlay')) {
        n.raw[`netns/${sb.name}/xfrm-state`] = { stdout: evil, stderr: '', rc: 0 };
        planted++;
      }
    }
    expect(planted).toBe(3);
    const file = bundleOf(snap, ['netdoctor', 'bundle'], 'xfrm.tar.gz');
    const r = cli('check', '--from-bundle', file, '--format', 'json', '--only', 'overlay.encryption');
    expect(r.code, r.stderr).toBe(1);
    const findings = JSON.parse(r.stdout).findings as { id: string; node: string }[];
    expect(
      findings
        .filter((f) => f.id === 'overlay.encryption.xfrm')
        .map((f) => f.node)
        .sort(),
    ).toEqual(['nd1', 'nd2', 'nd3']);
    // The analysis itself, in-process (the old regex needed minutes for this snapshot).
    const t = performance.now();
    analyse(snap, {});
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('a 1 MB bundle holding a 1000 MiB entry is refused from its header, without inflating it', async () => {
    // A valid tar header declaring 1000 MiB, then 1000 MiB of zeros, gzip-compressed (about 1 MB).
    const size = 1000 * 2 ** 20;
    const header = Buffer.alloc(512);
    new Header({ path: 'snapshot.json', mode: 0o644, size, mtime: new Date(0), type: 'File' }).encode(header);
    const gzip = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gzip.on('data', (c: Buffer) => parts.push(c));
    const done = new Promise((r) => gzip.on('end', r));
    gzip.write(header);
    const zeros = Buffer.alloc(8 * 2 ** 20);
    for (let i = 0; i < size / zeros.length; i++) gzip.write(zeros);
    gzip.end(Buffer.alloc(1024));
    await done;
    const data = Buffer.concat(parts);
    expect(data.length).toBeLessThan(1.1 * 2 ** 20);
    const file = tmp.file('big-entry.tar.gz', data);

    const { ms, err } = await readMs(file);
    expect((err as Error).message).toMatch(/entry "snapshot\.json" is 1000 MiB, larger than the 256 MiB accepted for one file/);
    expect(ms).toBeLessThan(1000);
    // The child's peak RSS, measured by GNU time: nowhere near the 1000 MiB the entry would inflate to.
    const timed = spawnSync('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, BIN, 'bundle', 'inspect', file], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(timed.status).toBe(2);
    // GNU time adds "Command exited with non-zero status 2" and its own line.
    const lines = timed.stderr
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('Command exited'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^docker netdoctor: .*big-entry\.tar\.gz is not a valid netdoctor bundle: entry "snapshot\.json" is 1000 MiB/);
    const rssKb = Number(/maxrss_kb=(\d+)/.exec(lines[1]!)![1]);
    expect(rssKb).toBeLessThan(200 * 1024);
    expectRefused(cli('check', '--from-bundle', file), /entry "snapshot\.json" is 1000 MiB/);
  });

  it('a gzip bomb under the entry cap is stopped by the ratio guard', async () => {
    const file = tmp.file('bomb.tar.gz', gzipSync(rawTar([{ path: 'snapshot.json', data: Buffer.alloc(200 * 2 ** 20) }]), { level: 9 }));
    const { ms, err } = await readMs(file);
    expect((err as Error).message).toMatch(/compression ratio over 200:1 .*refused as a gzip bomb/);
    expect(ms).toBeLessThan(1000);
    expectRefused(cli('bundle', 'inspect', file), /refused as a gzip bomb/);
  });

  it('a malformed snapshot inside a well-formed bundle is one line, exit 2 (it was a TypeError, exit 1)', async () => {
    const snap = JSON.parse(JSON.stringify(labSnapshot('healthy')));
    delete snap.nodes[1].host.interfaces;
    const file = tmp.file('malformed.tar.gz', gz(rawTar(replaced('snapshot.json', JSON.stringify(snap)))));
    const { ms, err } = await readMs(file);
    expect((err as Error).message).toMatch(/snapshot\.json is not a valid netdoctor snapshot: nodes\.1\.host\.interfaces: /);
    expect(ms).toBeLessThan(1000);
    expectRefused(cli('bundle', 'inspect', file), /snapshot\.json is not a valid netdoctor snapshot: nodes\.1\.host\.interfaces/);
    expectRefused(cli('check', '--from-bundle', file), /snapshot\.json is not a valid netdoctor snapshot: nodes\.1\.host\.interfaces/);
    const noNodes = tmp.file('nonodes.tar.gz', gz(rawTar(replaced('snapshot.json', JSON.stringify({ ...snap, nodes: [{ name: 'x' }] })))));
    expectRefused(cli('check', '--from-bundle', noNodes), /nodes\.0\.\w+: /);
  });

  it('a manifest with a wrong field type is one line, exit 2', () => {
    const files = labBundle().files.map((f) => ({ path: f.path, data: f.data }));
    const m = JSON.parse(String(files.find((f) => f.path === 'manifest.json')!.data));
    m.nodes = 'nd1';
    const file = tmp.file(
      'badmanifest.tar.gz',
      gz(rawTar(files.map((f) => (f.path === 'manifest.json' ? { path: f.path, data: JSON.stringify(m) } : f)))),
    );
    expectRefused(cli('bundle', 'inspect', file), /manifest\.json does not match the manifest schema: nodes: /);
  });
});
