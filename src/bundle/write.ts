/**
 * Building a support bundle from a finished run (pure: times and the key
 * come in): the file list, the manifest with every checksum, and the gzip
 * tar. With `redactIps`, every file goes through one pseudonymiser so the
 * renaming is the same everywhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { renderHtml } from '../report/html.js';
import { renderJson, renderMarkdown } from '../report/render.js';
import type { Report } from '../report/model.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  MANIFEST,
  REDACTION_NOTES,
  REPORT_JSON,
  REPORT_HTML,
  REPORT_MD,
  RUN_LOG,
  SNAPSHOT,
  safeSegment,
  sectionPath,
  type BundleManifest,
} from './format.js';
import { pseudonymiserFor } from './pseudonymise.js';
import { scrubFile, scrubJson, scrubText } from './secrets.js';
import { writeTarGz, type TarFile } from './tar.js';

export interface BundleInput {
  snapshot: ClusterSnapshot;
  report: Report;
  /** netdoctor.log as rendered. */
  log: string;
  argv: string[];
  toolVersion: string;
  startedAt: Date;
  endedAt: Date;
  redactIps: boolean;
  /** Pseudonymisation key (tests); random otherwise. */
  key?: Buffer;
}

export interface BuiltBundle {
  manifest: BundleManifest;
  files: TarFile[];
  /** The .tar.gz. */
  data: Buffer;
  /** Secret-looking strings the safety net cut, by kind (should be empty). */
  scrubbed: Record<string, number>;
}

type J = Record<string, unknown>;

const json = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Unique file names for networks (docker allows two with one name in some versions). */
function networkFiles(networks: unknown): TarFile[] {
  const list = Array.isArray(networks) ? (networks as J[]) : [];
  const seen = new Set<string>();
  return list.map((n) => {
    const text = (v: unknown): string => (typeof v === 'string' ? v : '');
    let name = safeSegment(text(n.Name) || text(n.Id) || 'network');
    if (seen.has(name)) name = `${name}-${safeSegment(text(n.Id).slice(0, 12))}`;
    seen.add(name);
    return { path: `cluster/networks/${name}.json`, data: json(n) };
  });
}

function nodeFiles(snapshot: ClusterSnapshot): TarFile[] {
  const out: TarFile[] = [];
  const dirs = new Set<string>();
  for (const n of snapshot.nodes) {
    let dir = `nodes/${safeSegment(n.name)}`;
    if (dirs.has(dir)) dir = `${dir}-${safeSegment(n.id ?? String(dirs.size))}`;
    dirs.add(dir);
    out.push({
      path: `${dir}/node.json`,
      data: json({
        name: n.name,
        id: n.id,
        target: n.target,
        status: n.status,
        errors: n.errors,
        timings: n.timings,
        sandboxAccess: n.sandboxAccess,
      }),
    });
    for (const [name, s] of Object.entries(n.raw).sort(([a], [b]) => a.localeCompare(b))) {
      const base = `${dir}/${sectionPath(name)}`;
      out.push({ path: `${base}.txt`, data: Buffer.from(s.stdout === '' || s.stdout.endsWith('\n') ? s.stdout : `${s.stdout}\n`) });
      if (s.rc !== 0 || s.stderr !== '' || s.truncated) {
        const meta = [
          `section: ${name}`,
          `node: ${n.name}`,
          `exit: ${s.rc === null ? 'none (the output ended before the section did)' : s.rc}`,
          ...(s.truncated ? [`truncated: yes${s.droppedBytes ? ` (${s.droppedBytes} bytes beyond the per-section limit were dropped)` : ''}`] : []),
          ...(s.stderr !== '' ? ['stderr:', ...s.stderr.split('\n').map((l) => `  ${l}`)] : []),
        ];
        out.push({ path: `${base}.meta`, data: Buffer.from(`${meta.join('\n')}\n`) });
      }
    }
  }
  return out;
}

export function buildBundle(input: BundleInput): BuiltBundle {
  const hits: Record<string, number> = {};
  let snapshot = scrubJson(input.snapshot, hits).value;
  let report = scrubJson(input.report, hits).value;
  let log = scrubText(input.log, hits).text;
  let argv = input.argv.map((a) => scrubText(a, hits).text);
  const redactIps = input.redactIps === true;
  if (redactIps) {
    // Names come from the unredacted snapshot; one pseudonymiser for every file.
    const p = pseudonymiserFor(input.snapshot, input.key, input.argv);
    snapshot = p.json(snapshot);
    report = p.json(report);
    log = p.text(log);
    argv = argv.map((a) => p.text(a));
  }
  const raw = snapshot.cluster.raw;
  const rendered: TarFile[] = [
    { path: REPORT_MD, data: Buffer.from(renderMarkdown(report)) },
    { path: REPORT_HTML, data: Buffer.from(renderHtml(report)) },
    { path: REPORT_JSON, data: Buffer.from(renderJson(report)) },
    { path: SNAPSHOT, data: json(snapshot) },
    { path: RUN_LOG, data: Buffer.from(log) },
    { path: 'cluster/info.json', data: json(raw.info) },
    { path: 'cluster/swarm.json', data: json(raw.swarm) },
    { path: 'cluster/nodes.json', data: json(raw.nodes) },
    { path: 'cluster/services.json', data: json(raw.services) },
    { path: 'cluster/tasks.json', data: json(raw.tasks) },
    ...networkFiles(raw.networks),
    ...nodeFiles(snapshot),
  ];
  // The last scan, over every file exactly as it will be written (after the
  // renaming, which could join what a rule looks for): the same rules as the
  // node's sed, plus the key-based ones for JSON (bundle/secrets.ts).
  const files = rendered.map((f) => ({ ...f, data: scrubFile(f.path, f.data, hits) }));
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    bundleVersion: BUNDLE_VERSION,
    tool: { name: 'docker-netdoctor', version: input.toolVersion },
    argv,
    startedAt: input.startedAt.toISOString(),
    endedAt: input.endedAt.toISOString(),
    clusterId: snapshot.cluster.swarmId,
    nodes: snapshot.nodes.map((n) => ({ name: n.name, status: n.status })),
    snapshotSchemaVersion: snapshot.schemaVersion,
    redactIps,
    redaction: [
      ...REDACTION_NOTES,
      ...(redactIps ? ['IP addresses, Docker MACs and hostnames: replaced by pseudonyms (prefix-preserving for IPv4)'] : []),
    ],
    files: Object.fromEntries(files.map((f) => [f.path, sha256(f.data)])),
  };
  const all = [{ path: MANIFEST, data: json(manifest) }, ...files];
  return { manifest, files: all, data: writeTarGz(all, input.endedAt), scrubbed: hits };
}

/** Write next to the target and rename, so a reader never sees half a bundle. */
export async function writeBundleFile(file: string, data: Buffer): Promise<void> {
  const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.netdoctor-bundle.tmp`);
  try {
    await writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** netdoctor-<cluster id>-<UTC yyyymmddThhmmssZ>.tar.gz */
export function defaultBundleName(clusterId: string | null, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `netdoctor-${safeSegment(clusterId ?? 'unknown')}-${stamp}.tar.gz`;
}
