#!/usr/bin/env node
// Collection benchmark (issue: collect). On the lab:
//  1. each node alone, then all nodes together, BENCH_RUNS times each: medians
//     of wall time, and the ratio total / slowest single node (target <= 1.5);
//  2. per-node cost: connect, exec, node-side CPU (target < 0.5 s) and TCP
//     connections per node (target: 1);
//  3. fan-out over the SSH-only lab nodes (`npm run lab -- ssh-nodes up 30`),
//     when present: wall time for 1, 10 and all of them.
// Usage: node bench/collect.mjs      (after npm run build, as root, lab up)
import Dockerode from 'dockerode';
import { collectClusterFacts, collectNode } from '../dist/collect/collect.js';
import { resolveTargets } from '../dist/ssh/config.js';
import { buildNodeSnapshot } from '../dist/snapshot/node.js';
import { fmt, labState, median, runs } from './lib.mjs';

const lab = labState();
const manager = lab.nodes.find((n) => n.role === 'manager');
const docker = new Dockerode({ socketPath: manager.dockerSocket });
const facts = await collectClusterFacts(docker);
const sshOpts = { identity: lab.sshKey, knownHostsFile: lab.knownHosts, sshConfigFile: 'none', user: 'root' };
const opts = { ssh: sshOpts, concurrency: 64, connectTimeoutMs: 10_000, nodeTimeoutMs: 60_000 };

async function collectAll(nodes, f = facts) {
  const targets = await resolveTargets(nodes, sshOpts);
  const t = performance.now();
  const results = await Promise.all(targets.map((tg) => collectNode(tg, null, f, opts)));
  const wall = performance.now() - t;
  return { wall, snaps: results.map((r) => buildNodeSnapshot(r, f.networks)) };
}

console.log(`collect benchmark: ${lab.nodes.length}-node lab, ${runs()} runs each (medians)`);
const single = {};
for (const n of facts.nodes) {
  const walls = [];
  for (let i = 0; i < runs(); i++) walls.push((await collectAll([n])).wall);
  single[n.name] = median(walls);
}
const totals = [];
const perNode = {};
for (let i = 0; i < runs(); i++) {
  const { wall, snaps } = await collectAll(facts.nodes);
  totals.push(wall);
  for (const s of snaps) {
    if (s.status !== 'ok') throw new Error(`${s.name}: ${s.errors.map((e) => e.message).join('; ')}`);
    (perNode[s.name] ??= []).push(s.timings);
  }
}
console.log('\nnode   alone(wall)  connect   exec      node CPU  connections');
for (const n of facts.nodes) {
  const t = perNode[n.name];
  console.log(
    `${n.name.padEnd(6)} ${fmt(single[n.name]).padEnd(12)} ${fmt(median(t.map((x) => x.connectMs))).padEnd(9)} ${fmt(median(t.map((x) => x.execMs))).padEnd(9)} ${fmt(median(t.map((x) => x.nodeCpuMs ?? NaN))).padEnd(9)} 1`,
  );
}
const slowest = Math.max(...Object.values(single));
const total = median(totals);
console.log(`\nall ${facts.nodes.length} nodes together: ${fmt(total)}; slowest node alone: ${fmt(slowest)}; ratio ${(total / slowest).toFixed(2)} (target <= 1.5)`);

// Fan-out over SSH-only nodes (no dockerd): the same script, the same SSH path.
if (Array.isArray(lab.sshNodes) && lab.sshNodes.length > 0) {
  const ssh = lab.sshNodes.map((n) => ({ name: n.name, sshAddress: n.ip }));
  const empty = { ...facts, networks: [] };
  console.log(`\nfan-out over ${ssh.length} SSH-only lab nodes (${runs()} runs, medians):`);
  const sizes = [1, Math.min(10, ssh.length), ssh.length].filter((v, i, a) => a.indexOf(v) === i);
  const base = {};
  for (const k of sizes) {
    const walls = [];
    let maxAlone = 0;
    for (let i = 0; i < runs(); i++) {
      const { wall, snaps } = await collectAll(ssh.slice(0, k), empty);
      const bad = snaps.filter((s) => s.status !== 'ok' && s.status !== 'partial');
      if (bad.length) throw new Error(`${bad[0].name}: ${bad[0].errors.map((e) => e.message).join('; ')}`);
      walls.push(wall);
      maxAlone = Math.max(maxAlone, ...snaps.map((s) => s.timings.totalMs));
    }
    base[k] = median(walls);
    console.log(`  ${String(k).padStart(3)} nodes: ${fmt(base[k])}  (${(base[k] / base[1]).toFixed(2)}× one node)`);
  }
}
process.exit(0);
