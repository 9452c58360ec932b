/**
 * Bundles for the unit tests: built from the recorded lab snapshot, and
 * crafted tar.gz files (node-tar, zlib) for every way a bundle can be bad.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { analyse } from '../../../src/run/check.js';
import { buildReport, type Report } from '../../../src/report/model.js';
import { buildBundle, type BuiltBundle } from '../../../src/bundle/write.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

export const KEY = Buffer.alloc(32, 7);

export function labRun(): { snapshot: ClusterSnapshot; report: Report } {
  const snapshot = labSnapshot('healthy');
  const report = buildReport(snapshot, analyse(snapshot, {}), '0.0.0-test', new Date('2026-11-25T15:12:00Z'), 1234);
  return { snapshot, report };
}

export function labBundle(redactIps = false, log = 'run log: nd1 10.213.0.11 collected\n'): BuiltBundle {
  const { snapshot, report } = labRun();
  return buildBundle({
    snapshot,
    report,
    log,
    argv: ['-H', 'unix:///tmp/ndlab/nodes/nd1/docker.sock', 'netdoctor', 'bundle', '--node', 'nd2'],
    toolVersion: '0.0.0-test',
    startedAt: new Date('2026-11-25T15:12:00Z'),
    endedAt: new Date('2026-11-25T15:12:05Z'),
    redactIps,
    key: KEY,
  });
}

/** A private folder removed by the returned function. */
export function tempDir(): { dir: string; file: (name: string, data: Buffer | string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nd-bundle-test-'));
  return {
    dir,
    file: (name, data) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RawEntry {
  path: string;
  data?: Buffer | string;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'Directory' | 'CharacterDevice';
  linkpath?: string;
}

/** An uncompressed tar with exactly these headers (node-tar's encoder; no path cleaning). */
export function rawTar(entries: RawEntry[], end = true): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const type = e.type ?? 'File';
    const block = Buffer.alloc(512);
    new Header({
      path: e.path,
      mode: 0o644,
      size: type === 'File' ? data.length : 0,
      mtime: new Date(0),
      type,
      ...(e.linkpath ? { linkpath: e.linkpath } : {}),
    }).encode(block);
    out.push(block);
    if (type === 'File') out.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (end) out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

export const gz = (b: Buffer): Buffer => gzipSync(b);
