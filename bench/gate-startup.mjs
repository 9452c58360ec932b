#!/usr/bin/env node
// What `gate --no-live` costs before it reaches the manager: whole processes
// of the built CLI with DOCKER_HOST on a socket that does not exist, so each
// run loads every module the command imports statically, reads the stack
// (`docker stack config`) and stops at exit 3. No lab needed. Interleaved
// with a bare `node -e 0`, medians reported. BENCH_BASE=<another checkout>
// runs that checkout's built CLI in the same rounds (side by side, e.g. the
// branch base built in a copy).
// Usage: node bench/gate-startup.mjs      (after npm run build; BENCH_RUNS, default 5)
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, machineLine, median, runs } from './lib.mjs';

const R = runs();
const here = fileURLToPath(new URL('..', import.meta.url));
const STACK = join(here, 'test/fixtures/stack/go.yml');
const bins = { 'this build': join(here, 'bin/docker-netdoctor') };
if (process.env.BENCH_BASE) bins[`base (${process.env.BENCH_BASE})`] = join(process.env.BENCH_BASE, 'bin/docker-netdoctor');
const env = { ...process.env, DOCKER_HOST: 'unix:///nonexistent/netdoctor-bench.sock', DOCKER_CONTEXT: '', NO_COLOR: '1', GITHUB_ACTIONS: '' };

console.log(`gate --no-live start-up benchmark: ${R} runs each, interleaved; ${machineLine()}`);
const walls = Object.fromEntries(['node -e 0', ...Object.keys(bins)].map((k) => [k, []]));
const loads = [];
for (let i = 0; i < R; i++) {
  loads.push(loadavg()[0]);
  let t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  walls['node -e 0'].push(performance.now() - t);
  for (const [name, bin] of Object.entries(bins)) {
    t = performance.now();
    const r = spawnSync(process.execPath, [bin, 'gate', '--no-live', '-c', STACK, '--stack', 'bench', '--format', 'json'], { env, encoding: 'utf8' });
    walls[name].push(performance.now() - t);
    if (r.status !== 3) {
      console.error(`${name}: expected exit 3 (no daemon), got ${r.status}: ${r.stderr}`);
      process.exit(1);
    }
  }
}
console.log(`1-minute load average at the start of each round: ${loads.map((l) => l.toFixed(1)).join(', ')}`);
console.log('| process | median wall | min–max |');
console.log('|---|---|---|');
for (const [name, ws] of Object.entries(walls)) console.log(`| \`${name}\` | ${fmt(median(ws))} | ${fmt(Math.min(...ws))}–${fmt(Math.max(...ws))} |`);
