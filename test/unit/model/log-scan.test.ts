/**
 * log.ts scan() finds signature lines by searching each signature's anchors
 * in the whole text; this holds it equal to the plain reading it replaced
 * (every non-blank line, cut at lineChars, up to the line limit, against
 * every signature) on the lab's recorded collections (dockerd's and the
 * kernel's real lines among everything else a node prints) and on the
 * edges: lines over the cut, blank lines, the line limit, an anchor twice
 * on a line, a line without a trailing newline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_SIGNATURES, type LogSignature } from '../../../src/model/log-signatures.js';
import { LOG_LIMITS, matches, scan } from '../../../src/model/log.js';

/** The reading scan() replaced, as it was. */
function plainScan(text: string, source: LogSignature['source']): { hits: { key: string; line: string }[]; lines: number } {
  const sigs = LOG_SIGNATURES.filter((s) => s.source === source);
  const hits: { key: string; line: string }[] = [];
  let n = 0;
  let from = 0;
  while (from < text.length && n < LOG_LIMITS.lines) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    const line = text.slice(from, Math.min(to, from + LOG_LIMITS.lineChars));
    from = to + 1;
    if (line.trim() === '') continue;
    n++;
    for (const sig of sigs) if (matches(line, sig)) hits.push({ key: sig.key, line });
  }
  return { hits, lines: n };
}

const both = (text: string, source: LogSignature['source']) => {
  const r = scan(text, source);
  return [{ hits: r.hits.map((h) => ({ key: h.sig.key, line: h.line })), lines: r.lines }, plainScan(text, source)];
};

const FIX = join(import.meta.dirname, '../../fixtures/lab');
const recorded = readdirSync(FIX, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(FIX, d.name))
      .filter((f) => f.endsWith('.txt'))
      .map((f) => join(FIX, d.name, f)),
  );

/** One real line per signature, from the catalogue's own examples in log.test.ts's form. */
const lineFor = (sig: LogSignature): string => {
  const parts = sig.all.length > 0 ? [...sig.all] : [sig.any![0]!];
  if (sig.all.length > 0 && sig.any) parts.push(sig.any[0]!);
  if (sig.value) parts.push(`${sig.value.after}${sig.value.min + 1}`);
  return `time="2026-11-30T03:00:00Z" level=warning msg="${parts.join(' x ')}"`;
};

describe('log scan: anchors searched in the text, equal to reading every line', () => {
  it('every signature has an anchor (the first of `all`, else `any`): one without would never be searched', () => {
    for (const s of LOG_SIGNATURES) expect(s.all.length > 0 || (s.any?.length ?? 0) > 0, s.key).toBe(true);
  });

  it(`on the lab's ${recorded.length} recorded collections, dockerd and kernel signatures`, () => {
    expect(recorded.length).toBeGreaterThan(10);
    let hits = 0;
    for (const f of recorded) {
      const text = readFileSync(f, 'utf8');
      for (const src of ['dockerd', 'kernel'] as const) {
        const [got, want] = both(text, src);
        expect(got, `${f} ${src}`).toEqual(want);
        hits += want!.hits.length;
      }
    }
    expect(hits).toBeGreaterThan(0);
  });

  it('every signature, among noise, blank lines, a line over the cut and an anchor twice on one line', () => {
    const lines: string[] = [];
    for (const sig of LOG_SIGNATURES) {
      const l = lineFor(sig);
      lines.push('level=info msg="nothing to see"', '', '   ', l, `${l} ${l}`);
      // The anchor past the cut: not a hit; before the cut with the rest past it: as plain reading says.
      lines.push(`${'y'.repeat(LOG_LIMITS.lineChars)}${l}`, `${l}${'z'.repeat(LOG_LIMITS.lineChars)}`);
      lines.push(`${'w'.repeat(LOG_LIMITS.lineChars - 10)}${l}`);
    }
    for (const tail of ['\n', '']) {
      const text = lines.join('\n') + tail;
      for (const src of ['dockerd', 'kernel'] as const) {
        const [got, want] = both(text, src);
        expect(got).toEqual(want);
      }
      const [got] = both(text, 'dockerd');
      expect(got!.hits.length).toBeGreaterThan(LOG_SIGNATURES.filter((s) => s.source === 'dockerd').length);
    }
  });

  it('stops where plain reading stops: after LOG_LIMITS.lines non-blank lines', () => {
    const sig = LOG_SIGNATURES.find((s) => s.source === 'dockerd')!;
    const l = lineFor(sig);
    // LOG_LIMITS.lines - 1 non-blank lines with blank ones among them, then the signature's line twice.
    const noise = Array.from({ length: LOG_LIMITS.lines - 1 }, (_, i) => (i % 3 === 0 ? `noise ${i}\n` : `noise ${i}`));
    const text = `${noise.join('\n')}\n${l}\n${l}\n`;
    const [got, want] = both(text, 'dockerd');
    expect(got).toEqual(want);
    expect(want!.lines).toBe(LOG_LIMITS.lines);
    expect(want!.hits.filter((h) => h.key === sig.key)).toHaveLength(1);
  });
});
