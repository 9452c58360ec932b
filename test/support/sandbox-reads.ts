/**
 * The pinned healthy recording predates the sandbox-level reads
 * (netns/<lb>/sysctl, netns/<lb>/ipvs-timeout, host/route-get). A later lab
 * recording (test/fixtures/lab/sandbox, scripts/record-lab-fixtures.mjs
 * sandbox) has them: its sections, exactly as recorded, are given to the
 * same node and sandbox kind of the healthy recording (the lab's node
 * addresses are fixed; ingress_sbox and the lb_ sandbox read the same).
 */
import type { RawSection } from '../../src/collect/sections.js';
import type { ClusterSnapshot } from '../../src/snapshot/types.js';
import { recordedNode } from './lab-fixtures.js';

const SCENARIO = 'sandbox';

/** A section of the sandbox recording: `host/…`, or `lb/<what>` / `ingress/<what>` for the node's lb_ or ingress sandbox. */
export function recordedRead(node: string, what: string): RawSection {
  const sections = recordedNode(SCENARIO, node).sections;
  const m = /^(lb|ingress)\/(.+)$/.exec(what);
  const name = m
    ? Object.keys(sections).find((k) => (m[1] === 'lb' ? /^netns\/lb_[^/]+\// : /^netns\/ingress_sbox\//).test(k) && k.endsWith(`/${m[2]}`))
    : what;
  const s = name !== undefined ? sections[name] : undefined;
  if (!s) throw new Error(`no ${what} in the ${SCENARIO} recording of ${node}`);
  return structuredClone(s);
}

/** Give every collected node of `s` the sandbox-level sections a current collection reads. */
export function withSandboxReads(s: ClusterSnapshot): ClusterSnapshot {
  for (const n of s.nodes) {
    if (n.host === null) continue;
    n.raw['host/route-get'] = recordedRead(n.name, 'host/route-get');
    for (const sb of n.sandboxes) {
      if (sb.kind !== 'lb' && sb.kind !== 'ingress') continue;
      for (const what of ['sysctl', 'ipvs-timeout']) n.raw[`netns/${sb.name}/${what}`] = recordedRead(n.name, `${sb.kind}/${what}`);
    }
  }
  return s;
}
