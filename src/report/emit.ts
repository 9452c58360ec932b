/** Writing a rendered report where the flags say: --output FILE, else stdout (colour only on a terminal). */
import { writeFile } from 'node:fs/promises';
import type { Report } from './model.js';
import { render, type Format } from './render.js';

export async function emitReport(report: Report, format: Format, flags: { output?: string | undefined; verbose: boolean }): Promise<void> {
  const text = render(report, format, {
    color: !flags.output && process.stdout.isTTY === true && !('NO_COLOR' in process.env),
    verbose: flags.verbose,
  });
  if (flags.output) await writeFile(flags.output, text);
  else process.stdout.write(text);
}
