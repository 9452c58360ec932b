/**
 * Splitting the collection script's framed output (see script.ts) back into
 * sections. Pure and tolerant: a truncated stream (node died, timeout) yields
 * the complete sections plus the unfinished one marked truncated.
 */

export interface RawSection {
  /** stdout of the command, as printed. */
  stdout: string;
  /** stderr lines of the command. */
  stderr: string;
  /** Exit status; null when the stream ended before the section did. */
  rc: number | null;
  truncated?: boolean;
}

export interface SplitOutput {
  sections: Record<string, RawSection>;
  /** True when the script printed its final DONE line. */
  complete: boolean;
  /** Text outside any section (should be empty; kept for diagnosis). */
  stray: string;
}

export function splitSections(output: string, marker: string): SplitOutput {
  const sections: Record<string, RawSection> = {};
  let complete = false;
  let stray = '';
  let current: { name: string; out: string[]; err: string[] } | null = null;
  const errs = new Map<string, string[]>();

  // Split on the marker wherever it stands: a stdout without a final newline
  // leaves the next marker mid-line.
  const parts = output.split(marker);
  const pushText = (text: string) => {
    if (current) current.out.push(text);
    else stray += text;
  };
  pushText(parts[0] ?? '');
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const nl = part.indexOf('\n');
    const head = (nl === -1 ? part : part.slice(0, nl)).trim();
    const rest = nl === -1 ? '' : part.slice(nl + 1);
    const [kind, name = '', ...tail] = head.split(' ');
    if (kind === 'BEGIN') {
      current = { name, out: [], err: [] };
      pushText(rest);
    } else if (kind === 'ERR') {
      // "<M> ERR <name> <line>": attribute by name, stderr is flushed before END.
      const list = errs.get(name) ?? [];
      list.push(head.slice(`ERR ${name} `.length));
      errs.set(name, list);
      pushText(rest);
    } else if (kind === 'END') {
      if (current && current.name === name) {
        const rc = Number.parseInt(tail[0] ?? '', 10);
        let stdout = current.out.join('');
        // sec() prints a newline before END so END always starts a line; drop it again.
        if (stdout.endsWith('\n')) stdout = stdout.slice(0, -1);
        sections[name] = { stdout, stderr: (errs.get(name) ?? []).join('\n'), rc: Number.isNaN(rc) ? null : rc };
      }
      current = null;
      pushText(rest);
    } else if (kind === 'DONE') {
      complete = true;
      current = null;
    } else {
      pushText(marker + part);
    }
  }
  if (current) {
    sections[current.name] = {
      stdout: current.out.join(''),
      stderr: (errs.get(current.name) ?? []).join('\n'),
      rc: null,
      truncated: true,
    };
  }
  return { sections, complete, stray: stray.trim() };
}
