/**
 * The support bundle on disk: one gzip tar.
 *
 *   manifest.json                      what, when, who made it; sha256 of every other entry
 *   snapshot.json                      the ClusterSnapshot (probe results included)
 *   report.json, report.md, report.html the checks' findings (buildReport); report.html opens offline
 *   netdoctor.log                      the run: stages, per-node timings and errors, warnings
 *   cluster/{info,swarm,nodes,services,tasks}.json   the manager's Engine API answers
 *   cluster/networks/<name>.json       `docker network inspect --verbose` of each swarm network
 *   nodes/<node>/node.json             how the node's collection went
 *   nodes/<node>/<section>.txt         each raw section's stdout as collected (host/…, netns/<sandbox>/…)
 *   nodes/<node>/<section>.meta        exit status and stderr, when the section failed or printed any
 *
 * Readers refuse a newer bundleVersion (and, through parseSnapshot, a newer
 * snapshot schema).
 */
import type { NodeStatus } from '../snapshot/types.js';

export const BUNDLE_FORMAT = 'docker-netdoctor-bundle';
export const BUNDLE_VERSION = 1;

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  bundleVersion: number;
  tool: { name: 'docker-netdoctor'; version: string };
  /** The command line netdoctor was given (as the docker CLI passed it). */
  argv: string[];
  /** UTC, ISO 8601. */
  startedAt: string;
  endedAt: string;
  clusterId: string | null;
  nodes: { name: string; status: NodeStatus }[];
  snapshotSchemaVersion: number;
  /** IP addresses and hostnames replaced by pseudonyms (--redact-ips). */
  redactIps: boolean;
  /** What was kept out, in words. */
  redaction: string[];
  /** sha256 (hex) of every other entry, by path. */
  files: Record<string, string>;
}

export const MANIFEST = 'manifest.json';
export const SNAPSHOT = 'snapshot.json';
export const REPORT_JSON = 'report.json';
export const REPORT_MD = 'report.md';
export const REPORT_HTML = 'report.html';
export const RUN_LOG = 'netdoctor.log';

/** Limits of what a reader accepts. */
export const READ_LIMITS = {
  /** The .tar.gz itself. */
  maxCompressedBytes: 512 * 2 ** 20,
  /** Everything in it, uncompressed. */
  maxBytes: 1024 * 2 ** 20,
  maxEntries: 200_000,
  /** One file in it, judged from its tar header before it is inflated. */
  maxEntryBytes: 256 * 2 ** 20,
  /** Compression ratio refused as a gzip bomb (once past 16 MiB inflated). */
  maxRatio: 200,
};

/** One path segment made of names we do not control (node names, sandboxes, networks). */
export function safeSegment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' || s === '.' || s === '..' ? '_' : s;
}

/** `host/link` → `host/link`, `netns/1-abc/fdb` → `netns/1-abc/fdb`, with every segment made safe. */
export const sectionPath = (section: string): string => section.split('/').map(safeSegment).join('/');

export const REDACTION_NOTES = [
  'IPsec keys: cut on the nodes (ip xfrm state, dockerd log) before anything is sent',
  'swarm join tokens and unlock keys: never collected (dropped from the swarm inspect; cut from logs on the nodes)',
  "environment values of services and tasks: replaced by <redacted> (names kept); Env arrays in dockerd's debug log: cut on the nodes",
  'logging-driver options (LogDriver.Options of services, tasks, swarm TaskDefaults; log-opts in daemon.json; --log-opt of dockerd) and values of secret-named keys: replaced by <redacted>',
  "dockerd log from journald: dockerd's own entries only (container entries left out)",
  'TLS private keys and registry credentials: never read; credentials in URLs cut',
];
