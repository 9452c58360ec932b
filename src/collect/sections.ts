/**
 * Splitting the collection script's framed output (see script.ts) back into
 * sections, as the bytes arrive and within fixed bounds. Tolerant: a
 * truncated stream (node died, timeout) yields the complete sections plus
 * the unfinished one marked truncated.
 *
 * Bounded: a node decides how much it prints, so memory must not follow it.
 * Each section keeps at most `maxSectionBytes` (stdout and stderr lines
 * together), the whole output at most `maxTotalBytes`, text outside any
 * section at most `maxStrayBytes`; beyond, bytes are counted and dropped and
 * the section is marked truncated with the count (the others are kept). A
 * framing line (BEGIN/ERR/END) longer than `maxLineBytes` is cut there. Work
 * is linear in the bytes received (one indexOf per marker, no regex).
 */

export interface RawSection {
  /** stdout of the command, as printed (at most SplitLimits.maxSectionBytes of it). */
  stdout: string;
  /** stderr lines of the command. */
  stderr: string;
  /** Exit status; null when the stream ended before the section did. */
  rc: number | null;
  /** The section is incomplete: the stream ended inside it (rc null), or it printed more than was kept (droppedBytes). */
  truncated?: boolean;
  /** Bytes the section printed beyond the limits and that were dropped (absent when none). */
  droppedBytes?: number;
}

export interface SplitOutput {
  sections: Record<string, RawSection>;
  /** True when the script printed its final DONE line. */
  complete: boolean;
  /** Text outside any section (should be empty; kept for diagnosis). */
  stray: string;
}

export interface SplitLimits {
  /** Bytes kept per section (stdout plus stderr lines). */
  maxSectionBytes: number;
  /** Bytes kept over all sections of one node. */
  maxTotalBytes: number;
  /** Bytes of text outside sections kept. */
  maxStrayBytes: number;
  /** Longest framing line read; a longer one (a huge stderr line) is cut. */
  maxLineBytes: number;
}

export const SPLIT_LIMITS: SplitLimits = {
  maxSectionBytes: 16 * 2 ** 20,
  maxTotalBytes: 96 * 2 ** 20,
  maxStrayBytes: 64 * 2 ** 10,
  maxLineBytes: 64 * 2 ** 10,
};

interface Open {
  name: string;
  out: Buffer[];
  bytes: number;
  dropped: number;
}

const EMPTY = Buffer.alloc(0);

/** Feed chunks with push(); end() returns the sections. */
export class SectionSplitter {
  private readonly mark: Buffer;
  private readonly limits: SplitLimits;
  private pending: Buffer = EMPTY;
  /** Dropping the rest of a framing line that was longer than maxLineBytes. */
  private skipLine = false;
  private cur: Open | null = null;
  // Section names come from the node: no prototype to collide with.
  private readonly sections: Record<string, RawSection> = Object.create(null) as Record<string, RawSection>;
  private readonly errs = new Map<string, { lines: string[]; bytes: number; dropped: number }>();
  private stray: Buffer[] = [];
  private strayBytes = 0;
  private kept = 0;
  private complete = false;
  private ended = false;

  constructor(
    private readonly marker: string,
    limits: Partial<SplitLimits> = {},
    /** Told each section's name as it begins (sections arrive as the node runs the script). */
    private readonly onBegin: (name: string) => void = () => undefined,
  ) {
    this.mark = Buffer.from(marker, 'utf8');
    this.limits = { ...SPLIT_LIMITS, ...limits };
  }

  push(chunk: Buffer | string): void {
    if (this.ended) return;
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const buf = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    this.pending = EMPTY;
    this.scan(buf, false);
  }

  end(): SplitOutput {
    if (!this.ended) {
      const buf = this.pending;
      this.pending = EMPTY;
      this.scan(buf, true);
      this.ended = true;
      if (this.cur) {
        const c = this.cur;
        this.sections[c.name] = { ...this.build(c, false), rc: null, truncated: true };
        this.cur = null;
      }
    }
    return { sections: this.sections, complete: this.complete, stray: Buffer.concat(this.stray).toString('utf8').trim() };
  }

  private scan(buf: Buffer, final: boolean): void {
    const ml = this.mark.length;
    const maxLine = this.limits.maxLineBytes;
    let pos = 0;
    while (pos < buf.length) {
      if (this.skipLine) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) return;
        this.skipLine = false;
        pos = nl + 1;
        continue;
      }
      const at = buf.indexOf(this.mark, pos);
      if (at < 0) {
        // The tail may be the start of a marker: keep it for the next chunk.
        const keep = final ? buf.length : Math.max(pos, buf.length - this.markerPrefixAtEnd(buf));
        this.text(buf, pos, keep);
        if (keep < buf.length) this.pending = Buffer.from(buf.subarray(keep));
        return;
      }
      this.text(buf, pos, at);
      const hs = at + ml;
      const nl = buf.indexOf(10, hs);
      if (nl < 0 && !final && buf.length - hs <= maxLine) {
        // The framing line is not complete yet.
        this.pending = Buffer.from(buf.subarray(at));
        return;
      }
      const lineEnd = nl < 0 ? buf.length : nl;
      if (lineEnd - hs > maxLine) {
        this.head(buf.toString('utf8', hs, hs + maxLine), true);
        if (nl < 0) {
          this.skipLine = !final;
          return;
        }
      } else {
        this.head(buf.toString('utf8', hs, lineEnd), nl >= 0);
      }
      pos = nl < 0 ? buf.length : nl + 1;
    }
  }

  /** Length of the longest proper prefix of the marker that `buf` ends with (0 when none). */
  private markerPrefixAtEnd(buf: Buffer): number {
    for (let k = Math.min(this.mark.length - 1, buf.length); k > 0; k--) {
      if (buf.subarray(buf.length - k).equals(this.mark.subarray(0, k))) return k;
    }
    return 0;
  }

  /** One framing line (without the marker). `nl`: it ended with a newline. */
  private head(line: string, nl: boolean): void {
    const head = line.trim();
    const [kind, name = '', ...tail] = head.split(' ');
    if (kind === 'BEGIN') {
      this.cur = { name, out: [], bytes: 0, dropped: 0 };
      this.onBegin(name);
    } else if (kind === 'ERR') {
      // "<M> ERR <name> <line>": attribute by name, stderr is flushed before END.
      const e = this.errs.get(name) ?? { lines: [], bytes: 0, dropped: 0 };
      this.errs.set(name, e);
      const text = head.slice(`ERR ${name} `.length);
      const n = Buffer.byteLength(text) + 1;
      if (e.bytes + n <= this.limits.maxSectionBytes && this.kept + n <= this.limits.maxTotalBytes) {
        e.lines.push(text);
        e.bytes += n;
        this.kept += n;
      } else {
        e.dropped += n;
      }
    } else if (kind === 'END') {
      const c = this.cur;
      if (c && c.name === name) {
        const rc = Number.parseInt(tail[0] ?? '', 10);
        this.sections[name] = { ...this.build(c, true), rc: Number.isNaN(rc) ? null : rc };
      }
      this.cur = null;
    } else if (kind === 'DONE') {
      this.complete = true;
      this.cur = null;
    } else {
      // Not ours: the marker and the line are text.
      const t = Buffer.from(`${this.marker}${line}${nl ? '\n' : ''}`, 'utf8');
      this.text(t, 0, t.length);
    }
  }

  private build(c: Open, ended: boolean): Omit<RawSection, 'rc'> {
    const e = this.errs.get(c.name);
    this.errs.delete(c.name);
    const dropped = c.dropped + (e?.dropped ?? 0);
    let stdout = Buffer.concat(c.out).toString('utf8');
    // sec() prints a newline before END so END always starts a line; drop it again.
    if (ended && c.dropped === 0 && stdout.endsWith('\n')) stdout = stdout.slice(0, -1);
    const s: Omit<RawSection, 'rc'> = { stdout, stderr: (e?.lines ?? []).join('\n') };
    if (dropped > 0) {
      s.truncated = true;
      s.droppedBytes = dropped;
    }
    return s;
  }

  private text(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len <= 0) return;
    const c = this.cur;
    if (!c) {
      const take = Math.min(len, Math.max(0, this.limits.maxStrayBytes - this.strayBytes));
      if (take > 0) {
        this.stray.push(Buffer.from(buf.subarray(start, start + take)));
        this.strayBytes += take;
      }
      return;
    }
    const room = Math.max(0, Math.min(this.limits.maxSectionBytes - c.bytes, this.limits.maxTotalBytes - this.kept));
    const take = Math.min(len, room);
    if (take > 0) {
      c.out.push(Buffer.from(buf.subarray(start, start + take)));
      c.bytes += take;
      this.kept += take;
    }
    c.dropped += len - take;
  }
}

/** The whole output at once (recorded outputs, tests). */
export function splitSections(output: string | Buffer, marker: string, limits: Partial<SplitLimits> = {}): SplitOutput {
  const s = new SectionSplitter(marker, limits);
  s.push(output);
  return s.end();
}
