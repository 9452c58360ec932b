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

/**
 * nd1's recorded `ip -j route get` lines (one toward itself, one toward a
 * peer) rewritten for `self` and every address of the cluster: the lab's
 * single-interface nodes all print these two forms.
 */
function routeGet(self: string, all: readonly string[]): RawSection {
  const rec = recordedRead('nd1', 'host/route-get');
  const lines = rec.stdout.split('\n');
  const local = lines.find((l) => l.includes('"type":"local"'))!;
  const remote = lines.find((l) => l.startsWith('[{"dst"'))!;
  const text = all.map((a) =>
    a === self
      ? local.replaceAll('10.213.0.11', self)
      : remote.replace(/"dst":"[^"]*"/, `"dst":"${a}"`).replace(/"prefsrc":"[^"]*"/, `"prefsrc":"${self}"`),
  );
  return { ...rec, stdout: `${text.join('\n')}\n` };
}

/** Give every collected node of `s` the sandbox-level sections a current collection reads. */
export function withSandboxReads(s: ClusterSnapshot): ClusterSnapshot {
  const addrs = s.cluster.nodes.map((n) => n.advertiseAddress).filter((a): a is string => a !== null);
  for (const n of s.nodes) {
    if (n.host === null) continue;
    const self = s.cluster.nodes.find((c) => c.name === n.name)?.advertiseAddress;
    if (self) n.raw['host/route-get'] = routeGet(self, addrs);
    for (const sb of n.sandboxes) {
      if (sb.kind !== 'lb' && sb.kind !== 'ingress') continue;
      for (const what of ['sysctl', 'ipvs-timeout']) n.raw[`netns/${sb.name}/${what}`] = recordedRead('nd1', `${sb.kind}/${what}`);
    }
  }
  return s;
}
