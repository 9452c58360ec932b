/**
 * TRANSITIONAL: the pre-model check shape (`defineCheck(meta, run)` over the
 * snapshot, free-text drafts), wrapped as a cluster-scope check so the old
 * family files keep running while they are split into one file per check.
 * Delete this file when src/checks/{cluster,host,egress,underlay,overlay,service}.ts are gone.
 */
import type { ProbeResults } from '../probe/types.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import type { Model } from '../model/types.js';
import type { AnyCheck, Layer, Status } from './types.js';

export type { Status };

export interface CheckMeta {
  id: string;
  layer: Layer;
  title: string;
  looksAt: string;
  remediation: string;
}

export interface FindingDraft {
  status: Status;
  node?: string | null;
  peer?: string | null;
  network?: string | null;
  detail: string;
  remediation?: string;
}

export interface CheckContext {
  snapshot: ClusterSnapshot;
  probes: ProbeResults | null;
  model: Model;
}

export type Check = AnyCheck;

export function defineCheck(meta: CheckMeta, run: (ctx: CheckContext) => FindingDraft[]): AnyCheck {
  return {
    meta: { ...meta, scope: 'cluster', messages: { legacy: '{detail}' } },
    check: ({ model, report }: { model: Model; report: (s: Status, id: string, d: Record<string, string>, e: object) => void }) => {
      for (const d of run({ snapshot: model.snapshot, probes: model.probes, model })) {
        report(d.status, 'legacy', { detail: d.detail }, {
          node: d.node ?? null,
          peer: d.peer ?? null,
          network: d.network ?? null,
          ...(d.remediation !== undefined ? { remediation: d.remediation } : {}),
        });
      }
    },
  };
}
