#!/usr/bin/env node
// What the ESP probe (encrypted overlays) adds to the probe stage, side by
// side on the same lab state: it creates an encrypted overlay with a task on
// every node, collects once, then runs the probe stage in process
// (src/probe/run.ts observeProbes) BENCH_RUNS times each way, interleaved:
// with ESP planned between the nodes (what `check` does) and with no ESP pair
// (espGroups: []). Both arms ping over the encrypted overlay alike (on the
// XFRM-less lab those pings wait out the probe timeout), so the difference is
// the ESP packets and their share of the capture. Removes what it created.
// Usage: npm run build && node bench/esp.mjs      (as root, lab up)
import { execFileSync } from 'node:child_process';
import { observeProbes } from '../dist/probe/run.js';
import { probeResults } from '../dist/probe/verdict.js';
import { collectLab, fmt, labState, machineLine, median, runs, sleep } from './lib.mjs';

const lab = labState();
const R = runs();
const manager = lab.nodes.find((n) => n.role === 'manager');
const docker = (args) => execFileSync('docker', ['-H', `unix://${manager.dockerSocket}`, ...args], { encoding: 'utf8' });
const NET = 'ndbenchesp';
const SVC = 'ndbenchespsvc';
const n = lab.nodes.length;

docker(['network', 'create', '-d', 'overlay', '--opt', 'encrypted', NET]);
docker(
  ['service', 'create', '--detach', '--quiet', '--name', SVC, '--replicas', String(n), '--replicas-max-per-node', '1'].concat([
    '--network',
    NET,
    '--no-resolve-image',
    lab.image ?? 'ndlab/busybox:latest',
    'sleep',
    '86400',
  ]),
);
try {
  for (let i = 0; i < 60; i++) {
    const ps = docker(['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', SVC]);
    if (ps.split('\n').filter((l) => l.startsWith('Running')).length === n) break;
    await sleep(1000);
  }
  const { snapshot, sessions } = await collectLab(lab);
  const times = { esp: [], none: [] };
  let espPairs = 0;
  try {
    for (let i = 0; i < R; i++) {
      for (const arm of ['esp', 'none']) {
        const obs = await observeProbes(snapshot, sessions, { timeoutSec: 2, ...(arm === 'none' ? { espGroups: [] } : {}) });
        times[arm].push(obs.durationMs);
        if (arm === 'esp') espPairs = probeResults(snapshot, obs).ports.filter((p) => p.purpose === 'esp' && p.state === 'ok').length;
      }
    }
  } finally {
    for (const s of sessions.values()) s.close();
  }
  console.log(machineLine());
  console.log(`probe stage, ${n}-node lab with an encrypted overlay on every node, ${R} runs each, interleaved (median):`);
  console.log(`  with ESP (${espPairs} ordered pairs ok)  ${fmt(median(times.esp))}   [${times.esp.join(', ')} ms]`);
  console.log(`  without ESP pairs        ${fmt(median(times.none))}   [${times.none.join(', ')} ms]`);
} finally {
  docker(['service', 'rm', SVC]);
  for (let i = 0; i < 30; i++) {
    try {
      docker(['network', 'rm', NET]);
      break;
    } catch {
      await sleep(1000);
    }
  }
}
process.exit(0);
