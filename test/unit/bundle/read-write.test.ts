import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/bundle/read.js';
import { defaultBundleName, writeBundleFile } from '../../../src/bundle/write.js';
import { readTarGz, safeEntryPath, writeTarGz } from '../../../src/bundle/tar.js';
import { NetdoctorError } from '../../../src/errors.js';
import { analyse } from '../../../src/run/check.js';
import { SNAPSHOT_SCHEMA_VERSION } from '../../../src/snapshot/types.js';
import { gz, labBundle, labRun, rawTar, tempDir, type RawEntry } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** The entries of a good bundle, as raw tar entries we can tamper with. */
function goodEntries(): RawEntry[] {
  return labBundle().files.map((f) => ({ path: f.path, data: f.data }));
}

const manifestOf = (entries: RawEntry[]) =>
  JSON.parse(String(entries.find((e) => e.path === 'manifest.json')!.data)) as { files: Record<string, string>; bundleVersion: number };
const withManifest = (entries: RawEntry[], edit: (m: ReturnType<typeof manifestOf>) => void): RawEntry[] => {
  const m = manifestOf(entries);
  edit(m);
  return entries.map((e) => (e.path === 'manifest.json' ? { ...e, data: JSON.stringify(m) } : e));
};
const sha = (d: string | Buffer) => createHash('sha256').update(d).digest('hex');

/** readBundle must fail with exit 2 and a one-line message matching `re`. */
async function refused(file: string, re: RegExp): Promise<void> {
  const err = await readBundle(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the bundle was accepted').toBeInstanceOf(NetdoctorError);
  const e = err as NetdoctorError;
  expect(e.exitCode).toBe(2);
  expect(e.message).not.toContain('\n');
  expect(e.message).toMatch(re);
}

describe('writing and reading a bundle', () => {
  it('round-trips: manifest, snapshot, report and every file, with checksums that match', async () => {
    const b = labBundle();
    const file = join(tmp.dir, 'b.tar.gz');
    await writeBundleFile(file, b.data);
    const r = await readBundle(file);
    expect(r.manifest).toEqual(b.manifest);
    expect(r.files.size).toBe(b.files.length);
    for (const f of b.files) expect(r.files.get(f.path)).toEqual(f.data);
    for (const [path, sum] of Object.entries(r.manifest.files)) expect(sha(r.files.get(path)!)).toBe(sum);
    expect(Object.keys(r.manifest.files)).not.toContain('manifest.json');
    expect(Object.keys(r.manifest.files).length).toBe(b.files.length - 1);
    expect(r.report?.summary).toEqual(labRun().report.summary);
    expect(b.scrubbed).toEqual({});
  }, 60_000); // gzip of a whole lab bundle: seconds on a loaded 2-core machine

  it('the bundled snapshot analyses to exactly the findings of the run', async () => {
    const file = tmp.file('b.tar.gz', labBundle().data);
    const r = await readBundle(file);
    expect(analyse(r.snapshot, {})).toEqual(labRun().report.findings);
  });

  it('lays out the manifest fields, cluster API answers and one browsable file per raw section', () => {
    const b = labBundle();
    const m = b.manifest;
    expect(m).toMatchObject({
      format: 'docker-netdoctor-bundle',
      bundleVersion: 1,
      tool: { version: '0.0.0-test' },
      snapshotSchemaVersion: SNAPSHOT_SCHEMA_VERSION,
      redactIps: false,
    });
    expect(m.argv).toContain('bundle');
    expect(m.startedAt).toBe('2026-11-25T15:12:00.000Z');
    expect(m.endedAt).toBe('2026-11-25T15:12:05.000Z');
    expect(m.nodes.map((n) => n.name)).toEqual(['nd1', 'nd2', 'nd3']);
    const paths = b.files.map((f) => f.path);
    expect(paths[0]).toBe('manifest.json');
    for (const p of [
      'snapshot.json',
      'report.json',
      'report.md',
      'netdoctor.log',
      'cluster/info.json',
      'cluster/nodes.json',
      'cluster/services.json',
      'cluster/tasks.json',
      'cluster/swarm.json',
      'cluster/networks/ndnet.json',
      'cluster/networks/ingress.json',
    ]) {
      expect(paths).toContain(p);
    }
    const { snapshot } = labRun();
    const nd2 = snapshot.nodes.find((n) => n.name === 'nd2')!;
    const sb = nd2.sandboxes.find((s) => s.kind === 'overlay' && s.networkName === 'ndnet')!;
    const fdb = b.files.find((f) => f.path === `nodes/nd2/netns/${sb.name}/fdb.txt`)!;
    expect(String(fdb.data).trimEnd()).toBe(nd2.raw[`netns/${sb.name}/fdb`]!.stdout.trimEnd());
    expect(paths).toContain('nodes/nd2/host/link.txt');
    expect(paths).toContain('nodes/nd2/node.json');
    // A section that failed gets its exit status and stderr next to it.
    const failed = Object.entries(nd2.raw).find(([, s]) => s.rc !== 0)!;
    const meta = String(b.files.find((f) => f.path === `nodes/nd2/${failed[0]}.meta`)!.data);
    expect(meta).toContain(`exit: ${failed[1].rc}`);
    expect(meta).toContain(failed[1].stderr.split('\n')[0]!);
    // A clean one does not.
    expect(paths).not.toContain('nodes/nd2/host/link.meta');
  });

  it('names the default file after the cluster and the UTC start', () => {
    expect(defaultBundleName('wn6sc0188zamlzxx3kgidpw07', new Date('2026-01-31T10:04:05.678Z'))).toBe(
      'netdoctor-wn6sc0188zamlzxx3kgidpw07-20260131T100405Z.tar.gz',
    );
  });

  it('writes long paths through pax headers and reads them back', async () => {
    const long = `nodes/${'n'.repeat(120)}/netns/${'s'.repeat(120)}/fdb.txt`;
    const files = await readTarGz(writeTarGz([{ path: long, data: Buffer.from('x') }], new Date(0)), { maxBytes: 1e6, maxEntries: 10 });
    expect([...files.keys()]).toEqual([long]);
  });

  it('accepts only relative paths that stay inside', () => {
    expect(safeEntryPath('./a/b.txt')).toBe('a/b.txt');
    for (const p of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\..\\x', '', '.', 'a/..']) expect(safeEntryPath(p), p).toBeNull();
  });
});

describe('bad bundles: one line, exit 2', () => {
  it('not gzip', async () => {
    await refused(tmp.file('x.tar.gz', 'just some text'), /not gzip-compressed/);
    await refused(tmp.file('x.tar', rawTar(goodEntries())), /not gzip-compressed/);
  });

  it('a truncated download (gzip stream cut)', async () => {
    const data = labBundle().data;
    await refused(tmp.file('x.tar.gz', data.subarray(0, Math.floor(data.length / 2))), /truncated or corrupt gzip/);
  });

  it('a truncated tar inside complete gzip', async () => {
    const t = rawTar(goodEntries());
    await refused(tmp.file('a.tar.gz', gz(t.subarray(0, t.length - 4096 - 100))), /truncated|corrupt tar/);
    await refused(tmp.file('b.tar.gz', gz(rawTar(goodEntries(), false))), /truncated tar archive/);
  });

  it('gzip of something that is not a tar', async () => {
    await refused(tmp.file('x.tar.gz', gz(Buffer.concat([Buffer.alloc(1536, 'x'), Buffer.alloc(1024)]))), /corrupt tar archive/);
  });

  it('missing manifest', async () => {
    await refused(tmp.file('x.tar.gz', gz(rawTar(goodEntries().filter((e) => e.path !== 'manifest.json')))), /no manifest\.json/);
  });

  it('a manifest that is not one', async () => {
    const entries = goodEntries().map((e) => (e.path === 'manifest.json' ? { ...e, data: '{"hello":1}' } : e));
    await refused(tmp.file('a.tar.gz', gz(rawTar(entries))), /manifest\.json is not a netdoctor bundle manifest/);
    const broken = goodEntries().map((e) => (e.path === 'manifest.json' ? { ...e, data: '{not json' } : e));
    await refused(tmp.file('b.tar.gz', gz(rawTar(broken))), /manifest\.json is not valid JSON/);
  });

  it('missing snapshot', async () => {
    await refused(tmp.file('x.tar.gz', gz(rawTar(goodEntries().filter((e) => e.path !== 'snapshot.json')))), /no snapshot\.json/);
  });

  it('checksum mismatch: a file changed after the manifest was written', async () => {
    const entries = goodEntries().map((e) => (e.path === 'report.md' ? { ...e, data: `${String(e.data)}\ntampered\n` } : e));
    await refused(tmp.file('x.tar.gz', gz(rawTar(entries))), /checksum mismatch for report\.md/);
  });

  it('a file listed in the manifest is missing, or one is not listed', async () => {
    await refused(
      tmp.file('a.tar.gz', gz(rawTar(goodEntries().filter((e) => e.path !== 'report.md')))),
      /report\.md is listed in the manifest but missing/,
    );
    await refused(tmp.file('b.tar.gz', gz(rawTar([...goodEntries(), { path: 'extra.txt', data: 'x' }]))), /extra\.txt is not listed in the manifest/);
  });

  it('entries that escape the extraction folder: ../ and absolute paths', async () => {
    const dotdot = withManifest([...goodEntries(), { path: '../evil.sh', data: 'x' }], (m) => (m.files['../evil.sh'] = sha('x')));
    await refused(tmp.file('a.tar.gz', gz(rawTar(dotdot))), /"\.\.\/evil\.sh" escapes the bundle/);
    const nested = [...goodEntries(), { path: 'nodes/../../evil.sh', data: 'x' }];
    await refused(tmp.file('b.tar.gz', gz(rawTar(nested))), /escapes the bundle/);
    const abs = [...goodEntries(), { path: '/etc/cron.d/evil', data: 'x' }];
    await refused(tmp.file('c.tar.gz', gz(rawTar(abs))), /"\/etc\/cron\.d\/evil" escapes the bundle/);
  });

  it('symbolic and hard links (made by node-tar from real links)', async () => {
    const src = join(tmp.dir, 'src');
    mkdirSync(src);
    for (const e of goodEntries()) {
      mkdirSync(join(src, e.path, '..'), { recursive: true });
      writeFileSync(join(src, e.path), e.data!);
    }
    // node-tar archives the links as links, synchronously (its async packer
    // trips over a hard link to a large file: "write after end" once the
    // archive is done); zlib compresses.
    const pack = async (name: string, list: string[]) => {
      const t = join(tmp.dir, `${name}.tar`);
      tar.c({ cwd: src, file: t, portable: true, sync: true }, list);
      return tmp.file(`${name}.tar.gz`, gz(readFileSync(t)));
    };
    symlinkSync('/etc/passwd', join(src, 'passwd'));
    await refused(await pack('sym', ['manifest.json', 'snapshot.json', 'passwd']), /"passwd" is a symbolic link \(to "\/etc\/passwd"\)/);
    linkSync(join(src, 'snapshot.json'), join(src, 'snapshot-again.json'));
    await refused(
      await pack('hard', ['manifest.json', 'snapshot.json', 'snapshot-again.json']),
      /"snapshot-again\.json" is a hard link \(to "snapshot\.json"\)/,
    );
  });

  it('a node-tar archive of a real bundle folder is read like ours', async () => {
    const src = join(tmp.dir, 'src');
    for (const e of goodEntries()) {
      mkdirSync(join(src, e.path, '..'), { recursive: true });
      writeFileSync(join(src, e.path), e.data!);
    }
    await tar.c({ cwd: src, file: join(tmp.dir, 'ok.tar'), portable: true }, ['.']);
    const r = await readBundle(tmp.file('ok.tar.gz', gz(readFileSync(join(tmp.dir, 'ok.tar')))));
    expect(r.files.has('snapshot.json')).toBe(true);
  });

  it('devices and other special entries', async () => {
    const entries = [...goodEntries(), { path: 'dev', type: 'CharacterDevice' as const }];
    await refused(tmp.file('x.tar.gz', gz(rawTar(entries))), /"dev" is a CharacterDevice/);
  });

  it('duplicate entries', async () => {
    const e = goodEntries();
    await refused(tmp.file('x.tar.gz', gz(rawTar([...e, e[1]!]))), /"[^"]+" appears twice/);
  });

  it('a snapshot from a newer schema version (parseSnapshot), and a newer bundle format', async () => {
    const newer = JSON.stringify({ ...labRun().snapshot, schemaVersion: SNAPSHOT_SCHEMA_VERSION + 1 });
    const entries = withManifest(
      goodEntries().map((e) => (e.path === 'snapshot.json' ? { ...e, data: newer } : e)),
      (m) => (m.files['snapshot.json'] = sha(newer)),
    );
    await refused(tmp.file('a.tar.gz', gz(rawTar(entries))), /snapshot schema 2, newer than this netdoctor understands \(1\); upgrade/);
    await refused(tmp.file('b.tar.gz', gz(rawTar(withManifest(goodEntries(), (m) => (m.bundleVersion = 99))))), /bundle format 99, newer than/);
  });

  it('bounded: a gzip bomb is stopped at the limit, and so is a too-large file', async () => {
    const bomb = tmp.file('bomb.tar.gz', gz(Buffer.alloc(64 * 2 ** 20)));
    const err = await readBundle(bomb, { maxCompressedBytes: 2 ** 30, maxBytes: 8 * 2 ** 20, maxEntries: 100 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/larger than 8 MiB uncompressed/);
    const big = tmp.file('big.tar.gz', labBundle().data);
    const err2 = await readBundle(big, { maxCompressedBytes: 1000, maxBytes: 2 ** 30, maxEntries: 100 }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/larger than the 0 MiB accepted|MiB accepted/);
    const err3 = await readBundle(big, { maxCompressedBytes: 2 ** 30, maxBytes: 2 ** 30, maxEntries: 5 }).catch((e: unknown) => e);
    expect((err3 as Error).message).toMatch(/more than 5 entries/);
  });

  it('not a file, or no file', async () => {
    await refused(tmp.dir, /is not a file/);
    await refused(join(tmp.dir, 'nope.tar.gz'), /cannot read .*ENOENT/);
  });

  it('the bundle really is a plain gzip tar anyone can open', () => {
    const t = gunzipSync(labBundle().data);
    expect(t.subarray(257, 262).toString()).toBe('ustar');
  });
});
