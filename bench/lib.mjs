// Shared helpers for the benchmark scripts (plain ESM on the built dist/).
import { readFileSync } from 'node:fs';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;

export function labState(dir = process.env.ND_LAB_DIR ?? '/tmp/ndlab') {
  try {
    return JSON.parse(readFileSync(`${dir}/lab.json`, 'utf8'));
  } catch {
    console.error(`no lab at ${dir}: run "npm run lab -- up" first (root)`);
    process.exit(2);
  }
}

export const runs = () => Number(process.env.BENCH_RUNS ?? 5);
