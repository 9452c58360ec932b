import { SPLIT_LIMITS, type SplitOutput } from '../collect/sections.js';
import { buildHostFacts, parseTimes } from '../parse/host.js';
import { buildSandboxes } from './sandboxes.js';
import type { CollectionError, NetworkFacts, NodeSnapshot } from './types.js';

export interface NodeCollectResult {
  name: string;
  id: string | null;
  target: NodeSnapshot['target'];
  output: SplitOutput | null;
  errors: CollectionError[];
  timings: NodeSnapshot['timings'];
  /** Local time (s) when the script started (it reads the node's clock first), to compare clocks. */
  receivedAt: number;
}

const mib = (n: number): string => (n / 2 ** 20).toFixed(n >= 10 * 2 ** 20 ? 0 : 1);

/** Turn one node's collected output into its snapshot (pure). */
export function buildNodeSnapshot(r: NodeCollectResult, networks: NetworkFacts[]): NodeSnapshot {
  if (!r.output) {
    return {
      name: r.name,
      id: r.id,
      target: r.target,
      status: r.errors.some((e) => ['connect', 'auth', 'hostkey', 'timeout'].includes(e.stage)) ? 'unreachable' : 'error',
      errors: r.errors,
      timings: r.timings,
      raw: {},
      host: null,
      sandboxes: [],
      sandboxAccess: 'none',
    };
  }
  const raw = r.output.sections;
  const errors = [...r.errors];
  if (!r.output.complete)
    errors.push({ stage: 'exec', kind: 'truncated', message: 'collection output ended early; the snapshot of this node is partial' });
  // Sections cut at the size limit (sections.ts): the node's other sections are kept and analysed.
  for (const [name, sec] of Object.entries(raw)) {
    if (sec.droppedBytes !== undefined && sec.droppedBytes > 0) {
      const kept = Buffer.byteLength(sec.stdout) + Buffer.byteLength(sec.stderr);
      errors.push({
        stage: 'exec',
        kind: 'truncated',
        message:
          `section ${name} printed ${mib(kept + sec.droppedBytes)} MiB; only its first ${mib(kept)} MiB were kept ` +
          `(at most ${mib(SPLIT_LIMITS.maxSectionBytes)} MiB per section, ${mib(SPLIT_LIMITS.maxTotalBytes)} MiB per node), so it is truncated`,
      });
    }
  }
  const access = raw['netns/access']?.stdout.trim();
  return {
    name: r.name,
    id: r.id,
    target: r.target,
    status: errors.length === 0 ? 'ok' : 'partial',
    errors,
    timings: { ...r.timings, nodeCpuMs: raw['meta/times'] ? parseTimes(raw['meta/times'].stdout) : null },
    raw,
    host: buildHostFacts(raw, r.receivedAt),
    sandboxes: buildSandboxes(raw, networks),
    sandboxAccess: access === 'dockerd-mount-ns' ? 'dockerd-mount-ns' : access === 'direct' ? 'direct' : 'none',
  };
}
