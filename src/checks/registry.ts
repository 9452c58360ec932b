/**
 * The check registry: every check family's list, concatenated, with a guard
 * against duplicate ids. Selection by id, id prefix or layer (--only/--skip).
 */
import { usageError } from '../errors.js';
import { clusterLayer } from './cluster/index.js';
import { hostLayer } from './host/index.js';
import { logLayer } from './log/index.js';
import { overlayLayer } from './overlay/index.js';
import { serviceLayer } from './service/index.js';
import { stackLayer } from './stack/index.js';
import { underlayLayer } from './underlay/index.js';
import { LAYERS, type AnyCheck as Check } from './types.js';

export function buildRegistry(families: readonly (readonly Check[])[]): readonly Check[] {
  const seen = new Set<string>();
  const all: Check[] = [];
  for (const family of families) {
    for (const c of family) {
      if (seen.has(c.meta.id)) throw new Error(`duplicate check id ${c.meta.id}`);
      seen.add(c.meta.id);
      all.push(c);
    }
  }
  return all;
}

/** Every check, layer by layer in report order (src/checks/<layer>/index.ts). */
export const REGISTRY: readonly Check[] = buildRegistry([clusterLayer, hostLayer, underlayLayer, overlayLayer, serviceLayer, logLayer, stackLayer]);

export interface Selection {
  /** ids, id prefixes (`overlay.fdb`) or layers (`overlay`) to run; all when empty. */
  only?: string[];
  skip?: string[];
  networks?: string[];
  nodes?: string[];
  /** A gate run: the stack layer's checks run too (they need a stack). */
  stack?: boolean;
}

const matches = (id: string, pattern: string): boolean => id === pattern || id.startsWith(`${pattern}.`);

export function selectChecks(sel: Selection, registry: readonly Check[] = REGISTRY): Check[] {
  for (const p of [...(sel.only ?? []), ...(sel.skip ?? [])]) {
    if (!registry.some((c) => matches(c.meta.id, p)) && !(LAYERS as readonly string[]).includes(p)) {
      throw usageError(`no check matches "${p}"; see docker netdoctor checks for the catalogue`);
    }
  }
  return registry.filter(
    (c) =>
      (c.meta.layer !== 'stack' || sel.stack === true) &&
      (!sel.only?.length || sel.only.some((p) => matches(c.meta.id, p))) &&
      !(sel.skip ?? []).some((p) => matches(c.meta.id, p)),
  );
}
