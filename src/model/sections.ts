/**
 * Reading raw sections into the model: a section's state without its text,
 * why it cannot be used, and iptables dumps parsed once with their warnings.
 * Only src/model/ reads `raw`.
 */
import type { RawSection } from '../collect/sections.js';
import { parseIptablesSave, type IptablesDump } from '../parse/iptables.js';
import type { Read, SectionState } from './types.js';

export const firstLine = (s: string): string =>
  s
    .split('\n')
    .find((l) => l.trim() !== '')
    ?.trim() ?? '';

export function sectionState(s: RawSection): SectionState {
  return { ok: s.rc === 0, rc: s.rc, firstError: firstLine(s.stderr), truncated: s.truncated === true };
}

/** Why a section cannot be used, in the node's own words: null when it was read fine. */
export function sectionProblem(s: RawSection | undefined, what: string): string | null {
  if (!s) return `${what} was not collected`;
  if (s.rc === 0) return null;
  return `${what} failed (exit ${s.rc ?? 'none'}: ${firstLine(s.stderr) || 'no message'})`;
}

/** A section's text when it was read fine, or why it cannot be used. */
export function readSection<T>(s: RawSection | undefined, what: string, parse: (text: string) => { value: T; warnings: string[] }): Read<T> {
  const problem = sectionProblem(s, what);
  if (problem !== null || s === undefined) return { ok: false, problem: problem ?? `${what} was not collected` };
  return { ok: true, ...parse(s.stdout) };
}

/** An iptables-save section parsed, with its parser warnings, or why it cannot be read. */
export const readDump = (s: RawSection | undefined, what: string): Read<IptablesDump> =>
  readSection(s, what, (text) => {
    const dump = parseIptablesSave(text);
    return { value: dump, warnings: dump.warnings };
  });
