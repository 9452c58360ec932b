/**
 * The control-plane recordings (scripts/record-lab-fixtures.mjs on the lab):
 * `ctlplane` a healthy 3-node lab; `ctlplane-ipam` a /29 overlay `tiny` with
 * 8 replicas of `crowd` (the ones without an address left in NEW);
 * `ctlplane-diverged` tcp+udp/7946 dropped on nd3, then a service `late`
 * placed off nd3 (nd3's NetworkDB never hears of it). Each snapshot's start
 * time is the recording's (the manager's clock), so task ages are real.
 */
import type { ClusterSnapshot, NodeSnapshot } from '../../../../src/snapshot/types.js';
import { labSnapshot } from '../../../support/lab-fixtures.js';

const RECORDED = new Map<string, ClusterSnapshot>();

export function recording(name: 'ctlplane' | 'ctlplane-ipam' | 'ctlplane-diverged' | 'ctlplane-rollout'): ClusterSnapshot {
  let s = RECORDED.get(name);
  if (!s) {
    s = labSnapshot(name);
    const clock = Number.parseFloat(s.nodes[0]!.raw['host/clock']?.stdout ?? '');
    if (Number.isFinite(clock)) s.startedAt = new Date(clock * 1000).toISOString();
    RECORDED.set(name, s);
  }
  return structuredClone(s);
}

export const nodeIn = (s: ClusterSnapshot, name: string): NodeSnapshot => s.nodes.find((n) => n.name === name)!;

/** Replace text in a node's raw section (a node printing something else). */
export function editSection(s: ClusterSnapshot, node: string, section: string, edit: (text: string) => string): ClusterSnapshot {
  const sec = nodeIn(s, node).raw[section]!;
  sec.stdout = edit(sec.stdout);
  return s;
}
