/**
 * Reading a support bundle back, entirely in memory and bounded (see
 * tar.ts): anything that is not a complete, untampered bundle this version
 * understands is one line and exit 2. The manifest and the snapshot are
 * validated against their schemas (valibot) before anything reads them;
 * entry names are looked up as own properties only (an entry named
 * `constructor` is not "listed" by Object.prototype).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { usageError } from '../errors.js';
import type { Report } from '../report/model.js';
import { parseSnapshot } from '../snapshot/io.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, MANIFEST, READ_LIMITS, REPORT_JSON, SNAPSHOT, type BundleManifest } from './format.js';
import { BadArchive, readTarGz, type ReadLimits } from './tar.js';
import * as v from 'valibot';
import { schemaProblem } from '../snapshot/schema.js';

const ManifestSchema = v.looseObject({
  format: v.literal(BUNDLE_FORMAT),
  bundleVersion: v.pipe(v.number(), v.integer()),
  tool: v.looseObject({ name: v.string(), version: v.string() }),
  argv: v.array(v.string()),
  startedAt: v.string(),
  endedAt: v.string(),
  clusterId: v.nullable(v.string()),
  nodes: v.array(v.looseObject({ name: v.string(), status: v.picklist(['ok', 'partial', 'unreachable', 'error']) })),
  snapshotSchemaVersion: v.number(),
  redactIps: v.boolean(),
  redaction: v.array(v.string()),
  files: v.record(v.string(), v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))),
});

export interface Bundle {
  manifest: BundleManifest;
  snapshot: ClusterSnapshot;
  /** The report of the run that made the bundle; null when absent. */
  report: Report | null;
  files: Map<string, Buffer>;
  compressedBytes: number;
  uncompressedBytes: number;
}

const bad = (file: string, why: string) => usageError(`${file} is not a valid netdoctor bundle: ${why}`);

async function readBounded(file: string, max: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw usageError(`${file} is not a file`);
    if (st.size > max) throw bad(file, `${Math.round(st.size / 2 ** 20)} MiB, larger than the ${Math.round(max / 2 ** 20)} MiB accepted`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

function parseJson<T>(file: string, name: string, data: Buffer): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch (err) {
    throw bad(file, `${name} is not valid JSON (${(err as Error).message})`);
  }
}

/** The manifest's checksums against the entries, both ways. */
function verify(file: string, manifest: BundleManifest, files: Map<string, Buffer>): void {
  for (const [path, sum] of Object.entries(manifest.files)) {
    const data = files.get(path);
    if (!data) throw bad(file, `${path} is listed in the manifest but missing`);
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== sum) throw bad(file, `checksum mismatch for ${path} (manifest ${String(sum).slice(0, 12)}…, content ${actual.slice(0, 12)}…)`);
  }
  for (const path of files.keys()) {
    if (path !== MANIFEST && !Object.hasOwn(manifest.files, path)) throw bad(file, `${path} is not listed in the manifest`);
  }
}

export async function readBundle(file: string, limits: ReadLimits & { maxCompressedBytes: number } = READ_LIMITS): Promise<Bundle> {
  const gz = await readBounded(file, limits.maxCompressedBytes);
  let files: Map<string, Buffer>;
  try {
    files = await readTarGz(gz, limits);
  } catch (err) {
    if (err instanceof BadArchive) throw bad(file, err.message);
    throw err;
  }
  const m = files.get(MANIFEST);
  if (!m) throw bad(file, `no ${MANIFEST}`);
  const manifest = parseJson<BundleManifest>(file, MANIFEST, m);
  if (
    !manifest ||
    typeof manifest !== 'object' ||
    manifest.format !== BUNDLE_FORMAT ||
    typeof manifest.files !== 'object' ||
    manifest.files === null
  ) {
    throw bad(file, `${MANIFEST} is not a netdoctor bundle manifest`);
  }
  if (typeof manifest.bundleVersion !== 'number' || manifest.bundleVersion > BUNDLE_VERSION) {
    throw usageError(
      `${file} is bundle format ${String(manifest.bundleVersion).slice(0, 40)}, newer than this netdoctor understands (${BUNDLE_VERSION}); upgrade docker-netdoctor`,
    );
  }
  const problem = schemaProblem(ManifestSchema, manifest);
  if (problem !== null) throw bad(file, `${MANIFEST} does not match the manifest schema: ${problem}`);
  const snap = files.get(SNAPSHOT);
  if (!snap) throw bad(file, `no ${SNAPSHOT}`);
  verify(file, manifest, files);
  const snapshot = parseSnapshot(snap.toString('utf8'), `${file}: ${SNAPSHOT}`);
  const r = files.get(REPORT_JSON);
  const report = r ? parseJson<Report>(file, REPORT_JSON, r) : null;
  let uncompressedBytes = 0;
  for (const d of files.values()) uncompressedBytes += d.length;
  return { manifest, snapshot, report, files, compressedBytes: gz.length, uncompressedBytes };
}
