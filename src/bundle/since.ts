/**
 * `bundle --since`: a duration back from now (`90s`, `30m`, `2h`, `1d`,
 * `1h30m`), a date or date-time (`2026-01-31`, `2026-01-31T10:00:00Z`,
 * `2026-01-31 10:00`; without a zone: UTC), or `@<seconds since the epoch>`.
 * Resolved here to seconds since the epoch, so only a number reaches the
 * node script.
 */
import { usageError } from '../errors.js';

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseSince(text: string, now: Date = new Date()): number {
  const t = text.trim();
  const epoch = /^@(\d+)$/.exec(t);
  if (epoch) return Number(epoch[1]);
  if (/^(\d+[smhdw])+$/.test(t)) {
    let secs = 0;
    for (const m of t.matchAll(/(\d+)([smhdw])/g)) secs += Number(m[1]) * UNIT[m[2]!]!;
    return Math.floor(now.getTime() / 1000) - secs;
  }
  const dt = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (dt) {
    const zone = dt[3] ?? 'Z';
    const ms = Date.parse(`${dt[1]}T${dt[2] ?? '00:00:00'}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  throw usageError(
    `--since ${JSON.stringify(text)}: expected a duration (30m, 2h, 1d), a date or time (2026-01-31, 2026-01-31T10:00:00Z) or @<epoch seconds>`,
  );
}
